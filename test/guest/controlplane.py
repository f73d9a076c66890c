#!/usr/bin/python3
"""The host half of an end-to-end guest scenario: the Kubernetes control plane on this host,
the nodes in the guest.

    controlplane.py [--dual-stack] [--block-size-bits N] STATE SCENARIO [ARG...]
                                        (COIL: the coil binary; a guest up in STATE)

starts the test API server (--dual-stack: Services asking for it get an IPv6 ClusterIP too; deploy/crd, deploy/rbac, the Egress webhooks over TLS), Node
objects node1 and node2, the AddressPool "default" (blocks of 2^3 addresses, or 2^N with
--block-size-bits N: a benchmark adding many pods keeps block requests out of its timings), `coil ipam-controller` and `coil
egress-controller` (each as its own ServiceAccount), all on 127.0.0.1 of this host, where the
guest reaches them at 10.0.2.2 through QEMU's user networking. It writes what the guest needs
into STATE/share/cp/ (cp.env: the API server's URL as the guest sees it; NAME.kubeconfig for
coild and for the administrator), runs `guest.sh run STATE SCENARIO ARG...`, then stops the
controllers (each must exit 0 on SIGTERM) and the API server. Exit status: the scenario's,
or 1 when the control plane failed. Logs: STATE/cp/*.log, printed when something failed."""

import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "test", "ipamctl"))
import test_controller as ipam  # noqa: E402  (API server, certificates, controller processes)
import deploy_rbac  # noqa: E402  (on the path through test_controller)

GUEST_HOST = "10.0.2.2"  # this host as the guest sees it (QEMU user networking)
EGRESS_SERVICE = "coilv2-egress-webhook-service"
NODES = {"node%d" % i: ("10.99.0.%d" % i, "fd99::%d" % i) for i in (1, 2, 3)}
POOL = {"blockSizeBits": 3, "subnets": [{"ipv4": "10.100.0.0/16", "ipv6": "fd00:100::/112"}]}
CONTROLLER_IMAGE = "coil:guest"


def log(msg):
    print("controlplane: " + msg, file=sys.stderr, flush=True)


class ControlPlane:
    def __init__(self, state, dual_stack, block_size_bits):
        self.state = state
        self.dual_stack = dual_stack
        self.pool = dict(POOL, blockSizeBits=block_size_bits)
        self.work = os.path.join(state, "cp")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.share = os.path.join(state, "share", "cp")
        shutil.rmtree(self.share, ignore_errors=True)
        os.makedirs(self.share)
        self.cert_dir = os.path.join(self.work, "certs")
        os.makedirs(self.cert_dir)
        self.api = None
        self.controllers = []

    def up(self):
        ca_bundle = ipam.make_certificate(self.cert_dir, EGRESS_SERVICE)
        webhook_port = ipam.free_port()
        extra = ["--dual-stack"] if self.dual_stack else []
        self.api = ipam.Api(self.work, *extra, "--service-host-override",
                            "%s.kube-system=127.0.0.1:%d" % (EGRESS_SERVICE, webhook_port))
        for config in ipam.webhook_configurations(ca_bundle, "egress", "egresses", "egress",
                                                  EGRESS_SERVICE):
            self.api.ok("POST", "/apis/admissionregistration.k8s.io/v1/%ss" %
                        config["kind"].lower(), config)
        for name, (v4, v6) in NODES.items():
            self.api.ok("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                                  "metadata": {"name": name}})
            self.api.ok("PATCH", "/api/v1/nodes/%s/status" % name,
                        {"status": {"addresses": [{"type": "InternalIP", "address": a}
                                                  for a in (v4, v6)]}},
                        "application/merge-patch+json")
        self.api.ok("POST", ipam.GROUP + "/addresspools", {
            "apiVersion": "coil.cybozu.com/v2", "kind": "AddressPool",
            "metadata": {"name": "default"}, "spec": self.pool})
        self.start_ipam_controller()
        self.start_egress_controller(webhook_port)
        self.write_guest_config()

    def start_ipam_controller(self):
        token = deploy_rbac.token(self.api.url, "coil-ipam-controller")
        self.api.token = token
        ctl = ipam.Controller(self.work, self.api, "ipam", self.cert_dir, env=ipam.FAST_LEADER)
        self.controllers.append(ctl)
        ctl.wait_ready()

    def start_egress_controller(self, webhook_port):
        # The controller's own Pod: its image goes into the gateway pods it makes.
        self.api.ok("POST", "/api/v1/namespaces/kube-system/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "egress-ctl", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "coil-egress-controller",
                                     "image": CONTROLLER_IMAGE}]}})
        self.api.token = deploy_rbac.token(self.api.url, "coil-egress-controller")
        env = dict(ipam.FAST_LEADER, COIL_POD_NAMESPACE="kube-system")
        ctl = ipam.Controller(self.work, self.api, "egress-ctl", self.cert_dir,
                              applet="egress-controller", webhook_port=webhook_port, env=env)
        self.controllers.append(ctl)
        ctl.wait_ready()

    def write_guest_config(self):
        url = "http://%s:%d" % (GUEST_HOST, self.api.port)
        for sa in ("coild",):
            deploy_rbac.kubeconfig(os.path.join(self.share, sa + ".kubeconfig"), url,
                                   deploy_rbac.token(self.api.url, sa))
        deploy_rbac.kubeconfig(os.path.join(self.share, "admin.kubeconfig"), url)
        with open(os.path.join(self.share, "cp.env"), "w") as f:
            f.write("API=%s\n" % url)

    def down(self):
        """Stops the controllers (0 on SIGTERM expected) and the API server; True if clean."""
        clean = True
        for ctl in self.controllers:
            rc = ctl.stop(signal.SIGTERM)
            if rc != 0:
                log("%s exited %s on SIGTERM" % (ctl.name, rc))
                clean = False
        if self.api:
            self.api.stop()
        return clean

    def dump_logs(self):
        for name in sorted(os.listdir(self.work)):
            if name.endswith(".log"):
                with open(os.path.join(self.work, name), errors="replace") as f:
                    lines = f.read().splitlines()[-20:]
                log("=== last lines of %s:\n%s" % (name, "\n".join(lines)))


def main(argv):
    dual_stack = False
    block_size_bits = POOL["blockSizeBits"]
    while len(argv) > 1 and argv[1].startswith("--"):
        if argv[1] == "--dual-stack":
            dual_stack = True
            argv = argv[:1] + argv[2:]
        elif argv[1] == "--block-size-bits" and len(argv) > 2 and argv[2].isdigit():
            block_size_bits = int(argv[2])
            argv = argv[:1] + argv[3:]
        else:
            print("unknown option %s\n%s" % (argv[1], __doc__), file=sys.stderr)
            return 2
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    state, scenario = os.path.abspath(argv[1]), argv[2]
    ipam.COIL = os.environ.get("COIL")
    if not ipam.COIL:
        log("set COIL to the coil binary")
        return 2
    cp = ControlPlane(state, dual_stack, block_size_bits)
    rc = 1
    try:
        cp.up()
        log("up: API server on 127.0.0.1:%d (guest: %s:%d)" % (cp.api.port, GUEST_HOST,
                                                                cp.api.port))
        rc = subprocess.run(["bash", os.path.join(HERE, "guest.sh"), "run", state, scenario] +
                            argv[3:]).returncode
    except Exception as e:  # noqa: BLE001  (any failure of the rig fails the test loudly)
        log("FAILED: %s" % e)
        rc = 1
    finally:
        if not cp.down() and rc == 0:
            rc = 1
        if rc != 0:
            cp.dump_logs()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
