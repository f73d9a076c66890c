#!/usr/bin/python3
"""Creates the CRDs of deploy/crd in a test API server: apply_crds.py http://127.0.0.1:PORT

Used by the ipamctl integration tests (C and Python); exits non-zero on any failure."""

import glob
import json
import os
import sys
import time
import urllib.request

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def post(base, path, obj):
    req = urllib.request.Request(base + path, data=json.dumps(obj).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status


def served(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return resp.status == 200
    except OSError:
        return False


def main():
    base = sys.argv[1].rstrip("/")
    for path in sorted(glob.glob(os.path.join(REPO, "deploy", "crd", "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    post(base, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc)
    deadline = time.time() + 10
    while not served(base, "/apis/coil.cybozu.com/v2/addressblocks"):
        if time.time() > deadline:
            sys.exit("CRDs not served")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
