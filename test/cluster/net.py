"""Network namespaces of the cluster rig and the `ip`/`nsenter` helpers around them.

The "L2 network" is a bridge in <prefix>-net holding 10.99.0.254/24 and fd99::fe/64; node i
is the namespace <prefix>-node<i> whose eth0 (a veth into the bridge) holds 10.99.0.i/24 and
fd99::i/64. IPv6 addresses are added with nodad so that they are usable at once. Every
namespace made here is recorded, and cleanup() removes them (killing anything still running
inside), also after a failure."""

import ctypes
import ipaddress
import json
import os
import signal
import subprocess

NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
BRIDGE_V4 = "10.99.0.254"
BRIDGE_V6 = "fd99::fe"

_libc = ctypes.CDLL(None, use_errno=True)


def node_v4(i):
    return "10.99.0.%d" % i


def node_v6(i):
    return "fd99::%d" % i


def ns_path(name):
    return os.path.join(NETNS_DIR, name)


def in_ns(ns, argv):
    """argv run inside netns ns; nsenter execs it, so a Popen's pid is the command's."""
    return ["nsenter", "--net=" + ns_path(ns)] + list(argv)


def run(argv, check=True, timeout=30, stdin=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=stdin)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def ip(ns, *args, check=True):
    return run(["ip", "-n", ns] + list(args), check=check)


def ip_json(ns, *args):
    """`ip -j` output as a list; an IPv4 table never used ("does not exist") is empty."""
    r = ip(ns, "-j", *args, check=False)
    if r.returncode != 0:
        if "does not exist" in r.stderr:
            return []
        raise RuntimeError("ip -n %s -j %s: %s" % (ns, " ".join(args), r.stderr.strip()))
    return json.loads(r.stdout or "[]")


def canonical(cidr):
    """Canonical text of a prefix or address ("fd00:100:0::/126" -> "fd00:100::/126"); a
    host route without prefix length gets /32 or /128 as the kernel dump omits it."""
    if "/" not in cidr:
        cidr += "/128" if ":" in cidr else "/32"
    return str(ipaddress.ip_network(cidr, strict=False))


def table_dsts(ns, table):
    """Destinations (canonical) of every route in a routing table, both families."""
    out = set()
    for fam in ("-4", "-6"):
        for r in ip_json(ns, fam, "route", "show", "table", str(table)):
            out.add(canonical(r["dst"]))
    return out


def proto_routes(ns, proto):
    """(destination, gateway) of the main table's routes with this protocol."""
    out = set()
    for fam in ("-4", "-6"):
        for r in ip_json(ns, fam, "route", "show", "proto", str(proto)):
            out.add((canonical(r["dst"]), r.get("gateway", "")))
    return out


def http_get(ns, port, path):
    """The body of GET http://127.0.0.1:port/path inside netns ns ("" on any failure)."""
    r = run(in_ns(ns, ["curl", "-sS", "--fail", "--max-time", "5",
                       "http://127.0.0.1:%d%s" % (port, path)]), check=False)
    return r.stdout if r.returncode == 0 else ""


def setns(path_or_fd):
    """Moves the calling thread (and threads it creates later) into a network namespace."""
    fd = path_or_fd if isinstance(path_or_fd, int) else os.open(path_or_fd, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (path_or_fd, os.strerror(err)))
    finally:
        if not isinstance(path_or_fd, int):
            os.close(fd)


class Namespaces:
    def __init__(self, prefix):
        self.prefix = prefix
        self.made = []

    def name(self, short):
        return "%s-%s" % (self.prefix, short)

    def make(self, short):
        name = self.name(short)
        run(["ip", "netns", "add", name])
        self.made.append(name)
        ip(name, "link", "set", "lo", "up")
        return name

    def build_l2(self, nodes):
        """The bridge netns and nodes 1..nodes joined to it; returns (net, [node names])."""
        net = self.make("net")
        ip(net, "link", "add", "br0", "type", "bridge")
        ip(net, "link", "set", "br0", "up")
        ip(net, "addr", "add", BRIDGE_V4 + "/24", "dev", "br0")
        ip(net, "addr", "add", BRIDGE_V6 + "/64", "dev", "br0", "nodad")
        names = []
        for i in range(1, nodes + 1):
            node = self.make("node%d" % i)
            port = "port%d" % i
            ip(net, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node)
            ip(net, "link", "set", port, "master", "br0", "up")
            ip(node, "link", "set", "eth0", "up")
            ip(node, "addr", "add", node_v4(i) + "/24", "dev", "eth0")
            ip(node, "addr", "add", node_v6(i) + "/64", "dev", "eth0", "nodad")
            names.append(node)
        return net, names

    def cleanup(self, report):
        """Deletes every namespace made; a process still inside one is a leak of the test:
        it is reported through report(msg) and killed."""
        me = str(os.getpid())
        for name in reversed(self.made):
            r = run(["ip", "netns", "pids", name], check=False)
            pids = [p for p in r.stdout.split() if p != me]
            if pids:
                report("processes left in netns %s: %s (killed)" % (name, " ".join(pids)))
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            run(["ip", "netns", "del", name], check=False)
        self.made = []
