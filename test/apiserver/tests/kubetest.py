"""Helpers for the API server tests: start a server on a free port, talk HTTP to it."""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(os.path.dirname(HERE), "run")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CRD_DIR = os.path.join(REPO, "deploy", "crd")


class ServerProcess:
    """test/apiserver/run on a free port; stop() kills it by its PID and removes its temp dir
    (port file and log)."""

    def __init__(self, *extra):
        self.tmp = tempfile.mkdtemp(prefix="apiserver-test-")
        port_file = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "log"), "w+")
        self.proc = subprocess.Popen([RUN, "--port", "0", "--port-file", port_file] + list(extra),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                why = self.log.read()
                self.stop()
                raise RuntimeError("apiserver did not start: " + why)
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


class Client:
    """A minimal keep-alive HTTP client for one server."""

    def __init__(self, port, host="127.0.0.1", token=None, tls_context=None):
        self.host, self.port, self.token, self.tls = host, port, token, tls_context
        self.conn = None

    def _connect(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=30)
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method, path, body=None, ctype="application/json", headers=None):
        hdrs = dict(headers or {})
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            hdrs["Content-Type"] = ctype
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body, hdrs)
                r = self.conn.getresponse()
                return Response(r.status, r.headers, r.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, ptype="merge", **kw):
        ctype = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                 "strategic": "application/strategic-merge-patch+json",
                 "apply": "application/apply-patch+yaml"}[ptype]
        return self.request("PATCH", path, body, ctype=ctype, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


class Watch:
    """A streaming watch: reads the chunked body event by event."""

    def __init__(self, port, path, host="127.0.0.1"):
        self.conn = http.client.HTTPConnection(host, port, timeout=15)
        self.conn.request("GET", path)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def next(self):
        """The next event as a dict, or None when the stream ended."""
        line = self.resp.readline()
        if not line:
            return None
        return json.loads(line)

    def events(self, n):
        return [self.next() for _ in range(n)]

    def close(self):
        self.conn.close()


def load_crds(client):
    """Creates the four CRDs of deploy/crd (read with Debian's python3-yaml)."""
    import yaml
    for name in ("addresspools", "addressblocks", "blockrequests", "egresses"):
        with open(os.path.join(CRD_DIR, name + ".yaml")) as f:
            crd = yaml.safe_load(f)
        r = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        if r.status != 201:
            raise RuntimeError("creating CRD %s: %d %s" % (name, r.status, r.raw))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(data):
    return base64.b64encode(data).decode()


class ServerTest(unittest.TestCase):
    """Base class: one server per test class, CRDs loaded, a client in self.c."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = ServerProcess(*cls.server_args)
        cls.port = cls.srv.port
        cls.c = Client(cls.port)
        load_crds(cls.c)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.srv.stop()

    def wait_for(self, fn, timeout=5.0, msg="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.02)
        self.fail("timed out waiting for " + msg)

    def ok(self, r, code=200):
        self.assertEqual(r.status, code, r.raw[:500])
        return r.json
