"""A throw-away CA and server certificates made with the openssl command."""

import os
import subprocess


def _run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name="ca"):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "2", "-subj", "/CN=test-ca-" + name)
    return key, crt


def make_cert(d, ca, name, sans):
    """A certificate for the DNS names / IPs in sans, signed by ca (key, crt)."""
    key, csr, crt = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    alt = ",".join(("IP:" if s[0].isdigit() else "DNS:") + s for s in sans)
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % alt)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=" + sans[0])
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0],
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return key, crt
