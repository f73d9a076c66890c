#!/usr/bin/python3
"""Puts the objects of the cluster benchmarks into the test API server (test/apiserver/run),
over one keep-alive connection. Standard library and python3-yaml only.

  kubeobj.py URL crds
      the CRDs of deploy/crd, and waits until their resources are served
  kubeobj.py URL burst --node NAME --node-ipv4 A --node-ipv6 A --namespace NS --pods N
                       --pod-prefix P --ipv4 CIDR --ipv6 CIDR --block-bits B
      a Node (InternalIPs in its status), a Namespace, the AddressPool `default` and N Pods
      <P><i> bound to the node
  kubeobj.py URL scale --nodes N --blocks-per-node B --requests R --ipv4 CIDR --ipv6 CIDR
                       --block-bits B
      the AddressPool `default`, N Nodes node-NNNN, B AddressBlocks per node as
      coil ipam-controller makes them (indexes 0 .. N*B-1), and R pending BlockRequests
      req-default-node-NNNN of the first R nodes

Any failed request ends the program with status 1 and a message naming the object."""

import argparse
import glob
import http.client
import ipaddress
import json
import os
import sys
import time
import urllib.parse
import uuid

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GROUP = "/apis/coil.cybozu.com/v2"
API_VERSION = "coil.cybozu.com/v2"
FINALIZER = "coil.cybozu.com"
POOL = "default"


class Api:
    """One keep-alive HTTP/1.1 connection to the API server; reconnects when it drops."""

    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = None

    def request(self, method, path, body=None, ctype="application/json"):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                headers = {"Content-Type": ctype} if body is not None else {}
                self.conn.request(method, path, json.dumps(body) if body is not None else None,
                                  headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def ok(self, method, path, body=None, ctype="application/json"):
        status, obj = self.request(method, path, body, ctype)
        if status >= 300:
            name = ((body or {}).get("metadata") or {}).get("name", "")
            sys.exit("kubeobj: %s %s %s: %d %s" % (method, path, name, status,
                                                  (obj or {}).get("message", obj)))
        return obj

    def create(self, path, obj):
        return self.ok("POST", path, obj)


def apply_crds(api):
    for path in sorted(glob.glob(os.path.join(REPO, "deploy", "crd", "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    api.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc)
    deadline = time.monotonic() + 15
    while api.request("GET", GROUP + "/blockrequests")[0] != 200:
        if time.monotonic() > deadline:
            sys.exit("kubeobj: the CRDs of %s/deploy/crd are not served after 15 s" % REPO)
        time.sleep(0.05)


def create_pool(api, args):
    subnet = {"ipv4": args.ipv4, "ipv6": args.ipv6}
    return api.create(GROUP + "/addresspools", {
        "apiVersion": API_VERSION, "kind": "AddressPool",
        # The finalizer is what the mutating webhook would add.
        "metadata": {"name": POOL, "finalizers": [FINALIZER]},
        "spec": {"blockSizeBits": args.block_bits, "subnets": [subnet]}})


def create_node(api, name, ipv4=None, ipv6=None):
    node = api.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                        "metadata": {"name": name}})
    addresses = [{"type": "InternalIP", "address": a} for a in (ipv4, ipv6) if a]
    if addresses:
        api.ok("PATCH", "/api/v1/nodes/%s/status" % name, {"status": {"addresses": addresses}},
               "application/merge-patch+json")
    return node


def burst(api, args):
    create_pool(api, args)
    create_node(api, args.node, args.node_ipv4, args.node_ipv6)
    api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": args.namespace}})
    for i in range(args.pods):
        api.create("/api/v1/namespaces/%s/pods" % args.namespace, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s%d" % (args.pod_prefix, i)},
            "spec": {"nodeName": args.node,
                     "containers": [{"name": "main", "image": "busybox"}]}})


def block_cidrs(args, index):
    """The index-th block of the pool's one subnet pair, as the controller carves it."""
    v4, v6 = ipaddress.ip_network(args.ipv4), ipaddress.ip_network(args.ipv6)
    size = 1 << args.block_bits
    return ("%s/%d" % (v4.network_address + index * size, 32 - args.block_bits),
            "%s/%d" % (v6.network_address + index * size, 128 - args.block_bits))


def scale(api, args):
    pool = create_pool(api, args)
    v4 = ipaddress.ip_network(args.ipv4)
    needed = args.nodes * args.blocks_per_node + args.requests
    if (v4.num_addresses >> args.block_bits) < needed:
        sys.exit("kubeobj: pool %s has room for fewer than %d blocks" % (args.ipv4, needed))
    owner = [{"apiVersion": API_VERSION, "kind": "AddressPool", "name": POOL,
              "uid": pool["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    nodes = []
    for n in range(args.nodes):
        nodes.append(create_node(api, "node-%04d" % n))
    for n, node in enumerate(nodes):
        for b in range(args.blocks_per_node):
            index = n * args.blocks_per_node + b
            ipv4, ipv6 = block_cidrs(args, index)
            api.create(GROUP + "/addressblocks", {
                "apiVersion": API_VERSION, "kind": "AddressBlock",
                "metadata": {"name": "%s-%d" % (POOL, index), "finalizers": [FINALIZER],
                             "ownerReferences": owner,
                             # The UID of the (long deleted) BlockRequest it answered.
                             "labels": {"coil.cybozu.com/pool": POOL,
                                        "coil.cybozu.com/node": node["metadata"]["name"],
                                        "coil.cybozu.com/request": str(uuid.uuid4())}},
                "index": index, "ipv4": ipv4, "ipv6": ipv6})
    for node in nodes[:args.requests]:
        name = node["metadata"]["name"]
        api.create(GROUP + "/blockrequests", {
            "apiVersion": API_VERSION, "kind": "BlockRequest",
            "metadata": {"name": "req-%s-%s" % (POOL, name),
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                              "uid": node["metadata"]["uid"],
                                              "controller": True}]},
            "spec": {"nodeName": name, "poolName": POOL}})


def parse_args():
    parser = argparse.ArgumentParser(description="objects of the cluster benchmarks")
    parser.add_argument("url")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("crds")
    for name in ("burst", "scale"):
        p = sub.add_parser(name)
        p.add_argument("--ipv4", required=True)
        p.add_argument("--ipv6", required=True)
        p.add_argument("--block-bits", type=int, required=True)
    p = sub.choices["burst"]
    for opt in ("--node", "--node-ipv4", "--node-ipv6", "--namespace", "--pod-prefix"):
        p.add_argument(opt, required=True)
    p.add_argument("--pods", type=int, required=True)
    p = sub.choices["scale"]
    for opt in ("--nodes", "--blocks-per-node", "--requests"):
        p.add_argument(opt, type=int, required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    api = Api(args.url)
    if args.what == "crds":
        apply_crds(api)
    elif args.what == "burst":
        burst(api, args)
    else:
        scale(api, args)


if __name__ == "__main__":
    main()
