"""The long-running processes of the cluster rig, each with its own log file: the test API
server, `coil ipam-controller` replicas, and per node `coil daemon` and `coil router`.
Every process started here is recorded; stop_all() ends those still running (SIGTERM, then
SIGKILL), and kill_all() is the last resort of the cleanup."""

import base64
import os
import signal
import subprocess
import time

import net

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer")


class Proc:
    def __init__(self, name, argv, log_path, env):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "a")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env)
        self.expected_exit = False  # set when the test stops or kills it on purpose

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def tail(self, n=15):
        return "\n".join(self.output().splitlines()[-n:])

    def count(self, text):
        return self.output().count(text)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits; SIGKILL after timeout seconds. The exit status (negative:
        killed by that signal), or None if it did not stop in time."""
        self.expected_exit = True
        if self.alive():
            self.popen.send_signal(sig)
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            rc = None
        self.log.close()
        return rc

    def sanitizer_reports(self):
        return [line for line in self.output().splitlines()
                if any(mark in line for mark in SANITIZER_MARKS)]


class Procs:
    def __init__(self, coil, repo, work):
        self.coil, self.repo, self.work = coil, repo, work
        self.all = []

    def start(self, name, argv, ns, env=None):
        environ = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        environ.update(env or {})
        proc = Proc(name, net.in_ns(ns, argv), os.path.join(self.work, name + ".log"), environ)
        self.all.append(proc)
        return proc

    def unexpected_exits(self):
        return [p for p in self.all if not p.expected_exit and not p.alive()]

    def kill_all(self):
        for proc in self.all:
            if proc.alive():
                proc.popen.kill()
            proc.popen.wait()
            if not proc.log.closed:
                proc.log.close()

    # --- the components ------------------------------------------------------------------

    def apiserver(self, ns, address, webhook_target):
        port_file = os.path.join(self.work, "apiserver.port")
        proc = self.start("apiserver", [
            "/usr/bin/python3", os.path.join(self.repo, "test", "apiserver", "run"),
            "--address", address, "--port", "0", "--port-file", port_file,
            "--service-host-override", "%s.kube-system=%s" % ("coilv2-ipam-webhook-service",
                                                              webhook_target)], ns)
        deadline = time.monotonic() + 20
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if not proc.alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start:\n" + proc.tail())
            time.sleep(0.05)
        return proc, int(open(port_file).read())

    def controller(self, ns, name, kubeconfig, cert_dir, ports, env):
        metrics, health, webhook = ports
        return self.start("controller-" + name, [
            self.coil, "ipam-controller", "--kubeconfig", kubeconfig,
            "--metrics-addr", "127.0.0.1:%d" % metrics, "--health-addr", "127.0.0.1:%d" % health,
            "--webhook-addr", "127.0.0.1:%d" % webhook, "--cert-dir", cert_dir,
            "--gc-interval", "30s", "--zap-stacktrace-level=panic"], ns,
            dict(env, COIL_POD_NAME=name))

    def daemon(self, ns, node, kubeconfig, socket, state_dir):
        """Starts coild and waits for its "coild started" line (socket listening)."""
        name = "coild-" + node
        before = 0
        for proc in self.all:
            if proc.name == name:
                before = proc.count('"coild started"')
        proc = self.start(name, [
            self.coil, "daemon", "--kubeconfig", kubeconfig, "--socket", socket,
            "--state-dir", state_dir, "--metrics-addr", "127.0.0.1:9384",
            "--health-addr", "127.0.0.1:9385", "--enable-egress=false",
            # The scenarios check that a node's last DEL releases its blocks.
            "--empty-block-grace", "0"], ns,
            {"COIL_NODE_NAME": node})
        deadline = time.monotonic() + 20
        while proc.count('"coild started"') <= before:
            if not proc.alive() or time.monotonic() > deadline:
                raise RuntimeError("coild on %s did not start:\n%s" % (node, proc.tail()))
            time.sleep(0.05)
        return proc

    def router(self, ns, node, kubeconfig):
        return self.start("router-" + node, [
            self.coil, "router", "--kubeconfig", kubeconfig, "--metrics-addr", "127.0.0.1:9388",
            "--health-addr", "127.0.0.1:9389"], ns, {"COIL_NODE_NAME": node})


def make_certificate(directory):
    """tls.crt/tls.key for the webhook Service's DNS names (openssl, self-signed); returns
    the base64 caBundle."""
    names = ["coilv2-ipam-webhook-service.kube-system.svc",
             "coilv2-ipam-webhook-service.kube-system", "coilv2-ipam-webhook-service"]
    net.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             os.path.join(directory, "tls.key"), "-out", os.path.join(directory, "tls.crt"),
             "-days", "1", "-subj", "/CN=" + names[0], "-addext",
             "subjectAltName=" + ",".join("DNS:" + n for n in names)])
    with open(os.path.join(directory, "tls.crt"), "rb") as f:
        return base64.b64encode(f.read()).decode()
