"""Admission webhooks over HTTPS, fault injection, TLS with bearer tokens."""

import base64
import http.server
import json
import shutil
import ssl
import tempfile
import threading
import time
import unittest

import certs
from kubetest import Client, ServerProcess, ServerTest, Watch, free_port, load_crds

POOLS = "/apis/coil.cybozu.com/v2/addresspools"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"


class Webhook(http.server.BaseHTTPRequestHandler):
    """Mimics coil's AddressPool webhooks: the mutating one adds the finalizer, the validating
    one refuses pools named "bad-*" with a 422 Invalid status."""

    reviews = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Webhook.reviews.append((self.path, review))
        req = review["request"]
        resp = {"uid": req["uid"], "allowed": True}
        obj = req.get("object") or {}
        if self.path == "/mutate":
            if "coil.cybozu.com" not in (obj["metadata"].get("finalizers") or []):
                op = [{"op": "add", "path": "/metadata/finalizers", "value": ["coil.cybozu.com"]}]
                resp["patchType"] = "JSONPatch"
                resp["patch"] = base64.b64encode(json.dumps(op).encode()).decode()
        elif req["name"].startswith("bad-"):
            resp["allowed"] = False
            resp["status"] = {"code": 422, "reason": "Invalid",
                              "message": 'AddressPool.coil.cybozu.com "%s" is invalid: '
                                         'spec.subnets[0]: Invalid value: "": too narrow subnet'
                                         % req["name"]}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def pool(name):
    return {"metadata": {"name": name}, "spec": {"subnets": [{"ipv4": "10.2.0.0/16"}]}}


class Admission(ServerTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="webhook-test-")
        cls.ca = certs.make_ca(cls.tmp)
        other_ca = certs.make_ca(cls.tmp, "other")
        key, crt = certs.make_cert(cls.tmp, cls.ca, "hook", ["coilv2-ipam-webhook-service."
                                                              "kube-system.svc", "127.0.0.1"])
        cls.hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(crt, key)
        cls.hook.socket = tls.wrap_socket(cls.hook.socket, server_side=True)
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        cls.hook_port = cls.hook.server_address[1]
        cls.server_args = ("--service-host-override",
                           "coilv2-ipam-webhook-service.kube-system=127.0.0.1:%d" % cls.hook_port)
        with open(cls.ca[1], "rb") as f:
            cls.ca_bundle = base64.b64encode(f.read()).decode()
        with open(other_ca[1], "rb") as f:
            cls.other_bundle = base64.b64encode(f.read()).decode()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.hook.shutdown()
        shutil.rmtree(cls.tmp)

    def tearDown(self):
        for path in (MWC, VWC):
            for cfg in self.c.get(path).json["items"]:
                self.c.delete(path + "/" + cfg["metadata"]["name"])
        Webhook.reviews.clear()

    def _configs(self, bundle=None, policy="Fail", url=False, port=None):
        def cc(path):
            if url:
                return {"url": "https://127.0.0.1:%d%s" % (port or self.hook_port, path),
                        "caBundle": bundle or self.ca_bundle}
            return {"service": {"name": "coilv2-ipam-webhook-service",
                                "namespace": "kube-system", "path": path},
                    "caBundle": bundle or self.ca_bundle}

        def rules(ops):
            return [{"apiGroups": ["coil.cybozu.com"], "apiVersions": ["v2"],
                     "operations": ops, "resources": ["addresspools"]}]
        m = {"metadata": {"name": "coilv2-mutating-ipam-webhook-configuration"},
             "webhooks": [{"name": "maddresspool.kb.io", "clientConfig": cc("/mutate"),
                           "rules": rules(["CREATE"]), "failurePolicy": policy,
                           "sideEffects": "None", "admissionReviewVersions": ["v1", "v1beta1"]}]}
        v = {"metadata": {"name": "coilv2-validating-ipam-webhook-configuration"},
             "webhooks": [{"name": "vaddresspool.kb.io", "clientConfig": cc("/validate"),
                           "rules": rules(["CREATE", "UPDATE"]), "failurePolicy": policy,
                           "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
        self.ok(self.c.post(MWC, m), 201)
        self.ok(self.c.post(VWC, v), 201)

    def test_mutate_and_validate(self):
        self._configs()
        got = self.ok(self.c.post(POOLS, pool("good")), 201)
        self.assertEqual(got["metadata"]["finalizers"], ["coil.cybozu.com"])
        paths = [p for p, _ in Webhook.reviews]
        self.assertEqual(paths, ["/mutate", "/validate"])
        req = Webhook.reviews[0][1]["request"]
        self.assertEqual(req["operation"], "CREATE")
        self.assertEqual(req["kind"], {"group": "coil.cybozu.com", "version": "v2",
                                       "kind": "AddressPool"})
        self.assertEqual(req["resource"]["resource"], "addresspools")
        self.assertEqual(req["object"]["spec"]["blockSizeBits"], 5)  # defaulted before webhooks
        self.assertIsNone(req["oldObject"])
        self.assertFalse(req["dryRun"])
        self.assertIn("username", req["userInfo"])
        r = self.c.post(POOLS, pool("bad-one"))
        self.assertEqual((r.status, r.json["reason"]), (422, "Invalid"))
        self.assertEqual(r.json["message"], 'admission webhook "vaddresspool.kb.io" denied the '
                         'request: AddressPool.coil.cybozu.com "bad-one" is invalid: '
                         'spec.subnets[0]: Invalid value: "": too narrow subnet')
        self.assertEqual(self.c.get(POOLS + "/bad-one").status, 404)
        Webhook.reviews.clear()
        self.ok(self.c.patch(POOLS + "/good", {"metadata": {"labels": {"a": "b"}}}))
        self.assertEqual([p for p, _ in Webhook.reviews], ["/validate"])  # UPDATE: validating
        upd = Webhook.reviews[0][1]["request"]
        self.assertEqual(upd["operation"], "UPDATE")
        self.assertEqual(upd["oldObject"]["metadata"].get("labels"), None)
        self.c.patch(POOLS + "/good", {"metadata": {"finalizers": None}})

    def test_delete_is_admitted(self):
        self.ok(self.c.post(POOLS, pool("bad-del")), 201)
        cfg = {"metadata": {"name": "deletes"}, "webhooks": [{
            "name": "vdelete.kb.io", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": {"url": "https://127.0.0.1:%d/validate" % self.hook_port,
                             "caBundle": self.ca_bundle},
            "rules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["DELETE"],
                       "resources": ["addresspools"], "scope": "Cluster"}]}]}
        self.ok(self.c.post(VWC, cfg), 201)
        r = self.c.delete(POOLS + "/bad-del")
        self.assertEqual(r.status, 422)
        req = Webhook.reviews[-1][1]["request"]
        self.assertEqual((req["operation"], req["object"]), ("DELETE", None))
        self.assertEqual(req["oldObject"]["metadata"]["name"], "bad-del")
        self.c.delete(VWC + "/deletes")
        self.ok(self.c.delete(POOLS + "/bad-del"))

    def test_url_client_config(self):
        self._configs(url=True)
        got = self.ok(self.c.post(POOLS, pool("byurl")), 201)
        self.assertEqual(got["metadata"]["finalizers"], ["coil.cybozu.com"])
        self.c.patch(POOLS + "/byurl", {"metadata": {"finalizers": None}})

    def test_bad_ca_fails_closed(self):
        self._configs(bundle=self.other_bundle)
        r = self.c.post(POOLS, pool("untrusted"))
        self.assertEqual(r.status, 500)
        self.assertIn('failed calling webhook "maddresspool.kb.io"', r.json["message"])

    def test_failure_policy_ignore(self):
        self._configs(policy="Ignore", url=True, port=free_port())
        got = self.ok(self.c.post(POOLS, pool("ignored")), 201)
        self.assertNotIn("finalizers", got["metadata"])

    def test_failure_policy_fail_when_down(self):
        self._configs(url=True, port=free_port())
        self.assertEqual(self.c.post(POOLS, pool("down")).status, 500)


class Faults(ServerTest):
    def test_fail_next(self):
        r = self.c.post("/_test/faults", {"fail_next": 2, "status": 429, "retry_after": 1,
                                          "path_regex": "/addresspools"})
        self.assertEqual(r.status, 200)
        for _ in range(2):
            r = self.c.get(POOLS)
            self.assertEqual((r.status, r.json["reason"]), (429, "TooManyRequests"))
            self.assertEqual(r.headers["Retry-After"], "1")
            self.assertEqual(r.json["details"]["retryAfterSeconds"], 1)
        self.ok(self.c.get("/api/v1/nodes"))  # path does not match
        self.ok(self.c.get(POOLS))
        self.c.post("/_test/faults", {"fail_next": 1})
        r = self.c.get("/api/v1/nodes")
        self.assertEqual((r.status, r.json["reason"]), (500, "InternalError"))
        self.ok(self.c.get("/api/v1/nodes"))

    def test_delay_and_log(self):
        self.c.delete("/_test/requests")
        self.c.post("/_test/faults", {"delay_ms": 300, "method": "GET", "path_regex": "/nodes"})
        t0 = time.time()
        self.ok(self.c.get("/api/v1/nodes?limit=5"))
        self.assertGreater(time.time() - t0, 0.28)
        self.c.delete("/_test/faults")
        t0 = time.time()
        self.ok(self.c.get("/api/v1/nodes"))
        self.assertLess(time.time() - t0, 0.25)
        log = self.ok(self.c.get("/_test/requests"))["items"]
        self.assertEqual([(e["method"], e["path"], e["query"], e["status"]) for e in log],
                         [("GET", "/api/v1/nodes", "limit=5", 200), ("GET", "/api/v1/nodes", "",
                                                                       200)])
        since = log[-1]["seq"]
        self.ok(self.c.get("/version"))
        self.assertEqual(len(self.ok(self.c.get("/_test/requests?since=%d" % since))["items"]), 1)

    def test_drop_watches(self):
        w = Watch(self.port, POOLS + "?watch=1&resourceVersion=1")
        self.wait_for(lambda: self.ok(self.c.get("/_test/watches"))["items"], msg="watch open")
        r = self.ok(self.c.post("/_test/faults", {"drop_watches": True}))
        self.assertEqual(r["dropped_watches"], 1)
        with self.assertRaises(Exception):
            while True:  # an aborted chunked stream: no terminating chunk
                if w.next() is None:
                    raise AssertionError("clean end instead of a drop")
        w.close()
        self.wait_for(lambda: not self.ok(self.c.get("/_test/watches"))["items"], msg="unwatch")

    def test_reset(self):
        self.ok(self.c.post(POOLS, pool("resetme")), 201)
        self.c.post("/_test/faults", {"fail_next": 5})
        self.ok(self.c.post("/_test/reset", {"data": True}))
        self.assertEqual(self.ok(self.c.get("/_test/faults"))["rules"], [])
        self.assertEqual(self.c.get(POOLS).status, 404)  # CRDs are gone too
        w = Watch(self.port, "/api/v1/namespaces?watch=1&resourceVersion=1")
        self.assertEqual(w.next()["object"]["code"], 410)  # history before the reset is gone
        w.close()
        self.ok(self.c.get("/api/v1/namespaces/default"))
        load_crds(self.c)
        self.assertEqual(self.ok(self.c.get(POOLS))["items"], [])


class TLSToken(unittest.TestCase):
    def test_https_with_token(self):
        tmp = tempfile.mkdtemp(prefix="tls-test-")
        try:
            ca = certs.make_ca(tmp)
            key, crt = certs.make_cert(tmp, ca, "api", ["localhost", "127.0.0.1"])
            srv = ServerProcess("--tls-cert", crt, "--tls-key", key, "--token", "s3cret")
            try:
                ctx = ssl.create_default_context(cafile=ca[1])
                anon = Client(srv.port, tls_context=ctx)
                r = anon.get("/api/v1/namespaces")
                self.assertEqual((r.status, r.json["reason"]), (401, "Unauthorized"))
                wrong = Client(srv.port, tls_context=ctx, token="nope")
                self.assertEqual(wrong.get("/api").status, 401)
                good = Client(srv.port, tls_context=ctx, token="s3cret")
                self.assertEqual(good.get("/api/v1/namespaces").status, 200)
                for c in (anon, wrong, good):
                    c.close()
            finally:
                srv.stop()
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
