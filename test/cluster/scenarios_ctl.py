"""Controller-side scenarios of the cluster test: AddressPool admission through the API
server (3), pool exhaustion seen by the CNI caller (4), pool deletion held by its finalizer
(5), the leader killed during a burst of ADDs (6), API faults during a burst (11) and a deleted
Node's blocks (7)."""

import concurrent.futures
import os
import signal
import time

import expect
import kube
import net
from checks import log, wait_for

TEST_POOL = kube.POOLS + "/test"


def _create(rig, spec):
    rig.api.remove(TEST_POOL)
    return rig.api.create_pool("test", spec)


def _update(rig, change):
    pool = rig.api.ok("GET", TEST_POOL)
    change(pool["spec"])
    return rig.api.request("PUT", TEST_POOL, pool)


def _accepted(c, answer, what, bits=None):
    status, obj = answer
    if not c.eq(201 if what.startswith("create") else 200, status, what + " accepted (%s)" %
                (obj or {}).get("message", "")):
        return
    c.eq([kube.FINALIZER], obj["metadata"].get("finalizers"), what + ": finalizer added")
    if bits is not None:
        c.eq(bits, obj["spec"].get("blockSizeBits"), what + ": blockSizeBits")


def _rejected(c, answer, what, text=None):
    status, obj = answer
    msg = (obj or {}).get("message", "")
    c.ok(status >= 400 and (text is None or text in msg), what + " rejected",
         "status %d, message %r" % (status, msg))


def webhooks(rig, c):
    c.start("3: AddressPool admission webhooks through the API server")
    v4 = [{"ipv4": "10.2.0.0/24"}]
    _accepted(c, _create(rig, {"subnets": v4}), "create without blockSizeBits", 5)
    _accepted(c, _create(rig, {"blockSizeBits": 0, "subnets": v4}), "create bits 0", 0)
    _accepted(c, _create(rig, {"blockSizeBits": 2, "subnets": v4}), "create bits 2", 2)
    _rejected(c, _create(rig, {"blockSizeBits": -1, "subnets": [{"ipv4": "a.b.c.d/24"}]}),
              "bits -1 with a.b.c.d/24")
    _rejected(c, _create(rig, {"blockSizeBits": -1, "subnets": v4}), "bits -1")
    _rejected(c, _create(rig, {"blockSizeBits": 2}), "no subnets")
    _rejected(c, _create(rig, {"blockSizeBits": 8, "subnets": [{"ipv4": "10.2.0.0/30"}]}),
              "bits 8 with 10.2.0.0/30", "too narrow subnet")
    _accepted(c, _create(rig, {"blockSizeBits": 0, "subnets": [{"ipv6": "fd02::/120"}]}),
              "create bits 0 fd02::/120")
    _accepted(c, _update(rig, lambda s: s["subnets"].append({"ipv6": "fd03::/112"})),
              "update appending fd03::/112")
    _accepted(c, _create(rig, {"blockSizeBits": 8, "subnets": [{"ipv6": "fd02::/120"}]}),
              "create bits 8 fd02::/120")
    _rejected(c, _update(rig, lambda s: s["subnets"].append({"ipv6": "fd03::/124"})),
              "update appending fd03::/124", "too narrow subnet")
    _accepted(c, _create(rig, {"blockSizeBits": 2, "subnets": v4}), "create bits 2 (again)")
    _rejected(c, _update(rig, lambda s: s.update(blockSizeBits=4)), "changing blockSizeBits",
              "unchangeable")
    two = [{"ipv4": "10.2.0.0/24"}, {"ipv4": "10.3.0.0/24"}]
    _accepted(c, _create(rig, {"blockSizeBits": 2, "subnets": two}), "create two subnets")
    _rejected(c, _update(rig, lambda s: s["subnets"].pop()), "removing a subnet",
              "unshrinkable")
    _rejected(c, _update(rig, lambda s: s["subnets"].__setitem__(1, {"ipv4": "10.4.0.0/24"})),
              "replacing a subnet", "unchangeable")
    _rejected(c, rig.api.create_pool("invalid", {"blockSizeBits": 5,
                                                 "subnets": [{"ipv4": "10.224.0.0/30"}]}),
              "the e2e pool `invalid`")
    rig.api.remove(TEST_POOL)
    c.eq(None, rig.api.get(kube.POOLS + "/invalid"), "no pool `invalid` was stored")


def _no_trace_of(c, rig, pod):
    node = pod.node
    c.eq(["lo"], pod.links(), "%s's netns has no interface but lo" % pod.name)
    aliases = [link.get("ifalias", "") for link in net.ip_json(node.ns, "-d", "link", "show")]
    c.eq([], [a for a in aliases if pod.cid in a], "no host veth of %s on %s" % (pod.name,
                                                                                  node.name))
    records = []
    folder = os.path.join(node.state_dir, "allocations")
    for name in (os.listdir(folder) if os.path.isdir(folder) else []):
        with open(os.path.join(folder, name)) as f:
            if pod.cid in f.read():
                records.append(name)
    c.eq([], records, "no allocation record of %s on %s" % (pod.name, node.name))
    c.eq([], rig.api.blocks(node=node.name, pool="tiny"),
         "%s got no block of the exhausted pool" % node.name)


def exhaustion(rig, c):
    c.start("4: pool exhaustion reaches the CNI caller and leaves nothing behind")
    status, obj = rig.api.create_pool("tiny", {"blockSizeBits": 0,
                                               "subnets": [{"ipv4": "10.102.0.0/31"}]})
    c.eq(201, status, "pool tiny (2 blocks of 1 address) created (%s)" % obj)
    first = rig.add_pod(rig.nodes[0], "ns-tiny", "tiny-a")
    second = rig.add_pod(rig.nodes[1], "ns-tiny", "tiny-b")
    for pod in (first, second):
        c.ok(pod.result and pod.ips() and pod.ips()[0].startswith("10.102.0."),
             "ADD of %s gets an address of pool tiny" % pod.name, pod.last_out)
    third = rig.new_pod(rig.nodes[2], "ns-tiny", "tiny-c")
    for attempt in (1, 2):  # kubelet retries; the second try must fail the same way
        started = time.monotonic()
        ok = third.add()
        err = third.error()
        c.ok(not ok and err.get("code") and err.get("msg"),
             "ADD #%d of %s fails with a CNI error" % (attempt, third.name), third.last_out)
        c.ok("out of blocks" in third.last_out or "free blocks" in third.last_out,
             "the error says the pool is out of blocks", third.last_out)
        c.ok(time.monotonic() - started < 8, "the failure comes at once, not by a timeout")
        _no_trace_of(c, rig, third)
    c.ok(third.delete(), "DEL of the failed pod succeeds", third.last_out)
    c.eq(2, len(rig.api.blocks(pool="tiny")), "pool tiny has exactly its 2 blocks")


def pool_deletion(rig, c):
    c.start("5: pool deletion waits for its blocks")
    path = kube.POOLS + "/tiny"
    status, _ = rig.api.request("DELETE", path)
    c.ok(status in (200, 202), "DELETE of pool tiny answered", status)
    time.sleep(1.5)
    pool = rig.api.get(path)
    c.ok(pool and pool["metadata"].get("deletionTimestamp") and
         pool["metadata"].get("finalizers") == [kube.FINALIZER],
         "pool tiny is held by its finalizer while its blocks exist", pool)
    c.eq(2, len(rig.api.blocks(pool="tiny")), "its 2 blocks still exist")
    for pod in [p for p in rig.live_pods() if p.namespace == "ns-tiny"]:
        c.ok(pod.delete(), "DEL of %s" % pod.name, pod.last_out)
    c.ok(wait_for(lambda: not rig.api.blocks(pool="tiny"), 10), "the blocks of tiny are gone")
    c.ok(wait_for(lambda: rig.api.get(path) is None, 10),
         "pool tiny is gone once its blocks are", rig.api.get(path))
    for node in rig.nodes[:2]:
        expect.check_export_table(c, rig, node, "after pool tiny: ")


def _block_posts(entries):
    return [e for e in entries if e["method"] == "POST" and
            e["path"].rstrip("/").endswith("/addressblocks")]


def _block_deletes(entries):
    return [e["path"].rsplit("/", 1)[1] for e in entries if e["method"] == "DELETE" and
            "/addressblocks/" in e["path"] and e["status"] < 300]


def _burst(rig, pods, victim):
    """ADDs of every pod at once; the victim is SIGKILLed once the first block of the burst
    is being created. Returns (ADD results, whether a block was in the making at the kill,
    ADDs already finished at the kill, the wall-clock time of the kill)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(pods))
    try:
        futures = [pool.submit(p.add) for p in pods]
        saw = wait_for(lambda: _block_posts(rig.api.request_log()), 10, interval=0.02)
        finished = sum(f.done() for f in futures)
        killed_at = time.time()
        victim.stop(signal.SIGKILL)
        return [f.result() for f in futures], bool(saw), finished, killed_at
    finally:
        pool.shutdown(wait=False)


def _retry(pods, results):
    """kubelet: a failed ADD is cleaned up with DEL and tried again, a few times."""
    failed = [p for p, ok in zip(pods, results) if not ok]
    first_failures = len(failed)
    for _ in range(3):
        if not failed:
            break
        time.sleep(1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(failed)) as pool:
            again = list(pool.map(lambda p: p.delete() and p.add(), failed))
        failed = [p for p, ok in zip(failed, again) if not ok]
    return first_failures, failed


def leader_failover(rig, c):
    c.start("6: the leader killed during a burst of ADDs")
    api = rig.api
    leader = api.lease_holder()
    c.eq("ctl-a", leader, "ctl-a leads before the burst")
    victim = rig.controllers[leader]
    pods = [rig.new_pod(rig.nodes[i % 3], "default", "burst-%d" % i) for i in range(30)]
    before = {b["metadata"]["name"] for b in api.items(kube.BLOCKS)}
    api.clear_log()
    # Slow block creation down so that the kill lands while blocks are being carved (a POST
    # may even complete after its sender died).
    api.add_fault({"delay_ms": 300, "method": "POST", "path_regex": "/addressblocks"})
    try:
        results, saw, finished, killed_at = _burst(rig, pods, victim)
        c.ok(saw and finished < len(pods), "the leader died while ADDs waited for blocks",
             "block being created: %s, ADDs finished: %d" % (saw, finished))
        # An ADD waits for a block through a failover; one that still fails says "try
        # again later" (code 11), never an internal error.
        codes = [p.error().get("code") for p, ok in zip(pods, results) if not ok]
        c.eq([], [code for code in codes if code != 11], "failed ADDs answered code 11")
        first_failures, failed = _retry(pods, results)
    finally:
        api.clear_faults()
    log("burst: %d of %d ADDs failed at first and were retried" % (first_failures, len(pods)))
    c.eq([], [(p.name, p.last_out) for p in failed], "every ADD eventually succeeds")
    c.ok(wait_for(lambda: api.lease_holder() == "ctl-b", 15), "ctl-b took over the lease",
         api.lease_holder())
    entries = api.request_log()
    c.ok([e for e in _block_posts(entries) if e["time"] > killed_at + 0.5],
         "the new leader carved blocks after the kill")
    _check_blocks_once(c, api, before, entries)
    c.eq([], expect.duplicates(expect.all_pod_addresses(rig)), "no address is used twice")
    for pod in pods:
        if pod.result:
            c.eq(sorted(pod.ips()), pod.kernel_addresses(), "%s's eth0 matches its result"
                 % pod.name)
    src = pods[0]
    for dst in pods[1:3]:
        if src.result and dst.result:
            c.ok(src.ping(dst.ip4()) and src.ping(dst.ip6()),
                 "%s reaches %s on another node" % (src.name, dst.name))
    for node in rig.nodes:
        expect.check_export_table(c, rig, node, "after the burst: ")
        expect.check_router_routes(c, rig, node, "after the burst: ")
    # The Deployment would replace the dead replica.
    rig.start_controller("ctl-a2", "ctl-a")
    rig.wait_controller_ready("ctl-a2")


def _delete_all(c, pods, what):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(pods)) as pool:
        deleted = list(pool.map(lambda p: p.delete(), pods))
    c.eq([], [p.name for p, ok in zip(pods, deleted) if not ok], what)


# Faults of scenario 11, each on the requests that make new blocks happen: the daemon's
# BlockRequest POSTs and watches, the controller's AddressBlock POSTs and its watches.
# The delay is longer than the 1 s after which coild used to give up on a request.
API_FAULTS = [
    {"delay_ms": 1500, "method": "POST", "path_regex": "/blockrequests$"},
    {"fail_next": 2, "status": 500, "method": "POST", "path_regex": "/blockrequests$"},
    {"fail_next": 3, "status": 429, "retry_after": 1, "method": "POST",
     "path_regex": "/addressblocks$"},
    {"fail_next": 2, "status": 410, "watch": True, "path_regex": "/blockrequests"},
    {"fail_next": 2, "status": 500, "watch": True, "path_regex": "/addressblocks"},
]


def api_faults(rig, c):
    c.start("11: API faults (slow answers, 500, 429, dropped watches, 410 Gone) during a burst "
            "of ADDs")
    api = rig.api
    before = {b["metadata"]["name"] for b in api.items(kube.BLOCKS)}
    pods = [rig.new_pod(rig.nodes[i % 2], "default", "fault-%d" % i) for i in range(16)]
    api.clear_log()
    for rule in API_FAULTS:
        api.add_fault(rule)
    try:
        # Every open watch is cut (the informers reconnect into the 410s and 500s above).
        api.add_fault({"drop_watches": True, "path_regex": "/(blockrequests|addressblocks)"})
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(pods)) as pool:
            results = list(pool.map(lambda p: p.add(), pods))
        codes = [p.error().get("code") for p, ok in zip(pods, results) if not ok]
        c.eq([], [code for code in codes if code != 11], "failed ADDs answered code 11")
        first_failures, failed = _retry(pods, results)
    finally:
        api.clear_faults()
    entries = api.request_log()
    statuses = sorted({e["status"] for e in entries})
    log("API faults: %d of %d ADDs failed at first; statuses seen %s"
        % (first_failures, len(pods), statuses))
    c.ok({500, 429, 410} <= set(statuses), "the faults were answered", statuses)
    c.eq([], [(p.name, p.last_out) for p in failed], "every ADD eventually succeeds")
    c.eq([], expect.duplicates(expect.all_pod_addresses(rig)), "no address is used twice")
    blocks = api.items(kube.BLOCKS)
    requests = [b["metadata"].get("labels", {}).get(kube.L_REQUEST) for b in blocks]
    c.eq([], expect.duplicates([r for r in requests if r]), "no BlockRequest got two blocks")
    indices = [b["index"] for b in blocks if b["metadata"]["labels"].get(kube.L_POOL) ==
               "default"]
    c.eq([], expect.duplicates(indices), "no index of pool default carved twice")
    for pod in pods:
        c.ok(all(expect.in_block_of(a, api.blocks(node=pod.node.name)) for a in pod.ips()),
             "%s's address is in a block of its node" % pod.name)
    for node in rig.nodes:
        expect.check_export_table(c, rig, node, "after the faults: ")
    _delete_all(c, pods, "every DEL succeeds")
    # No leaked block: the burst's new blocks are given back once their pods are gone.
    c.ok(wait_for(lambda: {b["metadata"]["name"] for b in api.items(kube.BLOCKS)} <= before,
                  10), "the burst's blocks are released after the DELs",
         sorted({b["metadata"]["name"] for b in api.items(kube.BLOCKS)} - before))
    for node in rig.nodes:
        expect.check_export_table(c, rig, node, "after the DELs: ")


def _check_blocks_once(c, api, before, entries):
    """No block was created twice: each POST of a block succeeded (no AlreadyExists, no
    second carving for one request) and their count matches the new blocks."""
    blocks = api.items(kube.BLOCKS)
    posts = _block_posts(entries)
    # Status 0: the block was stored but its sender was gone before the answer (the victim's
    # POST in flight at the kill); the new leader must find that block, not carve another.
    statuses = [e["status"] for e in posts]
    log("block POSTs during the burst: %s" % statuses)
    c.ok(set(statuses) <= {201, 0} and statuses.count(0) <= 1,
         "every block POST stored a block (201, or 0 for the one cut off by the kill)",
         statuses)
    created = {b["metadata"]["name"] for b in blocks} - before
    created |= set(_block_deletes(entries)) - before
    c.eq(len(created), len(posts), "one POST per new block (%s)" % sorted(created))
    requests = [b["metadata"].get("labels", {}).get(kube.L_REQUEST) for b in blocks]
    c.eq([], expect.duplicates(requests), "no BlockRequest got two blocks")
    for pool in ("default", "v4"):
        indices = [b["index"] for b in blocks
                   if b["metadata"]["labels"].get(kube.L_POOL) == pool]
        c.eq([], expect.duplicates(indices), "no index of pool %s carved twice" % pool)


def node_deletion(rig, c):
    c.start("7: a deleted Node's blocks are collected")
    node = rig.nodes[2]
    owned = rig.api.blocks(node=node.name)
    c.ok(owned, "%s owns blocks before" % node.name)
    started = time.monotonic()
    rig.api.ok("DELETE", "/api/v1/nodes/" + node.name)
    gone = wait_for(lambda: not rig.api.blocks(node=node.name), 15)
    elapsed = time.monotonic() - started
    c.ok(gone and elapsed < 5, "the blocks of %s are deleted within 5 s (gc-interval 30s)"
         % node.name, "after %.1f s: %s" % (elapsed, [b["metadata"]["name"] for b in
                                                      rig.api.blocks(node=node.name)]))
    rig.deleted_nodes.add(node.name)
    for other in rig.nodes[:2]:
        expect.check_router_routes(c, rig, other, "without %s: " % node.name)
