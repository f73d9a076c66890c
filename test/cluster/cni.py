"""Pods of the cluster test: a Pod object in the API server, a network namespace, and the
coil plugin called in the node's namespace as a container runtime would (cniVersion 1.0.0,
CNI_ARGS with K8S_POD_NAMESPACE / K8S_POD_NAME)."""

import json
import os

import net
from checks import wait_for

PLUGIN_TIMEOUT = 75  # the plugin's own limit is 60 s per call


class Pod:
    def __init__(self, rig, node, namespace, name):
        self.rig = rig
        self.node = node  # a rig.Node
        self.namespace, self.name = namespace, name
        self.cid = "cid-" + name
        self.netns = rig.ns.name("pod-" + name)
        self.result = None  # the last successful ADD result
        self.last_out = ""  # the plugin's output of the last call

    def ips(self, family=None):
        """Addresses (no prefix length) of the last ADD result; family 4 or 6 filters."""
        if not self.result:
            return []
        out = [ip["address"].split("/")[0] for ip in self.result.get("ips", [])]
        if family == 4:
            return [a for a in out if ":" not in a]
        if family == 6:
            return [a for a in out if ":" in a]
        return out

    def ip4(self):
        v4 = self.ips(4)
        return v4[0] if v4 else None

    def ip6(self):
        v6 = self.ips(6)
        return v6[0] if v6 else None

    def kernel_addresses(self):
        """Global addresses on eth0 inside the pod's namespace (empty if none or no eth0)."""
        r = net.run(["ip", "-n", self.netns, "-j", "addr", "show", "dev", "eth0"], check=False)
        if r.returncode != 0:
            return []
        out = []
        for link in json.loads(r.stdout or "[]"):
            out += [a["local"] for a in link.get("addr_info", []) if a.get("scope") == "global"]
        return sorted(out)

    def links(self):
        return [link["ifname"] for link in net.ip_json(self.netns, "link", "show")]

    def plugin(self, command):
        """Runs the plugin; (exit status, stdout)."""
        env = ["env", "-i", "PATH=" + os.environ.get("PATH", "/usr/bin:/bin"),
               "CNI_COMMAND=" + command, "CNI_CONTAINERID=" + self.cid,
               "CNI_NETNS=" + net.ns_path(self.netns), "CNI_IFNAME=eth0",
               "CNI_PATH=/usr/lib/cni",
               "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
               "K8S_POD_INFRA_CONTAINER_ID=%s" % (self.namespace, self.name, self.cid)]
        conf = json.dumps({"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "coil",
                           "socket": self.node.socket})
        r = net.run(net.in_ns(self.node.ns, env + [self.rig.coil]), check=False,
                    timeout=PLUGIN_TIMEOUT, stdin=conf)
        self.last_out = r.stdout
        return r.returncode, r.stdout

    def add(self):
        """ADD; True on success (the result is kept)."""
        rc, out = self.plugin("ADD")
        if rc == 0:
            self.result = json.loads(out)
        return rc == 0

    def delete(self):
        rc, _ = self.plugin("DEL")
        if rc == 0:
            self.result = None
        return rc == 0

    def error(self):
        """The CNI error document of the last failed call ({} if none parses)."""
        try:
            return json.loads(self.last_out)
        except ValueError:
            return {}

    def ping(self, address, timeout=5):
        """Whether address answers a ping from this pod within timeout seconds (retried: a
        router may still be adding the route)."""
        def once():
            r = net.run(net.in_ns(self.netns, ["ping", "-c1", "-W1", address]), check=False)
            return r.returncode == 0
        return wait_for(once, timeout, interval=0.2)
