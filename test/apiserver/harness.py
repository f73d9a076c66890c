"""For the tests of coil's programs against the test API server: start it on a free port with
the CRDs of deploy/crd applied, write an administrator's kubeconfig for it (no credentials,
which the test server treats as an administrator), and talk JSON to it.

    sys.path.insert(0, os.path.join(REPO, "test", "apiserver"))
    from harness import Api, free_port, read_file, wait_for
"""

import os
import socket
import subprocess
import time

import deploy_rbac

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
APISERVER = os.path.join(HERE, "run")
APPLY_CRDS = os.path.join(REPO, "test", "ipamctl", "apply_crds.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_file(path):
    with open(path) as f:
        return f.read()


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Api:
    """The test API server process (its log and kubeconfig in tmp) and a tiny JSON client."""

    def __init__(self, tmp, *extra):
        port_file = os.path.join(tmp, "apiserver.port")
        self.log = open(os.path.join(tmp, "apiserver.log"), "w+")
        self.proc = subprocess.Popen(["/usr/bin/python3", APISERVER, "--port", "0",
                                      "--port-file", port_file] + list(extra),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(port_file) and read_file(port_file).strip(), 15,
                 "the API server")
        self.port = int(read_file(port_file))
        self.url = "http://127.0.0.1:%d" % self.port
        subprocess.run(["/usr/bin/python3", APPLY_CRDS, self.url], check=True)
        self.kubeconfig = deploy_rbac.kubeconfig(os.path.join(tmp, "kubeconfig"), self.url)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def request(self, method, path, body=None, ctype="application/json"):
        return deploy_rbac.request(self.url, method, path, body, ctype)

    def ok(self, method, path, body=None, ctype="application/json"):
        status, obj = self.request(method, path, body, ctype)
        if status >= 300:
            raise AssertionError("%s %s: %d %s" % (method, path, status, obj))
        return obj

    def get(self, path):
        status, obj = self.request("GET", path)
        return obj if status == 200 else None

    def items(self, path):
        return self.ok("GET", path)["items"]
