"""RBAC fidelity: the request attributes the test API server derives from a request, the rule
evaluator, and the 401/403 answers (exact Status bodies, as kube-apiserver writes them) for
tokens issued through the TokenRequest subresource and read from a --token-auth-file."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import deploy_rbac  # noqa: E402
from kubeapi import authn, rbac  # noqa: E402
from kubetest import Client, ServerProcess, load_crds  # noqa: E402

ADMIN = "admin-secret"
RBAC_V1 = "/apis/rbac.authorization.k8s.io/v1"
COIL = "/apis/coil.cybozu.com/v2"
SA = "system:serviceaccount:team:robot"


class RequestAttributes(unittest.TestCase):
    """(method, path, query) -> (verb, group, resource, subresource, name, namespace)."""

    TABLE = [
        ("GET", "/api/v1/pods", {}, ("list", "", "pods", "", "", "")),
        ("GET", "/api/v1/namespaces/a/pods", {"watch": "true"},
         ("watch", "", "pods", "", "", "a")),
        ("GET", "/api/v1/namespaces/a/pods", {"watch": "1"}, ("watch", "", "pods", "", "", "a")),
        ("GET", "/api/v1/watch/namespaces/a/pods/p", {}, ("watch", "", "pods", "", "p", "a")),
        ("GET", "/api/v1/namespaces/a/pods/p/log", {}, ("get", "", "pods", "log", "p", "a")),
        ("GET", "/api/v1/namespaces/a/pods", {"fieldSelector": "metadata.name=p"},
         ("list", "", "pods", "", "p", "a")),
        ("GET", "/api/v1/namespaces/a/pods", {"fieldSelector": "metadata.name!=p"},
         ("list", "", "pods", "", "", "a")),
        ("POST", "/api/v1/namespaces/a/pods", {}, ("create", "", "pods", "", "", "a")),
        ("PUT", COIL + "/blockrequests/r/status", {},
         ("update", "coil.cybozu.com", "blockrequests", "status", "r", "")),
        ("PATCH", "/api/v1/nodes/n/status", {}, ("patch", "", "nodes", "status", "n", "")),
        ("DELETE", COIL + "/addressblocks/b", {},
         ("delete", "coil.cybozu.com", "addressblocks", "", "b", "")),
        ("DELETE", COIL + "/addressblocks", {},
         ("deletecollection", "coil.cybozu.com", "addressblocks", "", "", "")),
        # A namespace is its own namespace; status and finalize are its subresources.
        ("GET", "/api/v1/namespaces/a", {}, ("get", "", "namespaces", "", "a", "a")),
        ("PUT", "/api/v1/namespaces/a/finalize", {},
         ("update", "", "namespaces", "finalize", "a", "a")),
        ("POST", "/api/v1/namespaces/a/serviceaccounts/s/token", {},
         ("create", "", "serviceaccounts", "token", "s", "a")),
    ]

    def test_table(self):
        for method, path, query, want in self.TABLE:
            a = rbac.request_attributes(method, path, query)
            got = (a.verb, a.api_group, a.resource, a.subresource, a.name, a.namespace)
            self.assertTrue(a.is_resource, path)
            self.assertEqual(got, want, "%s %s %s" % (method, path, query))

    def test_non_resource_paths(self):
        for path in ("/", "/version", "/api", "/api/v1", "/apis", "/apis/coil.cybozu.com",
                     "/apis/coil.cybozu.com/v2", "/healthz", "/metrics"):
            a = rbac.request_attributes("GET", path, {})
            self.assertFalse(a.is_resource, path)
            self.assertEqual(a.verb, "get")


def _attrs(method, path, query=None):
    return rbac.request_attributes(method, path, query or {})


class RuleEvaluation(unittest.TestCase):
    """One PolicyRule against one request: allowed or not."""

    CORE_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
    TABLE = [
        (CORE_PODS, "GET", "/api/v1/namespaces/a/pods/p", True),
        (CORE_PODS, "GET", "/api/v1/namespaces/a/pods", True),
        (CORE_PODS, "GET", "/api/v1/namespaces/a/pods?watch=1", False),
        (CORE_PODS, "GET", "/api/v1/namespaces/a/pods/p/log", False),  # subresource
        (CORE_PODS, "GET", "/apis/apps/v1/namespaces/a/pods/p", False),  # other group
        ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
         "GET", "/apis/apps/v1/namespaces/a/pods/p", True),
        ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
         "GET", "/api/v1/namespaces/a/pods/p/log", True),
        ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
         "GET", "/api/v1/namespaces/a/pods/p", False),
        ({"apiGroups": [""], "resources": ["*/log"], "verbs": ["get"]},
         "GET", "/api/v1/namespaces/a/pods/p/log", True),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["*"]},
         "DELETE", "/api/v1/namespaces/a/pods/p/log", True),
        ({"apiGroups": ["coil.cybozu.com"], "resources": ["blockrequests/status"],
          "verbs": ["update"]}, "PUT", COIL + "/blockrequests/r/status", True),
        ({"apiGroups": ["coil.cybozu.com"], "resources": ["blockrequests/status"],
          "verbs": ["update"]}, "PATCH", COIL + "/blockrequests/r/status", False),
        # resourceNames never match a request without a name (list, watch, create) ...
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["c"],
          "verbs": ["*"]}, "GET", "/api/v1/namespaces/a/configmaps", False),
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["c"],
          "verbs": ["*"]}, "POST", "/api/v1/namespaces/a/configmaps", False),
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["c"],
          "verbs": ["*"]}, "GET", "/api/v1/namespaces/a/configmaps/c", True),
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["c"],
          "verbs": ["*"]}, "GET", "/api/v1/namespaces/a/configmaps/d", False),
        # ... except a list or watch selecting exactly that name.
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["c"],
          "verbs": ["*"]}, "GET", "/api/v1/namespaces/a/configmaps?fieldSelector="
         "metadata.name%3Dc&watch=true", True),
        ({"verbs": ["get"], "nonResourceURLs": ["/metrics"]}, "GET", "/metrics", True),
        ({"verbs": ["get"], "nonResourceURLs": ["/logs/*"]}, "GET", "/logs/x/y", True),
        ({"verbs": ["get"], "nonResourceURLs": ["/logs/*"]}, "GET", "/log", False),
        ({"verbs": ["get"], "nonResourceURLs": ["*"]}, "POST", "/metrics", False),
        ({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, "GET", "/metrics", False),
    ]

    def test_table(self):
        import urllib.parse
        for rule, method, url, want in self.TABLE:
            u = urllib.parse.urlsplit(url)
            query = dict(urllib.parse.parse_qsl(u.query))
            self.assertEqual(rbac.rule_allows(_attrs(method, u.path, query), rule), want,
                             "%s %s %s" % (rule, method, url))


def once(port, method, path, token=None):
    """One request on a connection of its own (closed again)."""
    c = Client(port, token=token)
    try:
        return c.request(method, path)
    finally:
        c.close()


def forbidden_body(message, details):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "Forbidden", "details": details, "code": 403}


class Enforcement(unittest.TestCase):
    """A server with an administrator token: ServiceAccount team/robot gets a token through
    TokenRequest and is authorized by the roles bound to it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rbac-test-")
        token_file = os.path.join(cls.tmp, "tokens.csv")
        with open(token_file, "w") as f:
            f.write('alice-token,alice,1001,"devs,ops"\nbob-token,bob,1002\n')
        cls.srv = ServerProcess("--token", ADMIN, "--token-auth-file", token_file)
        cls.admin = Client(cls.srv.port, token=ADMIN)
        load_crds(cls.admin)
        for ns in ("team", "other"):
            cls._ok(cls.admin.post("/api/v1/namespaces", {"metadata": {"name": ns}}))
        cls._ok(cls.admin.post("/api/v1/namespaces/team/serviceaccounts",
                               {"metadata": {"name": "robot"}}))
        cls._ok(cls.admin.post(RBAC_V1 + "/clusterroles", {
            "metadata": {"name": "block-reader"},
            "rules": [{"apiGroups": ["coil.cybozu.com"], "resources": ["addressblocks"],
                       "verbs": ["get", "list"]},
                      {"apiGroups": ["coil.cybozu.com"], "resources": ["blockrequests/status"],
                       "verbs": ["update"]}]}))
        cls._ok(cls.admin.post(RBAC_V1 + "/clusterrolebindings", {
            "metadata": {"name": "robot-blocks"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "block-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "team"}]}))
        # A Role in team (ServiceAccount subject without namespace: the binding's) and a
        # ClusterRole bound in team only.
        cls._ok(cls.admin.post(RBAC_V1 + "/namespaces/team/roles", {
            "metadata": {"name": "pods"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch"]}]}))
        cls._ok(cls.admin.post(RBAC_V1 + "/namespaces/team/rolebindings", {
            "metadata": {"name": "robot-pods"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "pods"},
            "subjects": [{"kind": "ServiceAccount", "name": "robot"}]}))
        cls._ok(cls.admin.post(RBAC_V1 + "/clusterroles", {
            "metadata": {"name": "cm-editor"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]}))
        cls._ok(cls.admin.post(RBAC_V1 + "/namespaces/team/rolebindings", {
            "metadata": {"name": "ops-cm"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cm-editor"},
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team"},
                         {"kind": "User", "name": "bob"}]}))
        cls._ok(cls.admin.post(RBAC_V1 + "/clusterrolebindings", {
            "metadata": {"name": "devs-nodes"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "no-such-role"},
            "subjects": [{"kind": "Group", "name": "devs"}]}))
        tr = cls._ok(cls.admin.post("/api/v1/namespaces/team/serviceaccounts/robot/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600}}), 201)
        cls.token = tr["status"]["token"]
        cls.robot = Client(cls.srv.port, token=cls.token)

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.robot.close()
        cls.srv.stop()

    @staticmethod
    def _ok(r, code=201):
        if r.status != code:
            raise AssertionError("%d %s" % (r.status, r.raw[:400]))
        return r.json

    def assertForbidden(self, r, message, details):
        self.assertEqual(r.status, 403, r.raw[:400])
        self.assertEqual(r.json, forbidden_body(message, details))
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")

    def test_allowed_requests(self):
        r = self.robot.get(COIL + "/addressblocks")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.robot.get(COIL + "/addressblocks/missing").status, 404)
        self.assertEqual(self.robot.get("/api/v1/namespaces/team/pods/p").status, 404)
        self.assertEqual(self.robot.post("/api/v1/namespaces/team/configmaps", {
            "metadata": {"name": "c"}}).status, 201)

    def test_forbidden_bodies(self):
        who = 'User "%s" cannot ' % SA
        cases = [
            (("GET", COIL + "/addresspools"),
             'addresspools.coil.cybozu.com is forbidden: ' + who + 'list resource '
             '"addresspools" in API group "coil.cybozu.com" at the cluster scope',
             {"group": "coil.cybozu.com", "kind": "addresspools"}),
            (("DELETE", COIL + "/addressblocks/b1"),
             'addressblocks.coil.cybozu.com "b1" is forbidden: ' + who + 'delete resource '
             '"addressblocks" in API group "coil.cybozu.com" at the cluster scope',
             {"name": "b1", "group": "coil.cybozu.com", "kind": "addressblocks"}),
            (("PATCH", COIL + "/blockrequests/r/status"),
             'blockrequests.coil.cybozu.com "r" is forbidden: ' + who + 'patch resource '
             '"blockrequests/status" in API group "coil.cybozu.com" at the cluster scope',
             {"name": "r", "group": "coil.cybozu.com", "kind": "blockrequests"}),
            (("GET", "/api/v1/namespaces/team/pods"),
             'pods is forbidden: ' + who + 'list resource "pods" in API group "" in the '
             'namespace "team"', {"kind": "pods"}),
            (("GET", "/api/v1/namespaces/other/pods/p"),
             'pods "p" is forbidden: ' + who + 'get resource "pods" in API group "" in the '
             'namespace "other"', {"name": "p", "kind": "pods"}),
            (("POST", "/api/v1/namespaces/other/configmaps"),
             'configmaps is forbidden: ' + who + 'create resource "configmaps" in API group '
             '"" in the namespace "other"', {"kind": "configmaps"}),
            (("GET", "/api/v1/namespaces/team/pods/p/log"),
             'pods "p" is forbidden: ' + who + 'get resource "pods/log" in API group "" in '
             'the namespace "team"', {"name": "p", "kind": "pods"}),
            # Authorization comes before routing: a resource that does not exist is 403 too.
            (("GET", "/apis/example.com/v1/widgets"),
             'widgets.example.com is forbidden: ' + who + 'list resource "widgets" in API '
             'group "example.com" at the cluster scope',
             {"group": "example.com", "kind": "widgets"}),
            (("GET", "/metrics"), 'forbidden: ' + who + 'get path "/metrics"', {}),
        ]
        for (method, path), message, details in cases:
            with self.subTest(path=path):
                self.assertForbidden(self.robot.request(method, path), message, details)

    def test_discovery_is_open_to_authenticated_users(self):
        for path in ("/version", "/api", "/api/v1", "/apis", "/apis/coil.cybozu.com/v2",
                     "/healthz", "/readyz", "/livez"):
            self.assertEqual(self.robot.get(path).status, 200, path)
        for path in ("/version", "/api"):
            self.assertEqual(once(self.srv.port, "GET", path).status, 401, path)

    def test_static_token_users_and_missing_role(self):
        port = self.srv.port
        self.assertEqual(once(port, "GET", "/api/v1/namespaces/team/configmaps",
                              "bob-token").status, 200)
        self.assertForbidden(once(port, "GET", "/api/v1/nodes", "bob-token"),
                             'nodes is forbidden: User "bob" cannot list resource "nodes" in '
                             'API group "" at the cluster scope', {"kind": "nodes"})
        self.assertForbidden(once(port, "GET", "/api/v1/nodes", "alice-token"),
                             'nodes is forbidden: User "alice" cannot list resource "nodes" in '
                             'API group "" at the cluster scope: RBAC: '
                             'clusterrole.rbac.authorization.k8s.io '
                             '"no-such-role" not found', {"kind": "nodes"})

    def test_unauthorized(self):
        unauthorized = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "message": "Unauthorized",
                        "reason": "Unauthorized", "code": 401}
        for token in (None, "wrong"):
            r = once(self.srv.port, "GET", COIL + "/addressblocks", token)
            self.assertEqual((r.status, r.json), (401, unauthorized))

    def test_token_request(self):
        r = self.admin.post("/api/v1/namespaces/team/serviceaccounts/nobody/token", {})
        self.assertEqual(r.status, 404, r.raw)
        r = self.admin.post("/api/v1/namespaces/team/serviceaccounts/robot/token",
                            {"spec": {"expirationSeconds": 60}})
        self.assertEqual(r.status, 422, r.raw)
        self.assertForbidden(
            self.robot.post("/api/v1/namespaces/team/serviceaccounts/robot/token", {}),
            'serviceaccounts "robot" is forbidden: User "%s" cannot create resource '
            '"serviceaccounts/token" in API group "" in the namespace "team"' % SA,
            {"name": "robot", "kind": "serviceaccounts"})

    def test_token_dies_with_its_service_account(self):
        self._ok(self.admin.post("/api/v1/namespaces/team/serviceaccounts",
                                 {"metadata": {"name": "temp"}}))
        tr = self._ok(self.admin.post("/api/v1/namespaces/team/serviceaccounts/temp/token",
                                      {}))
        temp = tr["status"]["token"]
        self.assertEqual(once(self.srv.port, "GET", "/api", temp).status, 200)
        self._ok(self.admin.delete("/api/v1/namespaces/team/serviceaccounts/temp"), 200)
        self.assertEqual(once(self.srv.port, "GET", "/api", temp).status, 401)
        # Recreated under the same name, it is another ServiceAccount (another uid).
        self._ok(self.admin.post("/api/v1/namespaces/team/serviceaccounts",
                                 {"metadata": {"name": "temp"}}))
        self.assertEqual(once(self.srv.port, "GET", "/api", temp).status, 401)

    def test_request_log_names_the_user(self):
        self.robot.get("/api/v1/namespaces/team/pods")
        log = once(self.srv.port, "GET", "/_test/requests").json["items"]
        mine = [e for e in log if e["path"] == "/api/v1/namespaces/team/pods"]
        self.assertTrue(mine)
        self.assertEqual((mine[-1]["user"], mine[-1]["status"]), (SA, 403))
        denials = once(self.srv.port, "GET", "/_test/denials").json["items"]
        self.assertIn({"method": "GET", "path": "/api/v1/namespaces/team/pods", "user": SA,
                       "message": 'pods is forbidden: User "%s" cannot list resource "pods" '
                       'in API group "" in the namespace "team"' % SA}, denials)


class _Objects:
    """The two store calls the Authorizer makes, over a fixed list of objects."""

    def __init__(self, docs):
        self.docs = {}
        for d in docs:
            group = d["apiVersion"].rpartition("/")[0]
            key = "%s/%ss" % (group, d["kind"].lower())
            self.docs.setdefault(key, []).append(d)

    def get(self, key, ns, name):
        return next((d for d in self.docs.get(key, []) if d["metadata"]["name"] == name
                     and d["metadata"].get("namespace", "") == ns), None)

    def list(self, key, ns=None):
        return [d for d in self.docs.get(key, [])
                if ns is None or d["metadata"].get("namespace") == ns], 0


VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
VERSIONS = {"": "v1", "coil.cybozu.com": "v2", "coordination.k8s.io": "v1",
            "admissionregistration.k8s.io": "v1"}
METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT",
           "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE"}


def _call_request(group, resource, verb, ns):
    """(method, path, query) of one call as the test table of test/deploy names it."""
    base = "/api/v1" if not group else "/apis/%s/%s" % (group, VERSIONS[group])
    if ns:
        base += "/namespaces/" + ns
    plural, _, sub = resource.partition("/")
    path = base + "/" + plural
    if verb not in ("list", "watch", "create", "deletecollection") or sub:
        path += "/x" + ("/" + sub if sub else "")
    return METHODS[verb], path, {"watch": "1"} if verb == "watch" else {}


class DeployRoles(unittest.TestCase):
    """deploy/rbac through this evaluator: each program may make exactly the calls the table
    of test/deploy/test_render.py lists (the same least-privilege contract kustomize's
    rendering is checked against), every other verb on those resources is denied."""

    def test_calls_of_each_program(self):
        sys.path.insert(0, os.path.join(deploy_rbac.REPO, "test", "deploy"))
        import test_render
        authz = rbac.Authorizer(_Objects(deploy_rbac.objects()))
        for sa, calls in test_render.CALLS.items():
            user = authn.service_account_user(deploy_rbac.NAMESPACE, sa, "uid")
            for call in calls:
                a = rbac.request_attributes(*_call_request(*call))
                self.assertEqual(authz.authorize(user, a), (True, ""), (sa, call))
            made = set(calls)
            for group, resource, _, ns in made:
                for verb in VERBS:
                    if (group, resource, verb, ns) in made:
                        continue
                    a = rbac.request_attributes(*_call_request(group, resource, verb, ns))
                    self.assertEqual(authz.authorize(user, a), (False, ""),
                                     (sa, group, resource, verb, ns))


class InsecurePort(unittest.TestCase):
    """Without --token: no credentials is the administrator, a token is still authorized."""

    def test_insecure_and_service_account(self):
        srv = ServerProcess()
        try:
            anon = Client(srv.port)
            self.assertEqual(anon.get("/api/v1/nodes").status, 200)
            self.assertEqual(anon.post("/api/v1/namespaces/default/serviceaccounts",
                                       {"metadata": {"name": "s"}}).status, 201)
            tr = anon.post("/api/v1/namespaces/default/serviceaccounts/s/token", {}).json
            anon.close()
            token = tr["status"]["token"]
            self.assertEqual(once(srv.port, "GET", "/api/v1/nodes", token).status, 403)
            self.assertEqual(once(srv.port, "GET", "/api/v1/nodes", "bogus").status, 401)
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
