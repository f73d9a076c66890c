#!/usr/bin/python3
"""Multi-node integration test of coil: three node namespaces on one bridge, the test API
server, two `coil ipam-controller` replicas, and per node `coil daemon` (Kubernetes mode) and
`coil router`; pods are network namespaces set up through the coil plugin.

Usage: test_cluster.py /path/to/coil        (root; ctest label "cluster")
Prints `N passed, N failed` and exits non-zero on any failure. Never skips: a missing tool
or privilege is a failure. Everything made (namespaces, processes, files) is removed on exit,
also on failure, interruption (SIGINT/SIGTERM) or the self-timeout (SELF_TIMEOUT seconds,
default 170). VERBOSE=1 logs every passing check too."""

import importlib
import importlib.util
import os
import shutil
import signal
import sys
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import checks  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOLS = ("ip", "nsenter", "ping", "openssl", "curl")


def scenarios():
    """In the order they run: later ones build on the pods and blocks of earlier ones, and
    the ones that break a node (Node deleted, all its pods gone) come last. Imported here, as
    they need python3-yaml, which preflight() checks first."""
    net = importlib.import_module("scenarios_net")
    ctl = importlib.import_module("scenarios_ctl")
    return [
        net.reachability,       # 1
        net.blocks_and_routes,  # 2
        ctl.webhooks,           # 3
        ctl.exhaustion,         # 4
        ctl.pool_deletion,      # 5
        ctl.leader_failover,    # 6
        net.daemon_restart,     # 8
        net.route_repair,       # 9
        ctl.node_deletion,      # 7
        net.node_drained,       # 10 (deleting all pods removes the blocks)
    ]


class Abort(Exception):
    pass


def abort(signum, frame):
    raise Abort("self-timeout" if signum == signal.SIGALRM else "signal %d" % signum)


def preflight(c, coil):
    ok = c.ok(os.geteuid() == 0, "runs as root (network namespaces)")
    for tool in TOOLS:
        ok = c.ok(shutil.which(tool), "tool available: " + tool) and ok
    ok = c.ok(os.access(coil, os.X_OK), "coil binary is executable: " + coil) and ok
    if importlib.util.find_spec("yaml") is None:
        ok = c.fail("python3-yaml is installed")
    return ok


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_cluster.py /path/to/coil")
    coil = os.path.abspath(sys.argv[1])
    c = checks.Checks(verbose=bool(os.environ.get("VERBOSE")))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, abort)
    signal.alarm(int(os.environ.get("SELF_TIMEOUT", "170")))
    rig = None
    try:
        if preflight(c, coil):
            rig = importlib.import_module("rig").Rig(coil, REPO)
            c.start("bring-up")
            rig.up()
            c.ok(True, "cluster is up")
            for scenario in scenarios():
                try:
                    scenario(rig, c)
                except (Abort, KeyboardInterrupt):
                    raise
                except Exception as e:  # one broken scenario must not hide the others
                    c.fail("scenario %s raised %s" % (scenario.__name__, e),
                           traceback.format_exc())
            c.start("rbac")
            denials = rig.api.denials()
            c.ok(not denials, "RBAC denied no request of a coil program (deploy/rbac)",
                 "\n".join("%(method)s %(path)s: %(message)s" % d for d in denials))
    except (Abort, Exception) as e:
        c.fail("aborted: %s" % e, traceback.format_exc())
    finally:
        # The cleanup must not be cut short by a second signal.
        signal.alarm(0)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        if rig:
            c.start("tear-down")
            try:
                rig.down(c)
            except Exception as e:
                c.fail("tear-down raised %s" % e, traceback.format_exc())
                rig.destroy()
    print(c.summary(), flush=True)
    sys.exit(0 if c.failed == 0 else 1)


if __name__ == "__main__":
    main()
