"""Semantics of the test API server: discovery, CRUD, metadata, subresources, schemas,
patches, deletion, selectors and paging."""

import time
import unittest

from kubetest import ServerTest

POOLS = "/apis/coil.cybozu.com/v2/addresspools"
BLOCKS = "/apis/coil.cybozu.com/v2/addressblocks"
REQS = "/apis/coil.cybozu.com/v2/blockrequests"
EGRESSES = "/apis/coil.cybozu.com/v2/namespaces/default/egresses"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def pool(name, bits=None, subnets=(("10.2.0.0/16",),), **meta):
    spec = {"subnets": [{"ipv4": s[0]} for s in subnets]}
    if bits is not None:
        spec["blockSizeBits"] = bits
    return {"apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
            "metadata": dict(name=name, **meta), "spec": spec}


class Discovery(ServerTest):
    def test_version_and_core(self):
        v = self.ok(self.c.get("/version"))
        self.assertEqual(v["major"], "1")
        self.assertEqual(self.ok(self.c.get("/api"))["versions"], ["v1"])
        core = self.ok(self.c.get("/api/v1"))
        self.assertEqual(core["kind"], "APIResourceList")
        byname = {r["name"]: r for r in core["resources"]}
        self.assertFalse(byname["nodes"]["namespaced"])
        self.assertTrue(byname["pods"]["namespaced"])
        self.assertEqual(byname["pods"]["kind"], "Pod")
        self.assertIn("watch", byname["pods"]["verbs"])
        self.assertIn("pods/status", byname)

    def test_groups(self):
        groups = {g["name"]: g for g in self.ok(self.c.get("/apis"))["groups"]}
        for g in ("apps", "policy", "rbac.authorization.k8s.io", "coordination.k8s.io",
                  "events.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
                  "coil.cybozu.com"):
            self.assertIn(g, groups)
        self.assertEqual(groups["coil.cybozu.com"]["preferredVersion"]["version"], "v2")
        g = self.ok(self.c.get("/apis/coil.cybozu.com"))
        self.assertEqual(g["kind"], "APIGroup")

    def test_crd_resources(self):
        rl = self.ok(self.c.get("/apis/coil.cybozu.com/v2"))
        byname = {r["name"]: r for r in rl["resources"]}
        self.assertEqual(set(byname), {"addresspools", "addressblocks", "blockrequests",
                                       "blockrequests/status", "egresses", "egresses/status",
                                       "egresses/scale"})
        self.assertFalse(byname["addresspools"]["namespaced"])
        self.assertTrue(byname["egresses"]["namespaced"])
        self.assertEqual(byname["addressblocks"]["singularName"], "addressblock")
        self.assertEqual(byname["egresses/scale"]["kind"], "Scale")

    def test_aggregated_discovery_accept_gets_plain_json(self):
        accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json")
        r = self.c.get("/apis", headers={"Accept": accept})
        self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertEqual(r.json["kind"], "APIGroupList")

    def test_crd_lifecycle_serves_and_unserves(self):
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "scope": "Namespaced",
                        "names": {"plural": "widgets", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": {
                                          "type": "object",
                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}
        self.assertEqual(self.c.get("/apis/example.com/v1").status, 404)
        self.ok(self.c.post(CRDS, crd), 201)
        self.ok(self.c.get("/apis/example.com/v1"))
        w = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
             "anything": {"goes": 1}}
        got = self.ok(self.c.post("/apis/example.com/v1/namespaces/default/widgets", w), 201)
        self.assertEqual(got["anything"], {"goes": 1})
        self.ok(self.c.delete(CRDS + "/widgets.example.com"), 202)
        self.wait_for(lambda: self.c.get("/apis/example.com/v1").status == 404, msg="unserve")
        self.assertEqual(self.c.get(CRDS + "/widgets.example.com").status, 404)

    def test_status_errors(self):
        r = self.c.get(POOLS + "/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json["kind"], "Status")
        self.assertEqual(r.json["reason"], "NotFound")
        self.assertEqual(r.json["details"], {"name": "nope", "group": "coil.cybozu.com",
                                             "kind": "addresspools"})
        self.assertEqual(r.json["message"],
                         'addresspools.coil.cybozu.com "nope" not found')
        self.assertEqual(self.c.get("/apis/nothing/v1/things").status, 404)
        self.assertEqual(self.c.get("/api/v1/namespaces/default/nodes").status, 404)


class Crud(ServerTest):
    def test_create_get_metadata(self):
        got = self.ok(self.c.post(POOLS, pool("p1")), 201)
        m = got["metadata"]
        self.assertEqual(len(m["uid"]), 36)
        self.assertEqual(m["generation"], 1)
        self.assertRegex(m["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        again = self.ok(self.c.get(POOLS + "/p1"))
        self.assertEqual(again, got)
        r = self.c.post(POOLS, pool("p1"))
        self.assertEqual((r.status, r.json["reason"]), (409, "AlreadyExists"))

    def test_global_resource_version(self):
        a = self.ok(self.c.post(POOLS, pool("rv-a")), 201)
        cm = self.ok(self.c.post("/api/v1/namespaces/default/configmaps",
                                 {"metadata": {"name": "rv-b"}}), 201)
        self.assertGreater(int(cm["metadata"]["resourceVersion"]),
                           int(a["metadata"]["resourceVersion"]))
        lst = self.ok(self.c.get(POOLS))
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]),
                                int(cm["metadata"]["resourceVersion"]))

    def test_generate_name(self):
        got = self.ok(self.c.post(POOLS, {"metadata": {"generateName": "gen-"},
                                          "spec": {"subnets": [{"ipv4": "10.0.0.0/8"}]}}), 201)
        self.assertRegex(got["metadata"]["name"], r"^gen-[a-z0-9]{5}$")
        r = self.c.post(POOLS, {"metadata": {}, "spec": {"subnets": [{"ipv4": "10.0.0.0/8"}]}})
        self.assertEqual(r.status, 422)

    def test_update_conflict_and_generation(self):
        got = self.ok(self.c.post(POOLS, pool("upd")), 201)
        stale = dict(got)
        got["metadata"]["labels"] = {"a": "b"}
        lab = self.ok(self.c.put(POOLS + "/upd", got))
        self.assertEqual(lab["metadata"]["generation"], 1)  # metadata only
        self.assertNotEqual(lab["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"])
        r = self.c.put(POOLS + "/upd", stale)
        self.assertEqual((r.status, r.json["reason"]), (409, "Conflict"))
        self.assertIn("the object has been modified", r.json["message"])
        lab["spec"]["subnets"].append({"ipv4": "10.3.0.0/16"})
        spec = self.ok(self.c.put(POOLS + "/upd", lab))
        self.assertEqual(spec["metadata"]["generation"], 2)
        # No-op update: same resourceVersion, no event.
        same = self.ok(self.c.put(POOLS + "/upd", spec))
        self.assertEqual(same["metadata"]["resourceVersion"], spec["metadata"]["resourceVersion"])
        # Custom resources need a resourceVersion in updates.
        del spec["metadata"]["resourceVersion"]
        self.assertEqual(self.c.put(POOLS + "/upd", spec).status, 422)
        # Built-ins allow unconditional updates.
        cm = self.ok(self.c.post("/api/v1/namespaces/default/configmaps",
                                 {"metadata": {"name": "uncond"}, "data": {"a": "1"}}), 201)
        del cm["metadata"]["resourceVersion"]
        cm["data"]["a"] = "2"
        self.assertEqual(self.ok(self.c.put("/api/v1/namespaces/default/configmaps/uncond",
                                            cm))["data"], {"a": "2"})

    def test_server_fields_immutable(self):
        got = self.ok(self.c.post(POOLS, pool("imm")), 201)
        uid = got["metadata"]["uid"]
        got["metadata"]["uid"] = "changed"
        got["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z"
        upd = self.ok(self.c.put(POOLS + "/imm", got))
        self.assertEqual(upd["metadata"]["uid"], uid)
        self.assertNotEqual(upd["metadata"]["creationTimestamp"], "2000-01-01T00:00:00Z")
        r = self.c.put(POOLS + "/other", upd)
        self.assertEqual(r.status, 400)

    def test_namespace_must_exist(self):
        r = self.c.post("/api/v1/namespaces/missing/configmaps", {"metadata": {"name": "x"}})
        self.assertEqual((r.status, r.json["reason"]), (404, "NotFound"))
        r = self.c.post("/api/v1/namespaces/default/configmaps",
                        {"metadata": {"name": "x", "namespace": "kube-system"}})
        self.assertEqual(r.status, 400)

    def test_name_and_label_validation(self):
        self.assertEqual(self.c.post(POOLS, pool("Bad_Name")).status, 422)
        r = self.c.post(POOLS, pool("badlabel", labels={"a": "not ok!"}))
        self.assertEqual(r.status, 422)
        self.ok(self.c.post("/apis/rbac.authorization.k8s.io/v1/clusterroles",
                            {"metadata": {"name": "system:coil"}, "rules": []}), 201)


class Subresources(ServerTest):
    def test_status_is_separate(self):
        req = {"metadata": {"name": "r1"}, "spec": {"nodeName": "n1", "poolName": "default"},
               "status": {"addressBlockName": "ignored"}}
        got = self.ok(self.c.post(REQS, req), 201)
        self.assertNotIn("status", got)  # create drops status
        got["status"] = {"addressBlockName": "default-0",
                         "conditions": [{"type": "Complete", "status": "True"}]}
        got["spec"]["poolName"] = "other"
        st = self.ok(self.c.put(REQS + "/r1/status", got))
        self.assertEqual(st["status"]["addressBlockName"], "default-0")
        self.assertEqual(st["spec"]["poolName"], "default")  # spec ignored by /status
        self.assertEqual(st["metadata"]["generation"], 1)
        st["status"] = {}
        st["spec"]["poolName"] = "other"
        main = self.ok(self.c.put(REQS + "/r1", st))
        self.assertEqual(main["status"]["addressBlockName"], "default-0")  # status ignored
        self.assertEqual(main["spec"]["poolName"], "other")
        self.assertEqual(main["metadata"]["generation"], 2)
        p = self.ok(self.c.patch(REQS + "/r1/status", {"status": {"addressBlockName": "x"}}))
        self.assertEqual(p["status"]["addressBlockName"], "x")
        self.assertEqual(self.c.get(POOLS + "/x/status").status, 404)  # no status subresource

    def test_egress_scale(self):
        eg = {"metadata": {"name": "eg"}, "spec": {"destinations": ["0.0.0.0/0"]}}
        got = self.ok(self.c.post(EGRESSES, eg), 201)
        self.assertEqual(got["spec"]["replicas"], 1)
        self.assertEqual(got["spec"]["sessionAffinity"], "ClientIP")
        got["status"] = {"replicas": 1, "selector": "app=eg"}
        self.ok(self.c.put(EGRESSES + "/eg/status", got))
        sc = self.ok(self.c.get(EGRESSES + "/eg/scale"))
        self.assertEqual(sc["kind"], "Scale")
        self.assertEqual(sc["apiVersion"], "autoscaling/v1")
        self.assertEqual(sc["spec"], {"replicas": 1})
        self.assertEqual(sc["status"], {"replicas": 1, "selector": "app=eg"})
        sc["spec"]["replicas"] = 3
        self.assertEqual(self.ok(self.c.put(EGRESSES + "/eg/scale", sc))["spec"]["replicas"], 3)
        self.ok(self.c.patch(EGRESSES + "/eg/scale", {"spec": {"replicas": 4}}))
        self.assertEqual(self.ok(self.c.get(EGRESSES + "/eg"))["spec"]["replicas"], 4)
        sc["spec"]["replicas"] = 5  # stale resourceVersion
        self.assertEqual(self.c.put(EGRESSES + "/eg/scale", sc).status, 409)

    def test_deployment_scale_and_defaults(self):
        d = {"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}},
                         "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}}
        got = self.ok(self.c.post("/apis/apps/v1/namespaces/default/deployments", d), 201)
        self.assertEqual(got["spec"]["replicas"], 1)
        self.assertEqual(got["spec"]["strategy"]["type"], "RollingUpdate")
        c = got["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["imagePullPolicy"], "IfNotPresent")
        sc = self.ok(self.c.get("/apis/apps/v1/namespaces/default/deployments/d/scale"))
        self.assertEqual(sc["status"]["selector"], "app=d")


class Schema(ServerTest):
    def test_defaults(self):
        self.assertEqual(self.ok(self.c.post(POOLS, pool("d5")), 201)["spec"]["blockSizeBits"], 5)
        self.assertEqual(self.ok(self.c.post(POOLS, pool("d0", bits=0)), 201)
                         ["spec"]["blockSizeBits"], 0)

    def test_validation(self):
        cases = [
            ({"metadata": {"name": "v1"}, "spec": {}}, "spec.subnets: Required value"),
            ({"metadata": {"name": "v2"}, "spec": {"subnets": []}},
             "spec.subnets in body should have at least 1 items"),
            ({"metadata": {"name": "v3"}, "spec": {"subnets": None}},
             "spec.subnets: Required value"),
            (pool("v4", bits=-1), "should be greater than or equal to 0"),
            (pool("v5", bits="x"), "must be of type integer"),
        ]
        for body, text in cases:
            r = self.c.post(POOLS, body)
            self.assertEqual((r.status, r.json["reason"]), (422, "Invalid"), body)
            self.assertIn(text, r.json["message"])
            self.assertTrue(r.json["message"].startswith(
                'AddressPool.coil.cybozu.com "%s" is invalid: ' % body["metadata"]["name"]))
        r = self.c.post(BLOCKS, {"metadata": {"name": "b"}, "ipv4": "10.0.0.0/31"})
        self.assertEqual(r.json["details"]["causes"][0],
                         {"reason": "FieldValueRequired", "message": "Required value",
                          "field": "index"})
        r = self.c.post(EGRESSES, {"metadata": {"name": "e"}, "spec": {
            "destinations": ["10.0.0.0/8"], "sessionAffinity": "Sticky"}})
        self.assertIn('Unsupported value: "Sticky"', r.json["message"])
        self.ok(self.c.post(POOLS, pool("nospec") | {"spec": None}), 201)  # spec optional

    def test_pruning(self):
        body = pool("pr")
        body["spec"]["unknown"] = 1
        body["extra"] = True
        got = self.ok(self.c.post(POOLS, body), 201)
        self.assertNotIn("unknown", got["spec"])
        self.assertNotIn("extra", got)
        eg = {"metadata": {"name": "keep"}, "spec": {
            "destinations": ["::/0"], "template": {"spec": {
                "containers": [{"name": "egress", "resources": {"limits": {"cpu": "1"}}}],
                "tolerations": [{"operator": "Exists"}]}}}}
        got = self.ok(self.c.post(EGRESSES, eg), 201)
        self.assertEqual(got["spec"]["template"], eg["spec"]["template"])


class Patches(ServerTest):
    def test_merge_json_strategic(self):
        self.ok(self.c.post(POOLS, pool("pt", labels={"a": "1", "b": "2"})), 201)
        got = self.ok(self.c.patch(POOLS + "/pt", {"metadata": {"labels": {"a": None, "c": "3"}}}))
        self.assertEqual(got["metadata"]["labels"], {"b": "2", "c": "3"})
        got = self.ok(self.c.patch(POOLS + "/pt", [
            {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
            {"op": "replace", "path": "/spec/blockSizeBits", "value": 3}], "json"))
        self.assertEqual(got["metadata"]["finalizers"], ["x/y"])
        self.assertEqual(got["metadata"]["generation"], 2)
        r = self.c.patch(POOLS + "/pt", [{"op": "test", "path": "/spec/blockSizeBits",
                                          "value": 9}], "json")
        self.assertEqual(r.status, 422)
        r = self.c.patch(POOLS + "/pt", {"metadata": {"resourceVersion": "1"}})
        self.assertEqual(r.status, 409)
        self.ok(self.c.patch(POOLS + "/pt", {"metadata": {"finalizers": None}}, "strategic"))
        self.assertEqual(self.c.patch(POOLS + "/pt", "x: 1", "apply").status, 415)
        self.assertEqual(self.c.patch(POOLS + "/none", {}).status, 404)
        r = self.c.patch(POOLS + "/pt", {"spec": {"blockSizeBits": -3}})
        self.assertEqual(r.status, 422)

    def test_strategic_merge_on_containers(self):
        d = {"metadata": {"name": "sm"}, "spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}
        self.ok(self.c.post("/api/v1/namespaces/default/pods", d), 201)
        got = self.ok(self.c.patch("/api/v1/namespaces/default/pods/sm", {"spec": {
            "containers": [{"name": "b", "image": "b:2"}]}}, "strategic"))
        self.assertEqual([(c["name"], c["image"]) for c in got["spec"]["containers"]],
                         [("a", "a:1"), ("b", "b:2")])
        got = self.ok(self.c.patch("/api/v1/namespaces/default/pods/sm", {"metadata": {
            "finalizers": ["f1"]}}, "strategic"))
        got = self.ok(self.c.patch("/api/v1/namespaces/default/pods/sm", {"metadata": {
            "finalizers": ["f2"]}}, "strategic"))
        self.assertEqual(got["metadata"]["finalizers"], ["f1", "f2"])
        self.ok(self.c.patch("/api/v1/namespaces/default/pods/sm", {"metadata": {
            "$deleteFromPrimitiveList/finalizers": ["f1", "f2"]}}, "strategic"))


class Deletion(ServerTest):
    def test_preconditions(self):
        got = self.ok(self.c.post(POOLS, pool("pre")), 201)
        r = self.c.delete(POOLS + "/pre", {"preconditions": {"uid": "wrong"}})
        self.assertEqual((r.status, r.json["reason"]), (409, "Conflict"))
        self.assertIn("Precondition failed: UID in precondition: wrong", r.json["message"])
        r = self.c.delete(POOLS + "/pre", {"preconditions": {"resourceVersion": "1"}})
        self.assertEqual(r.status, 409)
        self.ok(self.c.delete(POOLS + "/pre", {"preconditions": {
            "uid": got["metadata"]["uid"], "resourceVersion": got["metadata"]["resourceVersion"]}}))
        self.assertEqual(self.c.get(POOLS + "/pre").status, 404)
        self.assertEqual(self.c.delete(POOLS + "/pre").status, 404)

    def test_finalizers_hold_deletion(self):
        self.ok(self.c.post(POOLS, pool("fin", finalizers=["coil.cybozu.com"])), 201)
        r = self.c.delete(POOLS + "/fin")
        self.assertEqual(r.status, 202)
        self.assertIn("deletionTimestamp", r.json["metadata"])
        held = self.ok(self.c.get(POOLS + "/fin"))
        self.assertEqual(held["metadata"]["finalizers"], ["coil.cybozu.com"])
        self.assertEqual(self.c.delete(POOLS + "/fin").status, 202)  # idempotent
        r = self.c.patch(POOLS + "/fin", {"metadata": {"finalizers": ["coil.cybozu.com", "new"]}})
        self.assertEqual(r.status, 422)  # no new finalizers once deleting
        self.ok(self.c.patch(POOLS + "/fin", {"metadata": {"finalizers": None}}))
        self.assertEqual(self.c.get(POOLS + "/fin").status, 404)

    def test_finalizer_warnings(self):
        """Finalizers without a path draw the real server's Warning headers on the create or
        update that adds them (custom resources only), and only then."""
        fin = ('299 - "metadata.finalizers: \\"coil.cybozu.com\\": prefer a domain-qualified '
               'finalizer name including a path (/) to avoid accidental conflicts with other '
               'finalizer writers"')
        bare = ('299 - "metadata.finalizers: \\"f1\\": prefer a domain-qualified finalizer '
                'name to avoid accidental conflicts with other finalizer writers"')
        r = self.c.post(POOLS, pool("warn", finalizers=["coil.cybozu.com", "a.b/c", "orphan"]))
        self.assertEqual(r.status, 201)
        self.assertEqual(r.headers.get_all("Warning"), [fin])
        r = self.c.patch(POOLS + "/warn", {"metadata": {"labels": {"x": "y"}}})
        self.assertEqual((r.status, r.headers.get_all("Warning")), (200, None))
        r = self.c.patch(POOLS + "/warn", {"metadata": {"finalizers": [
            "coil.cybozu.com", "f1", "a.b/c", "orphan"]}})
        self.assertEqual((r.status, r.headers.get_all("Warning")), (200, [bare]))
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "warn", "finalizers": ["coil.cybozu.com"]}}
        r = self.c.post("/api/v1/namespaces/default/configmaps", cm)
        self.assertEqual((r.status, r.headers.get_all("Warning")), (201, None))
        self.ok(self.c.patch("/api/v1/namespaces/default/configmaps/warn",
                             {"metadata": {"finalizers": None}}))
        self.ok(self.c.patch(POOLS + "/warn", {"metadata": {"finalizers": None}}))

    def test_delete_collection(self):
        for i in range(4):
            self.ok(self.c.post(POOLS, pool("dc%d" % i, labels={"grp": "dc" if i < 3 else "x"})),
                    201)
        got = self.ok(self.c.delete(POOLS + "?labelSelector=grp%3Ddc"))
        self.assertEqual(len(got["items"]), 3)
        names = [p["metadata"]["name"] for p in self.ok(self.c.get(POOLS))["items"]]
        self.assertIn("dc3", names)
        self.assertNotIn("dc0", names)


class GarbageCollection(ServerTest):
    def _owned_block(self, name, owner, **extra):
        ref = {"apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
               "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
               "controller": True, "blockOwnerDeletion": True}
        meta = dict(name=name, ownerReferences=[ref], **extra)
        return self.ok(self.c.post(BLOCKS, {"metadata": meta, "index": 0}), 201)

    def test_background(self):
        owner = self.ok(self.c.post(POOLS, pool("own")), 201)
        self._owned_block("own-0", owner)
        self._owned_block("own-1", owner, finalizers=["coil.cybozu.com"])
        self.ok(self.c.delete(POOLS + "/own"))
        self.wait_for(lambda: self.c.get(BLOCKS + "/own-0").status == 404, msg="own-0 collected")
        held = self.wait_for(lambda: self.c.get(BLOCKS + "/own-1").json["metadata"].get(
            "deletionTimestamp"), msg="own-1 marked")
        self.assertTrue(held)
        self.ok(self.c.patch(BLOCKS + "/own-1", {"metadata": {"finalizers": []}}))
        self.assertEqual(self.c.get(BLOCKS + "/own-1").status, 404)

    def test_two_owners_and_dangling(self):
        node = self.ok(self.c.post("/api/v1/nodes", {"metadata": {"name": "n1"}}), 201)
        p = self.ok(self.c.post(POOLS, pool("two")), 201)
        refs = [{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": node["metadata"]["uid"]},
                {"apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool", "name": "two",
                 "uid": p["metadata"]["uid"]}]
        self.ok(self.c.post(BLOCKS, {"metadata": {"name": "two-0", "ownerReferences": refs},
                                     "index": 0}), 201)
        self.ok(self.c.delete("/api/v1/nodes/n1"))
        blk = self.wait_for(lambda: len(self.c.get(BLOCKS + "/two-0").json["metadata"]
                                        ["ownerReferences"]) == 1 and self.c.get(BLOCKS + "/two-0"),
                            msg="dangling reference removed")
        self.assertEqual(blk.json["metadata"]["ownerReferences"][0]["name"], "two")
        dangling = [{"apiVersion": "v1", "kind": "Node", "name": "gone", "uid": "no-such-uid"}]
        self.ok(self.c.post(REQS, {"metadata": {"name": "orphaned", "ownerReferences": dangling},
                                   "spec": {"nodeName": "gone", "poolName": "x"}}), 201)
        self.wait_for(lambda: self.c.get(REQS + "/orphaned").status == 404, msg="dangling GC")

    def test_foreground_and_orphan(self):
        owner = self.ok(self.c.post(POOLS, pool("fg")), 201)
        self._owned_block("fg-0", owner, finalizers=["hold"])
        r = self.c.delete(POOLS + "/fg?propagationPolicy=Foreground")
        self.assertEqual(r.status, 202)
        self.assertIn("foregroundDeletion", r.json["metadata"]["finalizers"])
        self.wait_for(lambda: self.c.get(BLOCKS + "/fg-0").json["metadata"].get(
            "deletionTimestamp"), msg="dependent deleting")
        self.assertEqual(self.c.get(POOLS + "/fg").status, 200)  # waits for the dependent
        self.ok(self.c.patch(BLOCKS + "/fg-0", {"metadata": {"finalizers": None}}))
        self.wait_for(lambda: self.c.get(POOLS + "/fg").status == 404, msg="owner gone")

        owner = self.ok(self.c.post(POOLS, pool("orph")), 201)
        self._owned_block("orph-0", owner)
        self.c.delete(POOLS + "/orph", {"propagationPolicy": "Orphan"})
        self.wait_for(lambda: self.c.get(POOLS + "/orph").status == 404, msg="orphaning")
        blk = self.ok(self.c.get(BLOCKS + "/orph-0"))
        self.assertNotIn("ownerReferences", blk["metadata"])

    def test_namespace_deletion(self):
        self.ok(self.c.post("/api/v1/namespaces", {"metadata": {"name": "tmp"}}), 201)
        self.ok(self.c.post("/api/v1/namespaces/tmp/configmaps", {"metadata": {"name": "a"}}), 201)
        r = self.c.delete("/api/v1/namespaces/tmp")
        self.assertEqual(r.status, 202)
        self.assertEqual(r.json["status"]["phase"], "Terminating")
        self.wait_for(lambda: self.c.get("/api/v1/namespaces/tmp").status == 404, msg="ns gone")
        self.assertEqual(self.c.get("/api/v1/namespaces/tmp/configmaps/a").status, 404)


class GracefulPods(ServerTest):
    server_args = ("--graceful-pod-deletion",)

    def test_bound_pod_waits_for_kubelet(self):
        pods = "/api/v1/namespaces/default/pods"
        spec = {"containers": [{"name": "c"}]}
        self.ok(self.c.post(pods, {"metadata": {"name": "free"}, "spec": spec}), 201)
        self.ok(self.c.post(pods, {"metadata": {"name": "bound"},
                                   "spec": dict(spec, nodeName="n1")}), 201)
        self.ok(self.c.delete(pods + "/free"))
        self.assertEqual(self.c.get(pods + "/free").status, 404)  # never scheduled: immediate
        r = self.c.delete(pods + "/bound")
        self.assertEqual(r.json["metadata"]["deletionGracePeriodSeconds"], 30)
        self.assertEqual(self.c.get(pods + "/bound").status, 200)
        self.ok(self.c.delete(pods + "/bound", {"gracePeriodSeconds": 0}))  # the kubelet's delete
        self.assertEqual(self.c.get(pods + "/bound").status, 404)

    def test_terminating_namespace_refuses_content(self):
        self.ok(self.c.post("/api/v1/namespaces", {"metadata": {"name": "dying"}}), 201)
        self.ok(self.c.post("/api/v1/namespaces/dying/configmaps",
                            {"metadata": {"name": "held", "finalizers": ["x/y"]}}), 201)
        self.assertEqual(self.c.delete("/api/v1/namespaces/dying").status, 202)
        r = self.c.post("/api/v1/namespaces/dying/configmaps", {"metadata": {"name": "new"}})
        self.assertEqual((r.status, r.json["reason"]), (403, "Forbidden"))
        self.wait_for(lambda: self.c.get("/api/v1/namespaces/dying/configmaps/held").json[
            "metadata"].get("deletionTimestamp"), msg="content deleting")
        self.assertEqual(self.c.get("/api/v1/namespaces/dying").status, 200)
        self.ok(self.c.patch("/api/v1/namespaces/dying/configmaps/held",
                             {"metadata": {"finalizers": None}}))
        self.wait_for(lambda: self.c.get("/api/v1/namespaces/dying").status == 404, msg="ns gone")


class Selectors(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(6):
            labels = {"env": ["prod", "dev", "test"][i % 3]}
            if i % 2:
                labels["odd"] = "yes"
            pod = {"metadata": {"name": "p%d" % i, "labels": labels},
                   "spec": {"nodeName": "node%d" % (i % 2), "containers": [{"name": "c"}]}}
            r = cls.c.post("/api/v1/namespaces/default/pods", pod)
            assert r.status == 201, r.raw

    def names(self, query):
        r = self.c.get("/api/v1/namespaces/default/pods?" + query)
        self.assertEqual(r.status, 200, r.raw)
        return [p["metadata"]["name"] for p in r.json["items"]]

    def test_label_selectors(self):
        self.assertEqual(self.names("labelSelector=env%3Dprod"), ["p0", "p3"])
        self.assertEqual(self.names("labelSelector=env%3D%3Dprod"), ["p0", "p3"])
        self.assertEqual(self.names("labelSelector=env!%3Dprod"), ["p1", "p2", "p4", "p5"])
        self.assertEqual(self.names("labelSelector=env+in+(dev,test)"), ["p1", "p2", "p4", "p5"])
        self.assertEqual(self.names("labelSelector=env+notin+(dev,test),odd"), ["p3"])
        self.assertEqual(self.names("labelSelector=!odd"), ["p0", "p2", "p4"])
        self.assertEqual(self.c.get("/api/v1/pods?labelSelector=a+in+b").status, 400)

    def test_field_selectors(self):
        self.assertEqual(self.names("fieldSelector=spec.nodeName%3Dnode1"), ["p1", "p3", "p5"])
        self.assertEqual(self.names("fieldSelector=metadata.name%3Dp2"), ["p2"])
        self.assertEqual(self.names("fieldSelector=status.phase%3DPending,metadata.name!%3Dp0"),
                         ["p1", "p2", "p3", "p4", "p5"])
        self.assertEqual(self.names("fieldSelector=metadata.namespace%3Ddefault"),
                         ["p0", "p1", "p2", "p3", "p4", "p5"])
        r = self.c.get("/api/v1/namespaces/default/pods?fieldSelector=spec.bogus%3D1")
        self.assertEqual(r.status, 400)
        self.assertIn("field label not supported", r.json["message"])
        r = self.c.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode0")
        self.assertEqual(len(r.json["items"]), 3)

    def test_paging(self):
        first = self.ok(self.c.get("/api/v1/namespaces/default/pods?limit=4"))
        self.assertEqual(len(first["items"]), 4)
        self.assertEqual(first["metadata"]["remainingItemCount"], 2)
        rv = first["metadata"]["resourceVersion"]
        self.ok(self.c.post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "x"}}),
                201)
        tok = first["metadata"]["continue"]
        second = self.ok(self.c.get("/api/v1/namespaces/default/pods?limit=4&continue=" + tok))
        self.assertEqual([p["metadata"]["name"] for p in second["items"]], ["p4", "p5"])
        self.assertNotIn("continue", second["metadata"])
        self.assertEqual(second["metadata"]["resourceVersion"], rv)


class Timing(ServerTest):
    def test_scale_lists(self):
        """1,000 nodes and 4,000 AddressBlocks: each list well under a second."""
        import threading

        def create(kind_path, bodies):
            from kubetest import Client
            c = Client(self.port)
            for b in bodies:
                r = c.post(kind_path, b)
                assert r.status == 201, r.raw
            c.close()

        nodes = [{"metadata": {"name": "node-%04d" % i, "labels": {"rack": str(i % 10)}}}
                 for i in range(1000)]
        blocks = [{"metadata": {"name": "default-%d" % i, "labels": {
            "coil.cybozu.com/pool": "default", "coil.cybozu.com/node": "node-%04d" % (i % 1000)}},
            "index": i, "ipv4": "10.%d.%d.0/27" % (i // 256, i % 256)} for i in range(4000)]
        jobs = [("/api/v1/nodes", nodes[i::2]) for i in range(2)]
        jobs += [(BLOCKS, blocks[i::4]) for i in range(4)]
        threads = [threading.Thread(target=create, args=j) for j in jobs]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = time.time() - start
        for path, n in (("/api/v1/nodes", 1000), (BLOCKS, 4000),
                        (BLOCKS + "?labelSelector=coil.cybozu.com%2Fnode%3Dnode-0007", 4)):
            t0 = time.time()
            r = self.ok(self.c.get(path))
            took = time.time() - t0
            self.assertEqual(len(r["items"]), n)
            self.assertLess(took, 0.5, "listing %s took %.3fs" % (path, took))
        print("\n5000 creates in %.1fs" % created, end=" ")


if __name__ == "__main__":
    unittest.main()
