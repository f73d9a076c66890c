#!/usr/bin/python3
"""The built `coil migrate` (coil-migrator) against a real etcd (Debian's etcd-server 3.4,
started here on loopback with its own data dir, plain, with TLS client certificates, or with
password authentication) holding Coil v1's data, and the test API server (test/apiserver)
with deploy/crd applied standing in for the cluster.

dump: the manifest against test/migrate/golden/, applied with kubectl and read back, v1's
objects gone (v2's ConfigMap kept), namespaces annotated, the errors (a block outside its
pool, etcd down, a wrong password, no CA) changing nothing, --skip-uninstall, --dry-run.
replace: the prompt, node-by-node deletion with --interval, a StatefulSet pod recreated under
the same name (detected by uid), the failure file, the reserved blocks and coild's restart.
The test server has no controllers: a thread here plays kubelet and StatefulSet controller.

Usage: test_migrate.py /path/to/coil      (ctest label "migrate")
Nothing is skipped: a missing etcd, openssl or kubectl is a failure."""

import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.join(REPO, "test", "apiserver"))
import harness  # noqa: E402
from harness import free_port, read_file, wait_for  # noqa: E402
SETUP_KUBECTL = os.path.join(REPO, "test", "kubectl", "setup-kubectl.sh")
GOLDEN = os.path.join(HERE, "golden")
ETCD = "/usr/bin/etcd"
COIL = None  # set from argv
GROUP = "/apis/coil.cybozu.com/v2"


def golden(name, actual):
    """The expected text of test/migrate/golden/<name>; COIL_UPDATE_GOLDEN=1 rewrites it."""
    path = os.path.join(GOLDEN, name)
    if os.environ.get("COIL_UPDATE_GOLDEN") == "1":
        with open(path, "w") as f:
            f.write(actual)
    return read_file(path)


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Etcd:
    """One etcd member on free loopback ports; tls=dir with ca.crt, server.*, client.*"""

    def __init__(self, tmp, tls=None, extra=()):
        self.dir = tempfile.mkdtemp(dir=tmp, prefix="etcd.")
        self.tls = tls
        scheme = "https" if tls else "http"
        cport, pport = free_port(), free_port()
        self.url = "%s://127.0.0.1:%d" % (scheme, cport)
        peer = "http://127.0.0.1:%d" % pport
        args = [ETCD, "--name", "m", "--data-dir", os.path.join(self.dir, "data"),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "m=" + peer, "--log-level", "warn"] + list(extra)
        if tls:
            args += ["--cert-file", os.path.join(tls, "server.crt"),
                     "--key-file", os.path.join(tls, "server.key"),
                     "--trusted-ca-file", os.path.join(tls, "ca.crt"), "--client-cert-auth"]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.token = None
        wait_for(self.healthy, 20, "etcd at " + self.url)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def post(self, path, body):
        conn = self._conn()
        try:
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = self.token
            conn.request("POST", path, json.dumps(body), headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise AssertionError("etcd %s: %d %s" % (path, resp.status, data))
            return json.loads(data)
        finally:
            conn.close()

    def _conn(self):
        port = int(self.url.rsplit(":", 1)[1])
        if not self.tls:
            return http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        import ssl
        ctx = ssl.create_default_context(cafile=os.path.join(self.tls, "ca.crt"))
        ctx.load_cert_chain(os.path.join(self.tls, "client.crt"),
                            os.path.join(self.tls, "client.key"))
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)

    def healthy(self):
        try:
            self.post("/v3/kv/range", {"key": b64("health")})
            return True
        except (OSError, AssertionError):
            if self.proc.poll() is not None:
                raise AssertionError("etcd exited: " + read_file(self.log.name))
            return False

    def put(self, key, value):
        self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def enable_auth(self, password):
        """etcd 3.4 enables authentication only with a user root holding role root."""
        self.post("/v3/auth/user/add", {"name": "root", "password": password})
        self.post("/v3/auth/role/add", {"name": "root"})
        self.post("/v3/auth/user/grant", {"user": "root", "role": "root"})
        self.post("/v3/auth/enable", {})
        self.token = self.post("/v3/auth/authenticate",
                               {"name": "root", "password": password})["token"]


def make_tls(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, by openssl."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "1",
        "-subj", "/CN=test etcd CA")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                      ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-new", *ec, "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
            "-subj", "/CN=" + name, "-addext", ext)
        run("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p(name + ".crt"), "-days", "1", "-copy_extensions",
            "copy")
    return directory


class Api(harness.Api):
    """The test API server with the CRDs, and a short way to create objects."""

    def create(self, path, kind, name, ns=None, **fields):
        meta = {"name": name}
        if ns:
            meta["namespace"] = ns
        meta.update(fields.pop("metadata", {}))
        obj = {"kind": kind, "metadata": meta}
        obj.update(fields)
        return self.ok("POST", path, obj)


# Coil v1's objects, as `dump` must remove them, in the order it must remove them.
V1_OBJECTS = [
    ("/apis/apps/v1/namespaces/kube-system/daemonsets", "DaemonSet", "coil-node"),
    ("/apis/apps/v1/namespaces/kube-system/deployments", "Deployment", "coil-controllers"),
    ("/api/v1/namespaces/kube-system/configmaps", "ConfigMap", "coil-config"),
    ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "ClusterRoleBinding",
     "coil-node"),
    ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "ClusterRoleBinding",
     "coil-controllers"),
    ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole", "coil-node"),
    ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole", "coil-controllers"),
    ("/api/v1/namespaces/kube-system/serviceaccounts", "ServiceAccount", "coil-node"),
    ("/api/v1/namespaces/kube-system/serviceaccounts", "ServiceAccount", "coil-controller"),
]

POD_SPEC = {"containers": [{"name": "c", "image": "busybox"}]}
WORKLOAD_SPEC = {"selector": {"matchLabels": {"app": "coil-v1"}},
                 "template": {"metadata": {"labels": {"app": "coil-v1"}}, "spec": POD_SPEC}}
V1_NETCONF = '{"cniVersion": "0.3.1", "name": "k8s-pod-network", "type": "coil", ' \
             '"coild": "http://127.0.0.1:9383"}'


def create_v1_objects(api):
    for path, kind, name in V1_OBJECTS:
        fields = {}
        if kind in ("DaemonSet", "Deployment"):
            fields["spec"] = WORKLOAD_SPEC
        elif kind == "ConfigMap":
            fields["data"] = {"etcd_endpoints": "http://127.0.0.1:2379",
                              "cni_netconf": V1_NETCONF}
        elif kind == "ClusterRoleBinding":
            fields["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io",
                                 "kind": "ClusterRole", "name": name}
            fields["subjects"] = [{"kind": "ServiceAccount", "name": name,
                                   "namespace": "kube-system"}]
        api.create(path, kind, name, "kube-system" if "/namespaces/" in path else None,
                   **fields)


def present_v1_objects(api):
    return [(kind, name) for path, kind, name in V1_OBJECTS
            if api.get(path + "/" + name) is not None]


def seed_v1(etcd, prefix="/coil/", broken=False):
    """Pools default (two subnets), space and idle (no such namespace), subnets, blocks on
    three nodes, blocks of a node Kubernetes no longer has and of the deleted pool gone."""
    pools = {"default": {"subnets": ["10.0.0.0/24", "10.0.1.0/24"], "block_size": 5},
             "space": {"subnets": ["10.1.0.0/24", "10.1.4.0/23"], "block_size": 3},
             "idle": {"subnets": ["10.2.0.0/28"], "block_size": 2}}
    for name, pool in pools.items():
        etcd.put(prefix + "pool/" + name, json.dumps(pool))
        for subnet in pool["subnets"]:
            etcd.put(prefix + "subnet/" + subnet.split("/")[0], "")
    blocks = {
        "default/10.0.0.0": {"free": ["10.0.0.96/27"],
                             "nodes": {"node1": ["10.0.0.0/27", "10.0.0.64/27"],
                                       "node2": ["10.0.0.32/27"]}},
        "default/10.0.1.0": {"free": [], "nodes": {"node1": ["10.0.1.32/27"],
                                                   "retired": ["10.0.1.0/27"]}},
        "space/10.1.0.0": {"free": [], "nodes": {"node3": ["10.1.0.8/29"]}},
        "space/10.1.4.0": {"free": [], "nodes": {"node2": ["10.1.5.248/29"]}},
        "gone/10.9.0.0": {"free": [], "nodes": {"node1": ["10.9.0.0/27", "10.9.0.32/27"]}},
        "idle/10.2.0.0": {"free": ["10.2.0.0/30"], "nodes": {}},
    }
    if broken:
        blocks["default/10.0.1.0"]["nodes"]["node3"] = ["10.5.0.0/27"]
    for key, value in blocks.items():
        etcd.put(prefix + "block/" + key, json.dumps(value))
    etcd.put(prefix + "ip/10.0.0.0/0", json.dumps({"container_id": "c1", "namespace": "default",
                                                   "pod": "p", "created_at": "2020-01-01T00:00:00Z"}))


class MigrateTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-migrate.")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start_api(self, *extra):
        api = Api(self.tmp, *extra)
        self.addCleanup(api.stop)
        return api

    def start_etcd(self, tls=None, extra=()):
        etcd = Etcd(self.tmp, tls, extra)
        self.addCleanup(etcd.stop)
        return etcd

    def coil(self, api, *args, stdin=None, timeout=120):
        return subprocess.run([COIL, "migrate", "--kubeconfig", api.kubeconfig] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=timeout)

    def cluster(self, api):
        for node in ("node1", "node2", "node3"):
            api.create("/api/v1/nodes", "Node", node)
        api.create("/api/v1/namespaces", "Namespace", "space")
        create_v1_objects(api)


class DumpTest(MigrateTest):
    def dump(self, api, etcd, *args):
        return self.coil(api, "dump", "--etcd-endpoints", etcd.url, *args)

    def test_dump_uninstalls_annotates_and_converts(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd)
        self.cluster(api)
        self.assertEqual(len(present_v1_objects(api)), len(V1_OBJECTS))
        r = self.dump(api, etcd)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, golden("dump.yaml", r.stdout))
        self.assertEqual(present_v1_objects(api), [])
        deleted = [line.split()[1:] for line in r.stderr.splitlines()
                   if line.startswith("  deleted ")]
        self.assertEqual([(k, n.split("/")[-1]) for k, n in deleted],
                         [(k, n) for _, k, n in V1_OBJECTS])
        self.assertIn("skipping a reserved block from non-existent pool gone for node node1",
                      r.stderr)
        self.assertEqual(r.stderr.count("non-existent pool"), 1, r.stderr)
        ns = api.get("/api/v1/namespaces/space")
        self.assertEqual(ns["metadata"]["annotations"]["coil.cybozu.com/pool"], "space")
        default = api.get("/api/v1/namespaces/default")
        self.assertNotIn("coil.cybozu.com/pool",
                         default["metadata"].get("annotations") or {})
        self.assertIsNone(api.get("/api/v1/namespaces/idle"))
        self.apply_and_read_back(api, r.stdout)

        # Again, now that v2's ConfigMap of the same name is installed: it stays.
        kubectl = self.kubectl(api)
        subprocess.run(kubectl + ["apply", "-f",
                                  os.path.join(REPO, "deploy", "default", "coil-config.yaml")],
                       check=True, capture_output=True)
        v2_uid = api.get("/api/v1/namespaces/kube-system/configmaps/coil-config")["metadata"]["uid"]
        r = self.dump(api, etcd)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kept ConfigMap kube-system/coil-config: it belongs to Coil v2", r.stderr)
        cm = api.get("/api/v1/namespaces/kube-system/configmaps/coil-config")
        self.assertEqual(cm["metadata"]["uid"], v2_uid)
        self.assertEqual(r.stdout, golden("dump.yaml", r.stdout))

    def kubectl(self, api):
        path = subprocess.run([SETUP_KUBECTL], capture_output=True, text=True)
        self.assertEqual(path.returncode, 0, "Debian's kubectl unavailable: " + path.stderr)
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        os.environ["HOME"] = home  # kubectl's discovery cache must not see other servers
        return [path.stdout.strip(), "--server", api.url, "--request-timeout", "20s"]

    def apply_and_read_back(self, api, manifest):
        path = os.path.join(self.tmp, "data.yaml")
        with open(path, "w") as f:
            f.write(manifest)
        r = subprocess.run(self.kubectl(api) + ["apply", "-f", path], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        pools = {p["metadata"]["name"]: p["spec"] for p in api.items(GROUP + "/addresspools")}
        self.assertEqual(pools, {
            "default": {"blockSizeBits": 5,
                        "subnets": [{"ipv4": "10.0.0.0/24"}, {"ipv4": "10.0.1.0/24"}]},
            "idle": {"blockSizeBits": 2, "subnets": [{"ipv4": "10.2.0.0/28"}]},
            "space": {"blockSizeBits": 3,
                      "subnets": [{"ipv4": "10.1.0.0/24"}, {"ipv4": "10.1.4.0/23"}]}})
        blocks = {b["metadata"]["name"]: (b["index"], b["ipv4"], b["metadata"]["labels"])
                  for b in api.items(GROUP + "/addressblocks")}

        def labels(pool, node):
            return {"coil.cybozu.com/pool": pool, "coil.cybozu.com/node": node,
                    "coil.cybozu.com/reserved": "true"}
        self.assertEqual(blocks, {
            "default-0-v1": (0, "10.0.0.0/27", labels("default", "node1")),
            "default-2-v1": (2, "10.0.0.64/27", labels("default", "node1")),
            "default-9-v1": (9, "10.0.1.32/27", labels("default", "node1")),
            "default-1-v1": (1, "10.0.0.32/27", labels("default", "node2")),
            "space-95-v1": (95, "10.1.5.248/29", labels("space", "node2")),
            "space-1-v1": (1, "10.1.0.8/29", labels("space", "node3"))})

    def test_block_outside_its_pool_changes_nothing(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd, broken=True)
        self.cluster(api)
        r = self.dump(api, etcd)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Error: block 10.5.0.0/27 cannot exist in pool default", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(present_v1_objects(api)), len(V1_OBJECTS))
        self.assertNotIn("annotations", api.get("/api/v1/namespaces/space")["metadata"])

    def test_etcd_down_changes_nothing(self):
        api = self.start_api()
        self.cluster(api)
        r = self.coil(api, "dump", "--etcd-endpoints", "http://127.0.0.1:%d" % free_port(),
                      "--etcd-timeout", "500ms")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"Error: etcd http://127\.0\.0\.1:\d+/v3/kv/range: "
                         r"(Could not connect|Couldn't connect)")
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(present_v1_objects(api)), len(V1_OBJECTS))
        r = self.coil(api, "dump", "--etcd-endpoints", ",,")
        self.assertEqual((r.returncode, r.stderr.strip()), (1, "Error: no endpoints"))

    def test_kubernetes_down(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd)
        kubeconfig = read_file(api.kubeconfig).replace(api.url, "http://127.0.0.1:%d" %
                                                       free_port())
        with open(api.kubeconfig, "w") as f:
            f.write(kubeconfig)
        r = self.coil(api, "dump", "--etcd-endpoints", etcd.url)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Error: sanity: failed to retrieve default namespace: ", r.stderr)

    def test_skip_uninstall_and_prefix(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd, prefix="/other/")
        self.cluster(api)
        # A dead member first and an empty element: the next endpoint answers.
        dead = "http://127.0.0.1:%d" % free_port()
        r = self.coil(api, "dump", "--etcd-endpoints", dead + ",," + etcd.url,
                      "--skip-uninstall", "--etcd-prefix", "/other/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("uninstalling Coil v1 ...\n  skip\n", r.stderr)
        self.assertEqual(r.stdout, golden("dump.yaml", r.stdout))
        self.assertEqual(len(present_v1_objects(api)), len(V1_OBJECTS))

    def test_dry_run_changes_nothing(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd)
        self.cluster(api)
        api.ok("DELETE", "/api/v1/namespaces/kube-system/serviceaccounts/coil-controller")
        r = self.dump(api, etcd, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, golden("dump.yaml", r.stdout))
        would = [line for line in r.stderr.splitlines() if line.startswith("  would delete")]
        self.assertEqual(len(would), len(V1_OBJECTS) - 1, r.stderr)
        self.assertIn("  would delete ConfigMap kube-system/coil-config", would)
        self.assertIn("  absent ServiceAccount kube-system/coil-controller", r.stderr)
        self.assertIn("would annotate namespace space", r.stderr)
        self.assertEqual(len(present_v1_objects(api)), len(V1_OBJECTS) - 1)
        self.assertNotIn("annotations", api.get("/api/v1/namespaces/space")["metadata"])

    def test_tls(self):
        tls = make_tls(os.path.join(self.tmp))
        etcd, api = self.start_etcd(tls), self.start_api()
        seed_v1(etcd)
        api.create("/api/v1/nodes", "Node", "node1")
        j = lambda n: os.path.join(tls, n)  # noqa: E731
        r = self.dump(api, etcd, "--skip-uninstall", "--etcd-tls-ca", j("ca.crt"),
                      "--etcd-tls-cert", j("client.crt"), "--etcd-tls-key", j("client.key"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("name: default-9-v1", r.stdout)
        # Without the client certificate etcd refuses; without the CA curl does.
        r = self.dump(api, etcd, "--skip-uninstall", "--etcd-tls-ca", j("ca.crt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("Error: etcd https://127.0.0.1:", r.stderr)
        r = self.dump(api, etcd, "--skip-uninstall", "--etcd-tls-cert", j("client.crt"),
                      "--etcd-tls-key", j("client.key"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("certificate", r.stderr)

    def test_password(self):
        etcd, api = self.start_etcd(), self.start_api()
        seed_v1(etcd)
        etcd.enable_auth("s3cret")
        api.create("/api/v1/nodes", "Node", "node1")
        r = self.dump(api, etcd, "--skip-uninstall", "--etcd-username", "root",
                      "--etcd-password", "s3cret")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("name: default-9-v1", r.stdout)
        r = self.dump(api, etcd, "--skip-uninstall", "--etcd-username", "root",
                      "--etcd-password", "wrong")
        self.assertEqual(r.returncode, 1)
        self.assertIn("authentication failed", r.stderr)
        r = self.dump(api, etcd, "--skip-uninstall")
        self.assertEqual(r.returncode, 1)
        self.assertIn("user name is empty", r.stderr)


    def test_expired_token_is_renewed(self):
        # Tokens live 1 s here; the uninstall takes longer (its reads are held back 1.5 s),
        # so the second reading of etcd needs a new token.
        etcd, api = self.start_etcd(extra=["--auth-token-ttl", "1"]), self.start_api()
        seed_v1(etcd)
        etcd.enable_auth("s3cret")
        self.cluster(api)
        api.ok("POST", "/_test/faults", {"delay_ms": 1500, "method": "GET",
                                         "path_regex": "/daemonsets/coil-node$"})
        r = self.dump(api, etcd, "--etcd-username", "root", "--etcd-password", "s3cret")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, golden("dump.yaml", r.stdout))
        self.assertEqual(present_v1_objects(api), [])


class Kubelet(threading.Thread):
    """Finishes graceful pod deletions as a kubelet would, and recreates the pods labelled
    app=sts under the same name as a StatefulSet controller would. Records each deletion."""

    def __init__(self, api):
        super().__init__(daemon=True)
        self.api, self.stop, self.seen = api, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            for pod in self.api.items("/api/v1/pods"):
                m = pod["metadata"]
                if not m.get("deletionTimestamp"):
                    continue
                self.seen.append((time.time(), m["namespace"], m["name"],
                                  pod["spec"].get("nodeName")))
                path = "/api/v1/namespaces/%s/pods/%s" % (m["namespace"], m["name"])
                sts = (m.get("labels") or {}).get("app") == "sts"
                if sts:
                    # Hold the migrator's reads of this pod until its successor exists, so
                    # that it never sees the name free: only the new uid tells it apart.
                    self.api.ok("POST", "/_test/faults", {"delay_ms": 800, "method": "GET",
                                                          "path_regex": path + "$"})
                self.api.request("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1",
                                                  "gracePeriodSeconds": 0})
                if sts:
                    self.api.create("/api/v1/namespaces/%s/pods" % m["namespace"], "Pod",
                                    m["name"], m["namespace"], metadata={"labels": m["labels"]},
                                    spec=pod["spec"])
                    self.api.ok("DELETE", "/_test/faults")
            time.sleep(0.05)


class ReplaceTest(MigrateTest):
    def setUp(self):
        super().setUp()
        self.api = self.start_api("--graceful-pod-deletion")
        api = self.api
        for node in ("node1", "node2", "node3"):
            api.create("/api/v1/nodes", "Node", node)
        api.create("/api/v1/namespaces", "Namespace", "app")
        self.pods = {}
        for ns, name, node, labels, host in (
                ("app", "web-a", "node1", {}, False), ("app", "web-b", "node1", {}, False),
                ("default", "db-0", "node2", {"app": "sts"}, False),
                ("app", "stuck", "node2", {}, False), ("app", "web-c", "node3", {}, False),
                ("kube-system", "proxy", "node1", {}, True),
                ("app", "pending", None, {}, False),
                ("kube-system", "coild-x", "node1",
                 {"app.kubernetes.io/name": "coil", "app.kubernetes.io/component": "coild"},
                 True),
                ("kube-system", "coild-y", "node2",
                 {"app.kubernetes.io/name": "coil", "app.kubernetes.io/component": "coild"},
                 True)):
            spec = dict(POD_SPEC, hostNetwork=host)
            if node:
                spec["nodeName"] = node
            pod = api.create("/api/v1/namespaces/%s/pods" % ns, "Pod", name, ns,
                             metadata={"labels": labels}, spec=spec)
            self.pods[name] = pod["metadata"]["uid"]
        for name, pool, reserved in (("default-0-v1", "default", True),
                                     ("default-9-v1", "default", True),
                                     ("default-1", "default", False)):
            labels = {"coil.cybozu.com/pool": pool, "coil.cybozu.com/node": "node1"}
            if reserved:
                labels["coil.cybozu.com/reserved"] = "true"
            api.create(GROUP + "/addressblocks", "AddressBlock", name,
                       apiVersion="coil.cybozu.com/v2", metadata={"labels": labels},
                       index=int(name.split("-")[1]), ipv4="10.0.0.0/27")

    def pod_uid(self, ns, name):
        pod = self.api.get("/api/v1/namespaces/%s/pods/%s" % (ns, name))
        return pod["metadata"]["uid"] if pod else None

    def blocks(self):
        return sorted(b["metadata"]["name"] for b in self.api.items(GROUP + "/addressblocks"))

    def test_prompt_refused_changes_nothing(self):
        for answer in ("n\n", "\n", "yes please\n", ""):
            r = self.coil(self.api, "replace", stdin=answer)
            self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
            self.assertEqual(r.stderr, "DO YOU WANT TO PROCEED? [y/N] Aborted.\n")
        for name, uid in self.pods.items():
            ns = [p["metadata"]["namespace"] for p in self.api.items("/api/v1/pods")
                  if p["metadata"]["name"] == name][0]
            self.assertEqual(self.pod_uid(ns, name), uid)
            self.assertIsNone(self.api.get("/api/v1/namespaces/%s/pods/%s" % (ns, name))
                              ["metadata"].get("deletionTimestamp"))
        self.assertEqual(self.blocks(), ["default-0-v1", "default-1", "default-9-v1"])

    def test_dry_run_changes_nothing(self):
        r = self.coil(self.api, "replace", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, golden("replace-dry-run.txt", r.stdout))
        self.assertNotIn("PROCEED", r.stderr)
        self.assertEqual(self.blocks(), ["default-0-v1", "default-1", "default-9-v1"])
        self.assertEqual(self.pod_uid("app", "web-a"), self.pods["web-a"])
        self.assertEqual(self.pod_uid("kube-system", "coild-x"), self.pods["coild-x"])

    def test_replace(self):
        kubelet = Kubelet(self.api)
        kubelet.start()
        self.addCleanup(kubelet.join)
        self.addCleanup(kubelet.stop.set)
        # Deleting app/stuck fails on every retry: it must be reported, not waited for.
        self.api.ok("POST", "/_test/faults", {"fail_next": 50, "status": 500, "method": "DELETE",
                                              "path_regex": "/pods/stuck"})
        failures = os.path.join(self.tmp, "failed.txt")
        start = time.time()
        r = self.coil(self.api, "replace", "--interval", "1s", "--failed-pods-file", failures,
                      stdin="y\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "DO YOU WANT TO PROCEED? [y/N] ")
        out = r.stdout.replace(failures, "FAILED")
        self.assertEqual(out, golden("replace.txt", out))
        self.assertEqual(read_file(failures), "app/stuck\n")
        self.assertGreaterEqual(time.time() - start, 3.0)  # one interval per node
        # Node by node, an interval between them; host-network pods and unscheduled pods stay.
        deletions = [(t, ns + "/" + name, node) for t, ns, name, node in kubelet.seen]
        workload = [d for d in deletions if not d[1].startswith("kube-system/coild")]
        self.assertEqual([d[1] for d in workload],
                         ["app/web-a", "app/web-b", "default/db-0", "app/web-c"])
        self.assertGreaterEqual(workload[2][0] - workload[1][0], 1.0)
        self.assertGreaterEqual(workload[3][0] - workload[2][0], 1.0)
        self.assertIsNone(self.pod_uid("app", "web-a"))
        new_db = self.pod_uid("default", "db-0")
        self.assertIsNotNone(new_db)
        self.assertNotEqual(new_db, self.pods["db-0"])
        db_reads = [q["status"] for q in self.api.items("/_test/requests")
                    if q["method"] == "GET" and q["path"] == "/api/v1/namespaces/default/pods/db-0"]
        self.assertTrue(db_reads, "the migrator never polled default/db-0")
        self.assertNotIn(404, db_reads)  # so the new uid is what ended its wait
        self.assertEqual(self.pod_uid("kube-system", "proxy"), self.pods["proxy"])
        self.assertEqual(self.pod_uid("app", "pending"), self.pods["pending"])
        self.assertEqual(self.pod_uid("app", "stuck"), self.pods["stuck"])
        # The reserved blocks are gone, the others stay; coild was restarted after that.
        self.assertEqual(self.blocks(), ["default-1"])
        wait_for(lambda: len([s for s in kubelet.seen if "coild" in s[2]]) >= 2, 10,
                 "coild's pods to be deleted")
        coild = sorted(ns + "/" + n for _, ns, n, _ in kubelet.seen if "coild" in n)
        self.assertEqual(coild, ["kube-system/coild-x", "kube-system/coild-y"])


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_migrate.py /path/to/coil")
    COIL = os.path.abspath(sys.argv.pop(1))
    if not os.access(ETCD, os.X_OK):
        sys.exit("FAIL: %s missing (Debian package etcd-server)" % ETCD)
    unittest.main()
