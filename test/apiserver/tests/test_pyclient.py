"""Drives the test API server with Debian's python3-kubernetes (a client no one here wrote):
typed and custom-object CRUD, lists with selectors and paging, and watches."""

import json
import sys
import threading
import time
import unittest

try:
    import kubernetes
    from kubernetes import client, watch
except ImportError:  # a client test that cannot run fails rather than skips
    print("FAIL: python3-kubernetes is not installed (apt-get install python3-kubernetes)")
    sys.exit(1)

from kubetest import ServerTest

GROUP, VERSION = "coil.cybozu.com", "v2"


class PythonClient(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conf = client.Configuration()
        conf.host = "http://127.0.0.1:%d" % cls.port
        cls.api_client = client.ApiClient(conf)
        cls.core = client.CoreV1Api(cls.api_client)
        cls.custom = client.CustomObjectsApi(cls.api_client)
        cls.crds = client.ApiextensionsV1Api(cls.api_client)

    @classmethod
    def tearDownClass(cls):
        cls.api_client.close()
        super().tearDownClass()

    def test_typed_crud_and_selectors(self):
        for i in range(5):
            node = client.V1Node(metadata=client.V1ObjectMeta(
                name="pn%d" % i, labels={"zone": "a" if i < 3 else "b"}))
            self.core.create_node(node)
        nodes = self.core.list_node(label_selector="zone=a")
        self.assertEqual([n.metadata.name for n in nodes.items], ["pn0", "pn1", "pn2"])
        page = self.core.list_node(limit=2)
        self.assertEqual(len(page.items), 2)
        self.assertTrue(page.metadata._continue)
        rest = self.core.list_node(limit=10, _continue=page.metadata._continue)
        self.assertEqual(len(rest.items), 3)
        got = self.core.read_node("pn1")
        self.assertEqual(got.metadata.labels, {"zone": "a"})
        got.metadata.labels["extra"] = "1"
        upd = self.core.replace_node("pn1", got)
        self.assertEqual(upd.metadata.labels["extra"], "1")
        with self.assertRaises(client.exceptions.ApiException) as cm:
            self.core.replace_node("pn1", got)  # stale resourceVersion
        self.assertEqual(cm.exception.status, 409)
        with self.assertRaises(client.exceptions.ApiException) as cm:
            self.core.read_node("missing")
        self.assertEqual(cm.exception.status, 404)

        pod = client.V1Pod(metadata=client.V1ObjectMeta(name="pp"),
                           spec=client.V1PodSpec(node_name="pn3",
                                                 containers=[client.V1Container(name="c")]))
        self.core.create_namespaced_pod("default", pod)
        pods = self.core.list_namespaced_pod("default", field_selector="spec.nodeName=pn3")
        self.assertEqual([p.status.phase for p in pods.items], ["Pending"])
        self.core.delete_namespaced_pod("pp", "default")

    def test_crd_objects(self):
        crd = self.crds.read_custom_resource_definition("addresspools.coil.cybozu.com")
        self.assertEqual(crd.spec.names.kind, "AddressPool")
        self.assertTrue(any(c.type == "Established" and c.status == "True"
                            for c in crd.status.conditions))
        body = {"apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
                "metadata": {"name": "py"}, "spec": {"subnets": [{"ipv4": "10.9.0.0/16"}]}}
        created = self.custom.create_cluster_custom_object(GROUP, VERSION, "addresspools", body)
        self.assertEqual(created["spec"]["blockSizeBits"], 5)
        patched = self.custom.patch_cluster_custom_object(
            GROUP, VERSION, "addresspools", "py", {"metadata": {"labels": {"p": "y"}}})
        self.assertEqual(patched["metadata"]["labels"], {"p": "y"})
        lst = self.custom.list_cluster_custom_object(GROUP, VERSION, "addresspools",
                                                     label_selector="p=y")
        self.assertEqual([o["metadata"]["name"] for o in lst["items"]], ["py"])
        eg = {"apiVersion": "coil.cybozu.com/v2", "kind": "Egress",
              "metadata": {"name": "pyeg"}, "spec": {"destinations": ["0.0.0.0/0"]}}
        self.custom.create_namespaced_custom_object(GROUP, VERSION, "default", "egresses", eg)
        status = self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, "default", "egresses", "pyeg", {"status": {"replicas": 1}})
        self.assertEqual(status["status"], {"replicas": 1})
        scale = self.custom.get_namespaced_custom_object_scale(GROUP, VERSION, "default",
                                                               "egresses", "pyeg")
        self.assertEqual(scale["spec"]["replicas"], 1)
        with self.assertRaises(client.exceptions.ApiException) as cm:
            self.custom.create_cluster_custom_object(GROUP, VERSION, "addresspools", {
                "apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
                "metadata": {"name": "bad"}, "spec": {"subnets": []}})
        self.assertEqual(cm.exception.status, 422)

    def _watch_in_thread(self, func, *args, **kw):
        events = []
        w = watch.Watch()

        def run():
            try:
                for ev in w.stream(func, *args, **kw):
                    events.append(ev)
            except Exception as e:  # the server is killed under a stopped watch at the end
                if not stopped:
                    events.append({"type": "EXCEPTION", "object": e})
        stopped = []
        w.stop = lambda stop=w.stop: (stopped.append(1), stop())
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return w, t, events

    def test_watch_typed(self):
        rv = self.core.list_namespace().metadata.resource_version
        w, t, events = self._watch_in_thread(self.core.list_namespace, resource_version=rv,
                                             timeout_seconds=5)
        time.sleep(0.3)
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="pyw")))
        self.core.patch_namespace("pyw", {"metadata": {"labels": {"a": "b"}}})
        self.wait_for(lambda: len(events) >= 2, msg="namespace events")
        w.stop()
        self.assertEqual([e["type"] for e in events[:2]], ["ADDED", "MODIFIED"])
        self.assertIsInstance(events[0]["object"], client.V1Namespace)
        self.assertEqual(events[1]["object"].metadata.labels["a"], "b")

    def test_watch_custom_objects(self):
        lst = self.custom.list_cluster_custom_object(GROUP, VERSION, "addressblocks")
        rv = lst["metadata"]["resourceVersion"]
        w, t, events = self._watch_in_thread(
            self.custom.list_cluster_custom_object, GROUP, VERSION, "addressblocks",
            resource_version=rv, timeout_seconds=5)
        time.sleep(0.3)
        blk = {"apiVersion": "coil.cybozu.com/v2", "kind": "AddressBlock",
               "metadata": {"name": "py-0"}, "index": 0, "ipv4": "10.9.0.0/27"}
        self.custom.create_cluster_custom_object(GROUP, VERSION, "addressblocks", blk)
        self.custom.delete_cluster_custom_object(GROUP, VERSION, "addressblocks", "py-0")
        self.wait_for(lambda: len(events) >= 2, msg="block events")
        w.stop()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events[:2]],
                         [("ADDED", "py-0"), ("DELETED", "py-0")])

    def test_service_account_token_and_forbidden(self):
        """A TokenRequest through the typed API, then the token's user under RBAC: allowed
        calls work, a missing verb is ApiException 403 with the real server's Status."""
        self.core.create_namespaced_service_account(
            "default", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="pyrobot")))
        rbac = client.RbacAuthorizationV1Api(self.api_client)
        rbac.create_cluster_role(client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name="pyrobot"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["nodes"], verbs=["list"])]))
        rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name="pyrobot"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io",
                                      kind="ClusterRole", name="pyrobot"),
            subjects=[client.V1Subject(kind="ServiceAccount", name="pyrobot",
                                       namespace="default")]))
        tr = self.core.create_namespaced_service_account_token(
            "pyrobot", "default", client.AuthenticationV1TokenRequest(
                spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)))
        self.assertTrue(tr.status.token)
        conf = client.Configuration()
        conf.host = "http://127.0.0.1:%d" % self.port
        conf.api_key = {"authorization": "Bearer " + tr.status.token}
        with client.ApiClient(conf) as api:
            core = client.CoreV1Api(api)
            core.list_node()
            with self.assertRaises(client.exceptions.ApiException) as caught:
                core.read_node("pn0")
        e = caught.exception
        self.assertEqual(e.status, 403)
        self.assertEqual(json.loads(e.body), {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": 'nodes "pn0" is forbidden: User "system:serviceaccount:default:pyrobot" '
                       'cannot get resource "nodes" in API group "" at the cluster scope',
            "reason": "Forbidden", "details": {"name": "pn0", "kind": "nodes"}, "code": 403})


if __name__ == "__main__":
    print("python3-kubernetes", kubernetes.__version__)
    unittest.main()
