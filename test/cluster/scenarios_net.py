"""Node-side scenarios of the cluster test: pods reaching each other across nodes (1),
blocks, export tables and router routes (2), a daemon restart (8), route repair (9) and a
node whose pods are all deleted (10)."""

import ipaddress
import json
import signal

import expect
import kube
import net
from checks import wait_for

DEFAULT_V4 = ipaddress.ip_network("10.100.0.0/16")
DEFAULT_V6 = ipaddress.ip_network("fd00:100::/112")
V4_POOL = ipaddress.ip_network("10.101.0.0/16")


def _in(address, network):
    return address is not None and ipaddress.ip_address(address) in network


def check_ping(c, src, dst, family):
    address = dst.ip4() if family == 4 else dst.ip6()
    return c.ok(address and src.ping(address), "%s pings %s over IPv%d (%s)" %
                (src.name, dst.name, family, address))


def reachability(rig, c):
    c.start("1: pods on different nodes reach each other")
    firsts = []
    for node in rig.nodes:
        for k in ("a", "b"):
            pod = rig.add_pod(node, "default", "%s-%s" % (node.name, k))
            if not c.ok(pod.result, "ADD of %s on %s" % (pod.name, node.name), pod.last_out):
                continue
            c.ok(_in(pod.ip4(), DEFAULT_V4) and _in(pod.ip6(), DEFAULT_V6) and
                 len(pod.ips()) == 2, "%s has one address of each family from pool default"
                 % pod.name, pod.ips())
            c.eq(sorted(pod.ips()), pod.kernel_addresses(),
                 "%s's eth0 holds the addresses of the result" % pod.name)
        firsts.append(rig.pods[-2])
    c.eq([], expect.duplicates(expect.all_pod_addresses(rig)), "no address is used twice")
    for src in rig.live_pods():
        for dst in firsts:
            if dst.node is not src.node and dst.result:
                check_ping(c, src, dst, 4)
                check_ping(c, src, dst, 6)

    v4pod = rig.add_pod(rig.nodes[0], "ns-v4", "v4-a")
    if c.ok(v4pod.result, "ADD of a pod in ns-v4", v4pod.last_out):
        c.ok(_in(v4pod.ip4(), V4_POOL) and v4pod.ips(6) == [],
             "the ns-v4 pod has one IPv4 address from pool v4 and no IPv6", v4pod.ips())
        for dst in firsts[1:]:
            check_ping(c, dst, v4pod, 4)
            check_ping(c, v4pod, dst, 4)


def check_block_object(c, block, pools):
    meta = block["metadata"]
    labels = meta.get("labels", {})
    name, pool = meta["name"], labels.get(kube.L_POOL, "")
    c.eq("%s-%d" % (pool, block.get("index", -1)), name, "block name is <pool>-<index>")
    c.ok(labels.get(kube.L_NODE) and labels.get(kube.L_REQUEST),
         "block %s has node and request labels" % name, labels)
    c.eq([kube.FINALIZER], meta.get("finalizers"), "block %s has the finalizer" % name)
    owner = pools.get(pool, {}).get("metadata", {})
    c.eq([{"apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool", "name": pool,
           "uid": owner.get("uid"), "controller": True, "blockOwnerDeletion": True}],
         meta.get("ownerReferences"), "block %s is controlled by its pool" % name)
    subnets = pools.get(pool, {}).get("spec", {}).get("subnets", [])
    c.eq((any("ipv4" in s for s in subnets), any("ipv6" in s for s in subnets)),
         ("ipv4" in block, "ipv6" in block), "block %s has the families of its pool" % name)


def blocks_and_routes(rig, c):
    c.start("2: AddressBlocks, table 119 and coil router's routes")
    pools = {p["metadata"]["name"]: p for p in rig.api.items(kube.POOLS)}
    for block in rig.api.items(kube.BLOCKS):
        check_block_object(c, block, pools)
    want_pools = {"node1": ["default", "v4"], "node2": ["default"], "node3": ["default"]}
    for node in rig.nodes:
        blocks = rig.api.blocks(node=node.name)
        c.eq(want_pools[node.name], sorted(b["metadata"]["labels"][kube.L_POOL]
                                           for b in blocks),
             "%s owns one block per pool its pods use" % node.name)
        for pod in rig.live_pods(node):
            c.ok(all(expect.in_block_of(a, blocks) for a in pod.ips()),
                 "%s's addresses are in blocks of %s" % (pod.name, node.name))
        expect.check_export_table(c, rig, node)
        expect.check_router_routes(c, rig, node)
    metrics(rig, c)


def sample(body, name, *labels):
    """The value of the first sample of metric name carrying every label (k="v" text)."""
    for line in body.splitlines():
        if line.startswith(name + "{") and all(label in line for label in labels):
            return float(line.rsplit(" ", 1)[1])
    return None


def metrics(rig, c):
    leader = rig.api.lease_holder()
    body = net.http_get(rig.net_ns, rig.controllers[leader].ports[0], "/metrics")
    c.eq(float(len(rig.api.blocks(pool="default"))),
         sample(body, "coil_controller_allocated_blocks", 'pool="default"'),
         "the leader's coil_controller_allocated_blocks of pool default")
    node = rig.nodes[0]
    body = net.http_get(node.ns, 9384, "/metrics")
    c.ok((sample(body, "grpc_server_handled_total", 'grpc_method="Add"', 'grpc_code="OK"')
          or 0) >= 2, "coild's /metrics counts its successful Add calls", body[-300:])
    body = net.http_get(node.ns, 9388, "/metrics")
    c.eq(float(len(expect.router_routes(rig, node))),
         sample(body, "coil_router_routes_synced", 'node="node1"'),
         "coil router's coil_router_routes_synced on node1")


def daemon_restart(rig, c):
    c.start("8: a daemon restarted keeps its pods' addresses")
    node = rig.nodes[1]
    pods = rig.live_pods(node)
    before = {p.name: p.kernel_addresses() for p in pods}
    blocks_before = sorted(b["metadata"]["name"] for b in rig.api.blocks(node=node.name))
    c.eq(0, node.daemon.stop(signal.SIGTERM), "coild on %s exits 0 on SIGTERM" % node.name)
    rig.start_daemon(node)
    c.eq(before, {p.name: p.kernel_addresses() for p in pods},
         "every pod of %s keeps its addresses" % node.name)
    c.eq(blocks_before, sorted(b["metadata"]["name"] for b in rig.api.blocks(node=node.name)),
         "%s keeps its blocks" % node.name)
    for pod in pods[:3]:
        rc, out = pod.plugin("CHECK")
        c.eq(0, rc, "CHECK of %s after the restart (%s)" % (pod.name, out.strip()))
    fresh = [rig.add_pod(node, "default", "%s-new%d" % (node.name, i)) for i in range(4)]
    for pod in fresh:
        c.ok(pod.result, "ADD of %s after the restart" % pod.name, pod.last_out)
    c.eq([], expect.duplicates(expect.all_pod_addresses(rig)),
         "no address handed out twice after the restart")
    peer = rig.live_pods(rig.nodes[0])[0]
    if fresh[0].result:
        check_ping(c, fresh[0], peer, 4)
        check_ping(c, fresh[0], peer, 6)
    if pods:
        check_ping(c, peer, pods[0], 4)
        check_ping(c, peer, pods[0], 6)
    expect.check_export_table(c, rig, node, "after the restart: ")


def route_repair(rig, c):
    c.start("9: routes deleted by hand come back")
    node = rig.nodes[0]
    pod = rig.live_pods(node)[0]
    for address in pod.ips():
        host = net.canonical(address)
        net.ip(node.ns, "route", "del", host, "table", str(expect.POD_TABLE))
        c.ok(wait_for(lambda: host in net.table_dsts(node.ns, expect.POD_TABLE), 5),
             "pod route %s in table %d on %s is put back" % (host, expect.POD_TABLE, node.name))
    block = next(b for b in rig.api.blocks(node=node.name, pool="default"))
    for cidr in expect.block_cidrs(block):
        net.ip(node.ns, "route", "del", cidr, "table", str(expect.EXPORT_TABLE))
        c.ok(wait_for(lambda: cidr in net.table_dsts(node.ns, expect.EXPORT_TABLE), 5),
             "block route %s in table %d on %s is put back" % (cidr, expect.EXPORT_TABLE,
                                                                node.name))
    peer = rig.live_pods(rig.nodes[1])[0]
    check_ping(c, peer, pod, 4)
    check_ping(c, peer, pod, 6)
    body = net.http_get(node.ns, 9384, "/metrics")
    c.eq(2.0, sample(body, "coil_drift_repairs_total", 'object="pod_route"'),
         "coild counts the two pod routes in coil_drift_repairs_total")
    c.ok((sample(body, "coil_drift_repairs_total", 'object="export_route"') or 0) >= 1,
         "coild counts the export routes in coil_drift_repairs_total")

    def reasons():
        return {e.get("reason") for e in rig.api.items(DRIFT_EVENTS)
                if e.get("regarding", {}).get("name") == node.name}
    c.ok(wait_for(lambda: {"PodRouteRestored", "ExportRouteRestored"} <= reasons(), 5),
         "the repairs are Warning Events about Node %s" % node.name, sorted(reasons()))


DRIFT_EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"


def _doctor(rig, node):
    """coil doctor on node against the API: (exit status, report)."""
    r = net.run(net.in_ns(node.ns, ["env", "COIL_NODE_NAME=" + node.name, rig.coil, "doctor",
                                    "--kubeconfig", node.kubeconfig, "--state-dir",
                                    node.state_dir, "--json"]), check=False)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"problems": [{"kind": "unparsable", "message": r.stdout}]}


def doctor(rig, c):
    c.start("12: coil doctor audits the nodes against the API")
    for node in rig.nodes:
        rc, report = _doctor(rig, node)
        c.eq((0, "api", []), (rc, report.get("blocks_from"), report.get("problems")),
             "doctor finds %s healthy, with its blocks from the API" % node.name)
        c.eq(sorted(b["metadata"]["name"] for b in rig.api.blocks(node=node.name)),
             sorted(b["name"] for b in report.get("blocks", [])),
             "doctor reads %s's AddressBlocks" % node.name)
    node = rig.nodes[0]
    stray = "10.250.0.0/30"
    net.ip(node.ns, "route", "add", stray, "dev", "lo", "proto", "30", "table",
           str(expect.EXPORT_TABLE))
    rc, report = _doctor(rig, node)
    net.ip(node.ns, "route", "del", stray, "table", str(expect.EXPORT_TABLE))
    c.eq((1, ["export-without-block"]), (rc, [p["kind"] for p in report["problems"]]),
         "doctor names an exported block the API does not give %s" % node.name)
    c.eq(0, _doctor(rig, node)[0], "doctor finds %s healthy again" % node.name)


def node_drained(rig, c):
    c.start("10: deleting every pod of a node releases all its blocks")
    node = rig.nodes[0]
    for pod in rig.live_pods(node):
        c.ok(pod.delete(), "DEL of %s" % pod.name, pod.last_out)
    c.ok(wait_for(lambda: not rig.api.blocks(node=node.name), 10),
         "%s has no AddressBlock left" % node.name,
         [b["metadata"]["name"] for b in rig.api.blocks(node=node.name)])
    c.eq(set(), net.table_dsts(node.ns, expect.EXPORT_TABLE), "table 119 on %s is empty"
         % node.name)
    c.eq(set(), net.table_dsts(node.ns, expect.POD_TABLE), "table 116 on %s is empty"
         % node.name)
    veths = [link["ifname"] for link in net.ip_json(node.ns, "-d", "link", "show", "type", "veth")
             if link.get("ifalias", "").startswith("COIL:")]
    c.eq([], veths, "no pod veth is left on %s" % node.name)
    for other in rig.nodes[1:]:
        expect.check_router_routes(c, rig, other, "after %s is drained: " % node.name)
