"""The three-node cluster: the L2 network and its namespaces, the test API server in
<prefix>-net with the CRDs, webhooks, Nodes, Namespaces and pools, two `coil ipam-controller`
replicas, and on every node `coil daemon` (Kubernetes mode) and `coil router`.

This process itself moves into <prefix>-net while the rig is up (like an administrator's
machine on the cluster network), so that it reaches the API server and the controllers'
probes directly; it goes back before the namespaces are deleted."""

import http.client
import os
import shutil
import tempfile

import cni
import kube
import net
import procs
from checks import log, wait_for

NODES = 3
# Controller replicas: (metrics, health, webhook) ports inside <prefix>-net. The webhooks of
# the API server go to ctl-b, which is started second and so is the standby that survives the
# leader's death in the fail-over scenario.
CONTROLLER_PORTS = {"ctl-a": (9386, 9387, 9443), "ctl-b": (9396, 9397, 9453)}
WEBHOOK_TARGET = "127.0.0.1:%d" % CONTROLLER_PORTS["ctl-b"][2]
FAST_LEADER = {"COIL_LEADER_LEASE_DURATION": "2s", "COIL_LEADER_RENEW_DEADLINE": "1500ms",
               "COIL_LEADER_RETRY_PERIOD": "300ms"}
POOL_SPECS = {
    "default": {"blockSizeBits": 2,
                "subnets": [{"ipv4": "10.100.0.0/16", "ipv6": "fd00:100::/112"}]},
    "v4": {"blockSizeBits": 2, "subnets": [{"ipv4": "10.101.0.0/16"}]},
}
NAMESPACES = {"ns-v4": "v4", "ns-tiny": "tiny"}  # "default" exists from the start


class Node:
    def __init__(self, rig, index, ns):
        self.index, self.ns = index, ns
        self.name = "node%d" % index
        self.v4, self.v6 = net.node_v4(index), net.node_v6(index)
        base = os.path.join(rig.work, self.name)
        os.mkdir(base)
        self.socket = os.path.join(base, "coild.sock")
        self.state_dir = os.path.join(base, "state")
        # Each program with the token of its own ServiceAccount, under deploy/'s RBAC.
        self.kubeconfig = kube.kubeconfig(os.path.join(base, "kubeconfig"), rig.api.url,
                                          rig.tokens["coild"])
        self.router_kubeconfig = kube.kubeconfig(os.path.join(base, "kubeconfig-router"),
                                                 rig.api.url, rig.tokens["coil-router"])
        self.daemon = None
        self.router = None


class Rig:
    def __init__(self, coil, repo):
        self.coil, self.repo = coil, repo
        self.work = tempfile.mkdtemp(prefix="coil-cluster.")
        self.ns = net.Namespaces("cl%d" % os.getpid())
        self.procs = procs.Procs(coil, repo, self.work)
        self.api = None
        self.tokens = {}  # ServiceAccount name -> token
        self.apiserver = None
        self.nodes = []
        self.deleted_nodes = set()
        self.controllers = {}  # COIL_POD_NAME -> Proc
        self.pods = []
        self.net_ns = None
        self._home_netns = None

    # --- bring-up -------------------------------------------------------------------------

    def up(self):
        self.net_ns, node_ns = self.ns.build_l2(NODES)
        self._home_netns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        net.setns(net.ns_path(self.net_ns))
        self.apiserver, port = self.procs.apiserver(self.net_ns, net.BRIDGE_V4, WEBHOOK_TARGET)
        self.api = kube.Api(net.BRIDGE_V4, port)
        self.api.apply_crds(self.repo)
        self.api.apply_rbac()
        self.tokens = {sa: self.api.sa_token(sa)
                       for sa in ("coil-ipam-controller", "coild", "coil-router")}
        certs = os.path.join(self.work, "certs")
        os.mkdir(certs)
        self.api.apply_webhooks(self.repo, procs.make_certificate(certs))
        for i, ns in enumerate(node_ns, 1):
            node = Node(self, i, ns)
            self.api.create_node(node.name, node.v4, node.v6)
            self.nodes.append(node)
        for name, pool in NAMESPACES.items():
            self.api.create_namespace(name, pool)
        first = self.start_controller("ctl-a")
        if not wait_for(lambda: self.api.lease_holder() == "ctl-a" or not first.alive(), 15) \
                or not first.alive():
            raise RuntimeError("ctl-a did not become leader:\n" + first.tail())
        self.start_controller("ctl-b")
        for name in self.controllers:
            self.wait_controller_ready(name)
        for name, spec in POOL_SPECS.items():
            status, obj = self.api.create_pool(name, spec)
            if status != 201:
                raise RuntimeError("pool %s: %d %s" % (name, status, obj))
        for node in self.nodes:
            self.start_daemon(node)
            node.router = self.procs.router(node.ns, node.name, node.router_kubeconfig)

    def start_controller(self, name, ports_of=None):
        """A replica named name (its lease identity) on the ports of replica ports_of
        (default: its own), which must not be running any more."""
        ports = CONTROLLER_PORTS[ports_of or name]
        kubeconfig = kube.kubeconfig(os.path.join(self.work, "kubeconfig-" + name),
                                     self.api.url, self.tokens["coil-ipam-controller"])
        proc = self.procs.controller(self.net_ns, name, kubeconfig,
                                     os.path.join(self.work, "certs"), ports, FAST_LEADER)
        proc.ports = ports
        self.controllers[name] = proc
        return proc

    def wait_controller_ready(self, name):
        proc = self.controllers[name]
        if not wait_for(lambda: http_status("127.0.0.1", proc.ports[1], "/readyz") == 200, 15):
            raise RuntimeError("controller %s not ready:\n%s" % (name, proc.tail()))

    def start_daemon(self, node):
        node.daemon = self.procs.daemon(node.ns, node.name, node.kubeconfig, node.socket,
                                        node.state_dir)

    # --- pods -----------------------------------------------------------------------------

    def new_pod(self, node, namespace, name):
        """The Pod object and the pod's netns; no ADD yet."""
        self.api.create_pod(namespace, name, node.name)
        pod = cni.Pod(self, node, namespace, name)
        self.ns.make("pod-" + name)
        self.pods.append(pod)
        return pod

    def add_pod(self, node, namespace, name):
        pod = self.new_pod(node, namespace, name)
        pod.add()
        return pod

    def live_pods(self, node=None):
        return [p for p in self.pods if p.result and (node is None or p.node is node)]

    def node_by_name(self, name):
        for node in self.nodes:
            if node.name == name and name not in self.deleted_nodes:
                return node
        return None

    # --- tear-down ------------------------------------------------------------------------

    def down(self, checks):
        """Stops every component gracefully (each must exit 0), checks the logs for sanitizer
        reports, then removes everything. Failures are counted in checks."""
        unexpected = [p.name for p in self.procs.unexpected_exits()]
        checks.eq([], unexpected, "no component exited on its own")
        components = [n.router for n in self.nodes] + [n.daemon for n in self.nodes] + \
            list(self.controllers.values())
        for proc in components:
            if proc and proc.alive() and not proc.expected_exit:
                checks.eq(0, proc.stop(), "%s exits 0 on SIGTERM" % proc.name)
        for proc in self.procs.all:
            checks.eq([], proc.sanitizer_reports()[:3], "no sanitizer report in " + proc.name)
        if checks.failed:
            self.dump_logs()
        self.destroy(checks)

    def dump_logs(self):
        for proc in self.procs.all:
            log("=== last lines of %s (pid %d):\n%s" % (proc.name, proc.pid, proc.tail(12)))

    def destroy(self, checks=None):
        self.procs.kill_all()
        if self._home_netns is not None:
            net.setns(self._home_netns)
            os.close(self._home_netns)
            self._home_netns = None
        report = checks.fail if checks else log
        self.ns.cleanup(report)
        shutil.rmtree(self.work, ignore_errors=True)


def http_status(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()

