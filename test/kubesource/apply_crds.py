#!/usr/bin/python3
"""Posts the CustomResourceDefinitions of deploy/crd to a test API server and waits until
AddressBlocks are served: apply_crds.py http://127.0.0.1:PORT. Exit status 0 on success."""

import glob
import json
import os
import sys
import time
import urllib.error
import urllib.request

import yaml

CRD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "crd")
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def create(server, doc):
    body = json.dumps(doc).encode()
    request = urllib.request.Request(server + CRDS, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=20).close()


def is_served(server):
    try:
        urllib.request.urlopen(server + "/apis/coil.cybozu.com/v2/blockrequests",
                               timeout=5).close()
        return True
    except (urllib.error.URLError, OSError):
        return False


def main():
    server = sys.argv[1].rstrip("/")
    for path in sorted(glob.glob(os.path.join(CRD_DIR, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    create(server, doc)
    give_up = time.monotonic() + 10
    while not is_served(server):
        if time.monotonic() > give_up:
            sys.exit("the CRDs are not served")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
