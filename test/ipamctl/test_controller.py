#!/usr/bin/python3
"""The built `coil ipam-controller` against the test API server (deploy/crd applied):
flags, probes and metrics, AddressPool admission through the API server (upstream's cases),
end-to-end carving, losing the lease, and leader fail-over between two processes.

Usage: test_controller.py /path/to/coil      (ctest label "ipamctl")
Tests never skip: a missing tool (openssl, python3-yaml) is a failure."""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(REPO, "test", "apiserver"))
import deploy_rbac  # noqa: E402
import harness  # noqa: E402
from harness import free_port, read_file, wait_for  # noqa: E402
COIL = None  # set from argv

GROUP = "/apis/coil.cybozu.com/v2"
SERVICE = "coilv2-ipam-webhook-service"
FAST_LEADER = {"COIL_LEADER_LEASE_DURATION": "2s", "COIL_LEADER_RENEW_DEADLINE": "1500ms",
               "COIL_LEADER_RETRY_PERIOD": "300ms"}


class Api(harness.Api):
    """The test API server with the CRDs and deploy/'s RBAC, plus the objects these tests
    create. The controller runs as its ServiceAccount under deploy/'s RBAC; the test is
    admin."""

    def __init__(self, tmp, *extra, sa="coil-ipam-controller"):
        super().__init__(tmp, *extra)
        deploy_rbac.apply(self.url)
        self.token = deploy_rbac.token(self.url, sa)

    def create_node(self, name):
        self.ok("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                          "metadata": {"name": name}})

    def create_pool(self, name, bits, subnets):
        return self.ok("POST", GROUP + "/addresspools", {
            "apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
            "metadata": {"name": name}, "spec": {"blockSizeBits": bits, "subnets": subnets}})

    def create_request(self, name, node, pool):
        return self.ok("POST", GROUP + "/blockrequests", {
            "apiVersion": "coil.cybozu.com/v2", "kind": "BlockRequest",
            "metadata": {"name": name}, "spec": {"nodeName": node, "poolName": pool}})

    def remove(self, path):
        """Drops the finalizers of an object and deletes it; waits until it is gone."""
        self.request("PATCH", path, {"metadata": {"finalizers": None}},
                     "application/merge-patch+json")
        self.request("DELETE", path)
        wait_for(lambda: self.get(path) is None, 10, path + " to go")


def make_certificate(directory, service=SERVICE):
    """tls.crt/tls.key for the webhook service name, made by openssl (argv, no shell)."""
    names = ["%s.kube-system.svc" % service, "%s.kube-system" % service, service]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    os.path.join(directory, "tls.key"), "-out",
                    os.path.join(directory, "tls.crt"), "-days", "1", "-subj",
                    "/CN=" + names[0], "-addext",
                    "subjectAltName=" + ",".join("DNS:" + n for n in names)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(directory, "tls.crt"), "rb") as f:
        return base64.b64encode(f.read()).decode()


def webhook_configurations(ca_bundle, kind="addresspool", plural="addresspools",
                           component="ipam", service=SERVICE):
    """The two webhook configurations of a controller as deploy/webhook has them."""
    rule = {"apiGroups": ["coil.cybozu.com"], "apiVersions": ["v2"], "resources": [plural]}

    def hook(name, path, operations):
        return {"name": name, "admissionReviewVersions": ["v1", "v1beta1"],
                "sideEffects": "None", "failurePolicy": "Fail",
                "clientConfig": {"caBundle": ca_bundle, "service": {
                    "name": service, "namespace": "kube-system", "path": path}},
                "rules": [dict(rule, operations=operations)]}

    mutating = {"apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "coilv2-mutating-%s-webhook-configuration" % component},
                "webhooks": [hook("m%s.kb.io" % kind, "/mutate-coil-cybozu-com-v2-" + kind,
                                  ["CREATE"])]}
    validating = {"apiVersion": "admissionregistration.k8s.io/v1",
                  "kind": "ValidatingWebhookConfiguration",
                  "metadata": {"name": "coilv2-validating-%s-webhook-configuration" % component},
                  "webhooks": [hook("v%s.kb.io" % kind, "/validate-coil-cybozu-com-v2-" + kind,
                                    ["CREATE", "UPDATE"])]}
    return mutating, validating


class Controller:
    """One `coil ipam-controller` (or `applet`) process with its own ports and log."""

    def __init__(self, tmp, api, name, cert_dir, webhook_port=None, extra=(), env=None,
                 applet="ipam-controller"):
        self.name = name
        self.metrics_port, self.health_port = free_port(), free_port()
        self.webhook_port = webhook_port or free_port()
        kubeconfig = deploy_rbac.kubeconfig(os.path.join(tmp, "kubeconfig-" + name), api.url,
                                            api.token)
        self.log_path = os.path.join(tmp, "controller-%s.log" % name)
        self.log = open(self.log_path, "w")
        environ = dict(os.environ, COIL_POD_NAME=name, **FAST_LEADER)
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [COIL, applet, "--kubeconfig", kubeconfig,
             "--metrics-addr", "127.0.0.1:%d" % self.metrics_port,
             "--health-addr", "127.0.0.1:%d" % self.health_port,
             "--webhook-addr", "127.0.0.1:%d" % self.webhook_port, "--cert-dir", cert_dir,
             "--zap-stacktrace-level=panic"] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT, env=environ)

    def http(self, port, path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        except OSError:
            return None, ""
        finally:
            conn.close()

    def metrics(self):
        return self.http(self.metrics_port, "/metrics")[1]

    def wait_ready(self):
        wait_for(lambda: self.http(self.health_port, "/readyz")[0] == 200, 10,
                 "%s to be ready (see %s)" % (self.name, self.log_path))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        if not self.log.closed:
            self.log.close()
        return code

    def output(self):
        return read_file(self.log_path)


def lease_holder(api, lease="coil-ipam-leader"):
    lease = api.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/" + lease)
    return (lease or {}).get("spec", {}).get("holderIdentity")


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ipamctl-test-")
        self.cert_dir = os.path.join(self.tmp, "certs")
        os.mkdir(self.cert_dir)
        self.cleanups = []
        self.controllers = []
        self.apis = []

    def tearDown(self):
        for api in self.apis:  # deploy/rbac grants every call the controller made
            self.assertEqual(api.ok("GET", "/_test/denials")["items"], [])
        for fn in reversed(self.cleanups):
            fn()
        for ctl in self.controllers:
            for bad in ("Sanitizer", "runtime error:"):
                self.assertNotIn(bad, ctl.output(), ctl.log_path)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_api(self, *extra, sa="coil-ipam-controller"):
        api = Api(self.tmp, *extra, sa=sa)
        self.cleanups.append(api.stop)
        self.apis.append(api)
        return api

    def start_controller(self, api, name, **kw):
        ctl = Controller(self.tmp, api, name, self.cert_dir, **kw)
        self.controllers.append(ctl)
        self.cleanups.append(lambda: ctl.stop(signal.SIGKILL))
        return ctl


class FlagsTest(Base):
    def run_coil(self, *args, argv0=None):
        return subprocess.run([argv0 or COIL] + list(args), capture_output=True, text=True,
                              timeout=20)

    def test_version(self):
        r = self.run_coil("ipam-controller", "--version")
        self.assertEqual((r.returncode, r.stdout), (0, "coil-ipam-controller version 2.15.0\n"))
        alias = os.path.join(os.path.dirname(COIL), "coil-ipam-controller")
        r = self.run_coil("--zap-stacktrace-level=panic", "--zap-devel", "--version",
                          argv0=alias)
        self.assertEqual((r.returncode, r.stdout), (0, "coil-ipam-controller version 2.15.0\n"))

    def test_help_lists_flags_with_defaults(self):
        r = self.run_coil("ipam-controller", "--help")
        self.assertEqual(r.returncode, 0)
        for text in ['--metrics-addr', '":9386"', '--health-addr', '":9387"', '--webhook-addr',
                     '":9443"', '--cert-dir', '"/certs"', '--gc-interval', '3600s',
                     '--enable-cert-rotation', '--enable-restart-on-cert-refresh',
                     '--kubeconfig', '--version']:
            self.assertIn(text, r.stdout)

    def test_bad_flags(self):
        # Like upstream's cobra programs: the error, then the usage, and status 1.
        r = self.run_coil("ipam-controller", "--no-such-flag")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Error: unknown flag: --no-such-flag", r.stderr)
        self.assertIn("Usage:", r.stderr)
        r = self.run_coil("ipam-controller", "--gc-interval", "often")
        self.assertEqual(r.returncode, 1)

    def test_invalid_webhook_address(self):
        api = self.start_api()
        ctl = self.start_controller(api, "bad", extra=["--webhook-addr", "nonsense"])
        self.assertEqual(ctl.proc.wait(timeout=10), 1)
        self.assertIn("invalid webhook address: nonsense", ctl.output())


class AdmissionTest(Base):
    """Upstream's AddressPool admission cases through the API server, which calls the
    controller's webhooks over HTTPS."""

    def setUp(self):
        super().setUp()
        ca_bundle = make_certificate(self.cert_dir)
        webhook_port = free_port()
        self.api = self.start_api("--service-host-override",
                                  "%s.kube-system=127.0.0.1:%d" % (SERVICE, webhook_port))
        mutating, validating = webhook_configurations(ca_bundle)
        self.api.ok("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                    mutating)
        self.api.ok("POST",
                    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                    validating)
        self.ctl = self.start_controller(self.api, "admission", webhook_port=webhook_port)
        self.ctl.wait_ready()

    def create(self, spec):
        self.api.remove(GROUP + "/addresspools/test")
        return self.api.request("POST", GROUP + "/addresspools", {
            "apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
            "metadata": {"name": "test"}, "spec": spec})

    def update(self, change):
        pool = self.api.ok("GET", GROUP + "/addresspools/test")
        change(pool["spec"])
        return self.api.request("PUT", GROUP + "/addresspools/test", pool)

    def assertRejected(self, answer, text=None):
        status, obj = answer
        self.assertGreaterEqual(status, 400, obj)
        if text:
            self.assertIn(text, obj["message"])

    def test_admission_cases(self):
        v4 = [{"ipv4": "10.2.0.0/24"}]
        # 1: defaulted blockSizeBits, finalizer added by the mutating webhook.
        status, pool = self.create({"subnets": v4})
        self.assertEqual(status, 201, pool)
        self.assertEqual(pool["metadata"]["finalizers"], ["coil.cybozu.com"])
        self.assertEqual(pool["spec"]["blockSizeBits"], 5)
        # 2, 3
        status, pool = self.create({"blockSizeBits": 0, "subnets": v4})
        self.assertEqual((status, pool["spec"]["blockSizeBits"]), (201, 0))
        self.assertEqual(self.create({"blockSizeBits": 2, "subnets": v4})[0], 201)
        # 4-7
        self.assertRejected(self.create({"blockSizeBits": -1, "subnets": [{"ipv4": "a.b.c.d/24"}]}))
        self.assertRejected(self.create({"blockSizeBits": -1, "subnets": v4}))
        self.assertRejected(self.create({"blockSizeBits": 2}))
        self.assertRejected(
            self.create({"blockSizeBits": 8, "subnets": [{"ipv4": "10.2.0.0/30"}]}),
            'admission webhook "vaddresspool.kb.io" denied the request: AddressPool.'
            'coil.cybozu.com "test" is invalid: spec.subnets[0]: Invalid value: "": '
            'too narrow subnet: 10.2.0.0/30')
        self.assertRejected(self.create({"blockSizeBits": 5, "subnets": [{"ipv4": "a.b.c.d/24"}]}),
                            "invalid CIDR address: a.b.c.d/24")
        # 8, 9: appending subnets
        self.assertEqual(self.create({"blockSizeBits": 0, "subnets": [{"ipv6": "fd02::/120"}]})[0],
                         201)
        status, obj = self.update(lambda s: s["subnets"].append({"ipv6": "fd03::/112"}))
        self.assertEqual(status, 200, obj)
        self.assertEqual(self.create({"blockSizeBits": 8, "subnets": [{"ipv6": "fd02::/120"}]})[0],
                         201)
        self.assertRejected(self.update(lambda s: s["subnets"].append({"ipv6": "fd03::/124"})),
                            "too narrow subnet: fd03::/124")
        # 10-12: unchangeable and unshrinkable
        self.assertEqual(self.create({"blockSizeBits": 2, "subnets": v4})[0], 201)
        self.assertRejected(self.update(lambda s: s.update(blockSizeBits=4)),
                            "spec.blockSizeBits: Forbidden: unchangeable")
        two = [{"ipv4": "10.2.0.0/24"}, {"ipv4": "10.3.0.0/24"}]
        self.assertEqual(self.create({"blockSizeBits": 2, "subnets": two})[0], 201)
        self.assertRejected(self.update(lambda s: s["subnets"].pop()),
                            "spec.subnets: Forbidden: unshrinkable")
        self.assertRejected(self.update(lambda s: s["subnets"].__setitem__(1, {"ipv4": "10.4.0.0/24"})),
                            "spec.subnets[1]: Forbidden: unchangeable")
        # e2e: the `invalid` pool.
        self.assertRejected(self.api.request("POST", GROUP + "/addresspools", {
            "apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
            "metadata": {"name": "invalid"},
            "spec": {"blockSizeBits": 5, "subnets": [{"ipv4": "10.224.0.0/30"}]}}))

    def test_carving_end_to_end(self):
        """The leader answers a request with a real block, exposes the gauges, and lets an
        unused pool being deleted go."""
        self.api.create_node("node1")
        status, _ = self.create({"blockSizeBits": 1, "subnets": [
            {"ipv4": "10.2.0.0/29", "ipv6": "fd02::0200/125"},
            {"ipv4": "10.3.0.0/30", "ipv6": "fd02::0300/126"}]})
        self.assertEqual(status, 201)
        req = self.api.create_request("req-test-node1", "node1", "test")
        done = wait_for(lambda: (self.api.get(GROUP + "/blockrequests/req-test-node1") or {})
                        .get("status"), 10, "the request's status")
        self.assertEqual(done["addressBlockName"], "test-0")
        block = self.api.ok("GET", GROUP + "/addressblocks/test-0")
        self.assertEqual((block["ipv4"], block["ipv6"], block["index"]),
                         ("10.2.0.0/31", "fd02::200/127", 0))
        self.assertEqual(block["metadata"]["labels"]["coil.cybozu.com/request"],
                         req["metadata"]["uid"])
        # The block's finalizer draws the API server's Warning header (as kube-apiserver's
        # does); the controller logs it and the create still succeeded (the block exists).
        warned = [json.loads(line) for line in self.ctl.output().splitlines()
                  if '"API server warning"' in line]
        self.assertTrue(warned, self.ctl.log_path)
        self.assertEqual((warned[0]["level"], warned[0]["method"], warned[0]["warning"]), (
            "warn", "POST", 'metadata.finalizers: "coil.cybozu.com": prefer a domain-qualified '
            "finalizer name including a path (/) to avoid accidental conflicts with other "
            "finalizer writers"))
        metrics = self.ctl.metrics()
        self.assertIn('coil_controller_max_blocks{pool="test"} 6\n', metrics)
        self.assertIn('coil_controller_allocated_blocks{pool="test"} 1\n', metrics)
        # The pool stays while its block exists, and goes once the block is gone.
        self.api.request("DELETE", GROUP + "/addresspools/test")
        time.sleep(0.5)
        self.assertIsNotNone(self.api.get(GROUP + "/addresspools/test"))
        self.api.remove(GROUP + "/addressblocks/test-0")
        wait_for(lambda: self.api.get(GROUP + "/addresspools/test") is None, 10,
                 "the pool's finalizer to be removed")
        wait_for(lambda: 'pool="test"' not in self.ctl.metrics(), 5, "the gauges to go")
        self.assertEqual(self.ctl.stop(), 0)

    def test_probes(self):
        self.assertEqual(self.ctl.http(self.ctl.health_port, "/healthz"), (200, "ok"))
        self.assertEqual(self.ctl.http(self.ctl.health_port, "/readyz"), (200, "ok"))
        self.assertEqual(self.ctl.http(self.ctl.health_port, "/nope")[0], 404)
        self.assertEqual(self.ctl.http(self.ctl.metrics_port, "/metrics")[0], 200)
        self.assertEqual(self.ctl.http(self.ctl.metrics_port, "/other")[0], 404)
        # Without a certificate the webhook check fails.
        os.unlink(os.path.join(self.cert_dir, "tls.crt"))
        os.unlink(os.path.join(self.cert_dir, "tls.key"))
        other = self.start_controller(self.api, "nocert")
        wait_for(lambda: other.http(other.health_port, "/healthz")[0] == 200, 10, "healthz")
        status, body = other.http(other.health_port, "/readyz")
        self.assertEqual(status, 500)
        self.assertIn("[-]webhook failed", body)


class LeaderTest(Base):
    def setUp(self):
        super().setUp()
        make_certificate(self.cert_dir)
        self.api = self.start_api()

    def test_losing_the_lease_exits_nonzero(self):
        ctl = self.start_controller(self.api, "victim")
        wait_for(lambda: lease_holder(self.api) == "victim", 10, "victim to lead")
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/coil-ipam-leader"
        lease = self.api.ok("GET", path)
        lease["spec"]["holderIdentity"] = "thief"
        lease["spec"]["leaseDurationSeconds"] = 60
        self.api.ok("PUT", path, lease)
        self.assertEqual(ctl.proc.wait(timeout=10), 1)
        self.assertIn("leader election lost", ctl.output())

    def test_failover_during_a_stream_of_requests(self):
        nodes = ["node%d" % i for i in range(4)]
        for node in nodes:
            self.api.create_node(node)
        self.api.create_pool("default", 0, [{"ipv4": "10.8.0.0/24"}])
        first = self.start_controller(self.api, "first")
        wait_for(lambda: lease_holder(self.api) == "first", 10, "first to lead")
        second = self.start_controller(self.api, "second")
        self.api.ok("DELETE", "/_test/requests")

        total, kill_at = 48, 16
        for i in range(total):
            self.api.create_request("req-%d" % i, nodes[i % len(nodes)], "default")
            if i == kill_at:
                first.stop(signal.SIGKILL)
            time.sleep(0.05)
        wait_for(lambda: lease_holder(self.api) == "second", 15, "second to take over")

        def answered():
            items = self.api.items(GROUP + "/blockrequests")
            return len(items) == total and all(
                (r.get("status") or {}).get("addressBlockName") for r in items) and items
        requests = wait_for(answered, 20, "every request to be answered")

        blocks = self.api.items(GROUP + "/addressblocks")
        self.assertEqual(len(blocks), total)
        names = [r["status"]["addressBlockName"] for r in requests]
        self.assertEqual(len(set(names)), total, "two requests share a block")
        by_name = {b["metadata"]["name"]: b for b in blocks}
        for r in requests:
            block = by_name[r["status"]["addressBlockName"]]
            self.assertEqual(block["metadata"]["labels"]["coil.cybozu.com/request"],
                             r["metadata"]["uid"])
            self.assertEqual(len(r["status"]["conditions"]), 1)
        self.assertEqual(sorted(b["index"] for b in blocks), list(range(total)))
        # Above: every block belongs to exactly one request and none is left over. The POSTs
        # the server answered were creations or AlreadyExists, nothing else: the new leader
        # carves from its cache, which may not have seen the last blocks the old one made
        # yet; such a POST gets 409 and the carve moves on to the next free index (at most
        # once per block the old leader made). A POST the killed leader had in flight may be
        # logged with status 0: its answer never reached anyone (the block it made, if any,
        # is among those checked above).
        log = self.api.ok("GET", "/_test/requests")["items"]
        posts = [e["status"] for e in log if e["method"] == "POST" and e["status"] != 0 and
                 e["path"].endswith("/addressblocks")]
        self.assertEqual([s for s in posts if s not in (201, 409)], [])
        self.assertLessEqual(posts.count(409), kill_at + 1)
        self.assertGreaterEqual(posts.count(201), total - 1)
        self.assertEqual(second.stop(), 0)
        self.assertIn("became leader", second.output())


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_controller.py /path/to/coil")
    COIL = os.path.abspath(sys.argv.pop(1))
    for tool in ("openssl",):
        if not shutil.which(tool):
            sys.exit("FAIL: %s is needed by these tests" % tool)
    unittest.main(verbosity=2)
