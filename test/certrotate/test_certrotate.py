#!/usr/bin/python3
"""`coil ipam-controller --enable-cert-rotation` against the test API server: certificates generated
into the existing Secret, the CA injected into both webhook configurations, served by the webhook at
once and trusted by the API server; no writes when nothing changed (upstream cybozu-go/coil#374); a
tampered caBundle restored once; a broken server certificate replaced alone;
--enable-restart-on-cert-refresh exits 0.

Usage: test_certrotate.py /path/to/coil      (ctest label "certrotate")
Reuses the helpers of test/ipamctl/test_controller.py. Tests never skip."""

import base64
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ipamctl"))
import test_controller as tc  # noqa: E402

SECRET = "/api/v1/namespaces/kube-system/secrets/coilv2-ipam-webhook-server-cert"
ADM = "/apis/admissionregistration.k8s.io/v1/"
VALIDATING = ADM + "validatingwebhookconfigurations/coilv2-validating-ipam-webhook-configuration"
MUTATING = ADM + "mutatingwebhookconfigurations/coilv2-mutating-ipam-webhook-configuration"
DNS = tc.SERVICE + ".kube-system.svc"
ROTATE = ["--enable-cert-rotation"]


def decode(secret, key):
    return base64.b64decode(secret.get("data", {}).get(key, "")).decode()


def bundles(api, path):
    return [h["clientConfig"].get("caBundle", "") for h in api.ok("GET", path)["webhooks"]]


def served_certificate(port, ca_pem):
    """The DER certificate the webhook serves, verified against ca_pem for the service name."""
    ctx = ssl.create_default_context(cadata=ca_pem)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=DNS) as tls:
            return tls.getpeercert(binary_form=True)


def x509_text(pem):
    return subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem, check=True,
                          capture_output=True, text=True).stdout


class RotationTest(tc.Base):
    def setUp(self):
        super().setUp()
        self.webhook_port = tc.free_port()
        self.api = self.start_api("--service-host-override",
                                  "%s.kube-system=127.0.0.1:%d" % (tc.SERVICE, self.webhook_port))
        mutating, validating = tc.webhook_configurations("")
        self.api.ok("POST", ADM + "mutatingwebhookconfigurations", mutating)
        self.api.ok("POST", ADM + "validatingwebhookconfigurations", validating)

    def create_secret(self):
        self.api.ok("POST", "/api/v1/namespaces/kube-system/secrets", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "coilv2-ipam-webhook-server-cert",
                         "namespace": "kube-system"}})

    def rotator(self, name, extra=()):
        return self.start_controller(self.api, name, webhook_port=self.webhook_port,
                                     extra=ROTATE + list(extra))

    def controller_writes(self):
        """Writes by coil (not by this test) to the Secret and the configurations."""
        log = self.api.ok("GET", "/_test/requests")["items"]
        return [(e["method"], e["path"]) for e in log
                if e["method"] in ("POST", "PUT", "PATCH", "DELETE")
                and e.get("user_agent", "").startswith("coil")
                and ("/secrets" in e["path"] or "webhookconfigurations" in e["path"])]

    def assert_quiet(self, seconds=5):
        self.api.ok("DELETE", "/_test/requests")
        time.sleep(seconds)
        self.assertEqual(self.controller_writes(), [])

    def wait_rotated(self, ctl):
        ctl.wait_ready()
        return tc.wait_for(lambda: (lambda s: decode(s, "tls.crt") and s)(
            self.api.ok("GET", SECRET)), 10, "the secret")

    def test_generate_inject_serve_admit_then_stay_quiet(self):
        self.create_secret()
        ctl = self.rotator("first")
        secret = self.wait_rotated(ctl)
        ca, ca_key = decode(secret, "ca.crt"), decode(secret, "ca.key")
        crt, key = decode(secret, "tls.crt"), decode(secret, "tls.key")
        self.assertTrue(ca_key.startswith("-----BEGIN RSA PRIVATE KEY-----"), ca_key[:40])
        self.assertTrue(key.startswith("-----BEGIN RSA PRIVATE KEY-----"), key[:40])
        ca_text, crt_text = x509_text(ca), x509_text(crt)
        for text in ("CN = coil-ipam-ca", "O = coil", "CA:TRUE", "Public-Key: (2048 bit)",
                     "Certificate Sign"):
            self.assertIn(text, ca_text)
        for text in ("CN = " + DNS, "DNS:" + DNS, "DNS:" + DNS + ".cluster.local",
                     "TLS Web Server Authentication", "Public-Key: (2048 bit)"):
            self.assertIn(text, crt_text)
        want = base64.b64encode(ca.encode()).decode()
        tc.wait_for(lambda: bundles(self.api, VALIDATING) == [want] and
                    bundles(self.api, MUTATING) == [want], 10, "the CA injection")
        # The webhook serves the new pair at once, and it verifies against the CA.
        self.assertEqual(served_certificate(self.webhook_port, ca),
                         ssl.PEM_cert_to_DER_cert(crt))
        self.assertEqual(tc.read_file(os.path.join(self.cert_dir, "tls.crt")), crt)
        self.assertEqual(tc.read_file(os.path.join(self.cert_dir, "tls.key")), key)
        # The API server trusts the injected bundle: creation goes through both webhooks.
        pool = self.api.create_pool("rotated", 0, [{"ipv4": "10.9.0.0/24"}])
        self.assertEqual(pool["metadata"]["finalizers"], ["coil.cybozu.com"])
        # No busy loop (upstream cybozu-go/coil#374): our own writes do not cause more writes.
        self.assert_quiet()
        rv = self.api.ok("GET", SECRET)["metadata"]["resourceVersion"]
        self.assertEqual(ctl.stop(), 0)
        # A second start with valid certificates changes nothing.
        second = self.rotator("second")
        second.wait_ready()
        self.assert_quiet()
        self.assertEqual(self.api.ok("GET", SECRET)["metadata"]["resourceVersion"], rv)
        self.assertEqual(second.stop(), 0)

    def test_tampered_bundle_is_restored_once(self):
        self.create_secret()
        ctl = self.rotator("tamper")
        secret = self.wait_rotated(ctl)
        want = base64.b64encode(decode(secret, "ca.crt").encode()).decode()
        tc.wait_for(lambda: bundles(self.api, MUTATING) == [want], 10, "the CA injection")
        self.api.ok("DELETE", "/_test/requests")
        config = self.api.ok("GET", VALIDATING)
        config["webhooks"][0]["clientConfig"]["caBundle"] = base64.b64encode(b"bogus").decode()
        self.api.ok("PUT", VALIDATING, config)
        tc.wait_for(lambda: bundles(self.api, VALIDATING) == [want], 10, "the restoration")
        time.sleep(3)
        self.assertEqual(self.controller_writes(), [("PUT", VALIDATING)])
        self.assertEqual(ctl.stop(), 0)

    def test_broken_server_certificate_is_replaced_alone(self):
        self.create_secret()
        ctl = self.rotator("server-only")
        secret = self.wait_rotated(ctl)
        ca, old_crt = decode(secret, "ca.crt"), decode(secret, "tls.crt")
        tc.wait_for(lambda: bundles(self.api, MUTATING) != [""], 10, "the CA injection")
        self.api.ok("DELETE", "/_test/requests")
        secret["data"]["tls.crt"] = base64.b64encode(b"garbage").decode()
        self.api.ok("PUT", SECRET, secret)

        def replaced():
            s = self.api.ok("GET", SECRET)
            return decode(s, "tls.crt").startswith("-----BEGIN CERTIFICATE") and s
        secret = tc.wait_for(replaced, 10, "a new server certificate")
        crt = decode(secret, "tls.crt")
        self.assertNotEqual(crt, old_crt)
        self.assertEqual(decode(secret, "ca.crt"), ca)
        tc.wait_for(lambda: served_certificate(self.webhook_port, ca) ==
                    ssl.PEM_cert_to_DER_cert(crt), 10, "the new certificate to be served")
        time.sleep(2)
        # One Secret write; the configurations keep the unchanged CA.
        self.assertEqual(self.controller_writes(), [("PUT", SECRET)])
        self.assertEqual(ctl.stop(), 0)

    def test_restart_on_cert_refresh_exits_zero(self):
        self.create_secret()
        ctl = self.rotator("restart", ["--enable-restart-on-cert-refresh"])
        self.assertEqual(ctl.proc.wait(timeout=30), 0, ctl.output())
        self.assertIn("secrets have been updated", ctl.output())
        self.assertTrue(decode(self.api.ok("GET", SECRET), "tls.crt"))
        # The restarted process finds valid certificates, stays up and injects the CA.
        again = self.rotator("restarted", ["--enable-restart-on-cert-refresh"])
        again.wait_ready()
        tc.wait_for(lambda: bundles(self.api, VALIDATING) != [""], 10, "the CA injection")
        self.assertIsNone(again.proc.poll())
        self.assertEqual(again.stop(), 0)

    def test_missing_secret_is_fatal(self):
        ctl = self.rotator("nosecret")
        self.assertEqual(ctl.proc.wait(timeout=30), 1)
        self.assertIn("must exist", ctl.output())


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_certrotate.py /path/to/coil")
    tc.COIL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
