"""What the kernel of each node should hold, derived from the AddressBlocks in the API
server, and checks that wait for it: table 119 (coild's export of its own blocks) and the
main table's protocol-31 routes (coil router: every other node's blocks via its address)."""

import collections
import ipaddress

import kube
import net
from checks import wait_for

EXPORT_TABLE, POD_TABLE, ROUTER_PROTO = 119, 116, 31


def block_cidrs(block):
    return {net.canonical(block[f]) for f in ("ipv4", "ipv6") if block.get(f)}


def export_table(rig, node):
    """The destinations table 119 of node should hold: its blocks, both families."""
    out = set()
    for block in rig.api.blocks(node=node.name):
        out |= block_cidrs(block)
    return out


def router_routes(rig, node):
    """(destination, gateway) of the proto-31 routes node should hold."""
    out = set()
    for block in rig.api.items(kube.BLOCKS):
        owner = rig.node_by_name(block["metadata"].get("labels", {}).get(kube.L_NODE, ""))
        if owner is None or owner is node:
            continue
        if block.get("ipv4"):
            out.add((net.canonical(block["ipv4"]), owner.v4))
        if block.get("ipv6"):
            out.add((net.canonical(block["ipv6"]), owner.v6))
    return out


def converge(c, want, got, what, timeout=10):
    """Checks that got() becomes equal to want() within timeout seconds."""
    state = {}

    def same():
        state["want"], state["got"] = want(), got()
        return state["want"] == state["got"]
    ok = wait_for(same, timeout, interval=0.1)
    return c.ok(ok, what, "want %s, got %s (missing %s, extra %s)" % (
        sorted(state["want"]), sorted(state["got"]),
        sorted(state["want"] - state["got"]), sorted(state["got"] - state["want"])))


def check_export_table(c, rig, node, label=""):
    return converge(c, lambda: export_table(rig, node),
                    lambda: net.table_dsts(node.ns, EXPORT_TABLE),
                    "%stable %d on %s lists exactly its blocks" % (label, EXPORT_TABLE, node.name))


def check_router_routes(c, rig, node, label=""):
    return converge(c, lambda: router_routes(rig, node),
                    lambda: net.proto_routes(node.ns, ROUTER_PROTO),
                    "%sproto-%d routes on %s go to the other nodes' blocks via their addresses"
                    % (label, ROUTER_PROTO, node.name))


def duplicates(values):
    return sorted(v for v, n in collections.Counter(values).items() if n > 1)


def all_pod_addresses(rig):
    """Every address of every pod with a successful ADD, as the kernel shows them."""
    out = []
    for pod in rig.live_pods():
        out += pod.kernel_addresses()
    return out


def in_block_of(address, blocks):
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(cidr) for b in blocks for cidr in block_cidrs(b))
