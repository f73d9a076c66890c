"""A tiny JSON client of the test API server (test/apiserver/run) and the objects the cluster
test puts into it: the CRDs of deploy/crd, the webhook configurations of deploy/webhook,
Nodes, Namespaces, AddressPools and Pods."""

import copy
import glob
import http.client
import json
import os
import sys
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apiserver"))
import deploy_rbac  # noqa: E402

GROUP = "/apis/coil.cybozu.com/v2"
POOLS = GROUP + "/addresspools"
BLOCKS = GROUP + "/addressblocks"
REQUESTS = GROUP + "/blockrequests"
LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/coil-ipam-leader"
WEBHOOK_SERVICE = "coilv2-ipam-webhook-service"
FINALIZER = "coil.cybozu.com"
POOL_ANNOTATION = "coil.cybozu.com/pool"
L_NODE, L_POOL, L_REQUEST = ("coil.cybozu.com/node", "coil.cybozu.com/pool",
                             "coil.cybozu.com/request")


class ApiError(RuntimeError):
    pass


class Api:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.url = "http://%s:%d" % (host, port)

    def request(self, method, path, body=None, ctype="application/json"):
        """(status, decoded body or None)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            headers = {"Content-Type": ctype} if body is not None else {}
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            resp = conn.getresponse()
            data = resp.read()
            try:
                obj = json.loads(data) if data else None
            except ValueError:
                obj = {"raw": data.decode(errors="replace")}
            return resp.status, obj
        finally:
            conn.close()

    def ok(self, method, path, body=None, ctype="application/json"):
        status, obj = self.request(method, path, body, ctype)
        if status >= 300:
            raise ApiError("%s %s: %d %s" % (method, path, status, obj))
        return obj

    def get(self, path):
        status, obj = self.request("GET", path)
        return obj if status == 200 else None

    def items(self, path, selector=None):
        if selector:
            path += "?labelSelector=" + ",".join("%s=%s" % kv for kv in selector.items())
        return self.ok("GET", path)["items"]

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, patch, "application/merge-patch+json")

    # --- objects -------------------------------------------------------------------------

    def apply_crds(self, repo):
        for path in sorted(glob.glob(os.path.join(repo, "deploy", "crd", "*.yaml"))):
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if doc and doc.get("kind") == "CustomResourceDefinition":
                        self.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                doc)
        deadline = time.monotonic() + 10
        while self.request("GET", BLOCKS)[0] != 200:
            if time.monotonic() > deadline:
                raise ApiError("the CRDs are not served")
            time.sleep(0.05)

    def apply_rbac(self):
        """deploy/rbac; coil's programs then run with their ServiceAccounts' tokens."""
        deploy_rbac.apply(self.url)

    def sa_token(self, name):
        return deploy_rbac.token(self.url, name)

    def denials(self):
        """Every request RBAC denied since the server started."""
        return self.ok("GET", "/_test/denials")["items"]

    def apply_webhooks(self, repo, ca_bundle):
        """deploy/webhook as they are (the Service too), with the caBundle filled in."""
        with open(os.path.join(repo, "deploy", "webhook", "service.yaml")) as f:
            self.ok("POST", "/api/v1/namespaces/kube-system/services", yaml.safe_load(f))
        with open(os.path.join(repo, "deploy", "webhook", "ipam-webhooks.yaml")) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            doc = copy.deepcopy(doc)
            for hook in doc["webhooks"]:
                hook["clientConfig"]["caBundle"] = ca_bundle
            plural = doc["kind"].lower() + "s"
            self.ok("POST", "/apis/admissionregistration.k8s.io/v1/" + plural, doc)

    def create_node(self, name, v4, v6):
        self.ok("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                          "metadata": {"name": name}})
        addresses = [{"type": "InternalIP", "address": a} for a in (v4, v6)]
        status, obj = self.merge_patch("/api/v1/nodes/%s/status" % name,
                                       {"status": {"addresses": addresses}})
        if status != 200:
            raise ApiError("node %s status: %d %s" % (name, status, obj))

    def create_namespace(self, name, pool=None):
        meta = {"name": name}
        if pool:
            meta["annotations"] = {POOL_ANNOTATION: pool}
        self.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": meta})

    def create_pool(self, name, spec):
        """(status, object or Status) of creating an AddressPool."""
        return self.request("POST", POOLS, {"apiVersion": "coil.cybozu.com/v2",
                                            "kind": "AddressPool", "metadata": {"name": name},
                                            "spec": spec})

    def create_pod(self, namespace, name, node):
        self.ok("POST", "/api/v1/namespaces/%s/pods" % namespace, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]}})

    def remove(self, path, timeout=10):
        """Drops the object's finalizers, deletes it and waits until it is gone."""
        self.merge_patch(path, {"metadata": {"finalizers": None}})
        self.request("DELETE", path)
        deadline = time.monotonic() + timeout
        while self.get(path) is not None:
            if time.monotonic() > deadline:
                raise ApiError(path + " did not go away")
            time.sleep(0.05)

    def blocks(self, node=None, pool=None):
        selector = {}
        if node:
            selector[L_NODE] = node
        if pool:
            selector[L_POOL] = pool
        return self.items(BLOCKS, selector)

    def lease_holder(self):
        lease = self.get(LEASE) or {}
        return lease.get("spec", {}).get("holderIdentity")

    # --- the request log (/_test/) -------------------------------------------------------

    def clear_log(self):
        self.ok("DELETE", "/_test/requests")

    def request_log(self):
        return self.ok("GET", "/_test/requests")["items"]

    def add_fault(self, rule):
        self.ok("POST", "/_test/faults", rule)

    def clear_faults(self):
        self.ok("DELETE", "/_test/faults")


def kubeconfig(path, server, token=None):
    """A kubeconfig pointing at server, with a bearer token (or no credentials)."""
    return deploy_rbac.kubeconfig(path, server, token)
