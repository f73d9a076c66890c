#!/usr/bin/python3
"""Puts deploy/rbac (ServiceAccounts, Roles, ClusterRoles and their bindings, as the default
install renders them: namespaced objects in kube-system) into a test API server and gives each
coil program the token of its own ServiceAccount, so integration tests run coil under the
project's RBAC exactly as a cluster would.

As a module: apply(url), token(url, name), kubeconfig(path, server, token), and request(),
the one-shot JSON request the harnesses share.
As a program: deploy_rbac.py URL OUTDIR  applies the objects and writes OUTDIR/NAME.token and
OUTDIR/NAME.kubeconfig for every ServiceAccount NAME of deploy/rbac (coil-ipam-controller,
coild, coil-router). The harness itself talks to the server without credentials (which the
test server treats as an administrator) or with an --token administrator token."""

import glob
import http.client
import json
import os
import sys
import urllib.parse

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RBAC_DIR = os.path.join(REPO, "deploy", "rbac")
NAMESPACE = "kube-system"  # deploy/default's namespace
_PATHS = {
    "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
}


def request(url, method, path, body=None, ctype="application/json", admin_token=None):
    """(status, decoded JSON body or None) of one request to an http:// server."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"Content-Type": ctype} if body is not None else {}
    if admin_token:
        headers["Authorization"] = "Bearer " + admin_token
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None
    finally:
        conn.close()


def objects():
    """The documents of deploy/rbac/*.yaml with namespaced ones put into kube-system."""
    docs = []
    for path in sorted(glob.glob(os.path.join(RBAC_DIR, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") not in _PATHS:
                    continue
                if "{ns}" in _PATHS[doc["kind"]]:
                    doc["metadata"].setdefault("namespace", NAMESPACE)
                docs.append(doc)
    return docs


def service_accounts():
    return [d["metadata"]["name"] for d in objects() if d["kind"] == "ServiceAccount"]


def apply(url, admin_token=None):
    """Creates every object of deploy/rbac (existing ones are left as they are)."""
    for doc in objects():
        path = _PATHS[doc["kind"]].format(ns=doc["metadata"].get("namespace"))
        status, answer = request(url, "POST", path, doc, admin_token=admin_token)
        if status not in (201, 409):
            raise RuntimeError("POST %s %s: %d %s" % (path, doc["metadata"]["name"], status,
                                                      answer))


def token(url, name, namespace=NAMESPACE, admin_token=None, seconds=86400):
    """A token of ServiceAccount namespace/name from the TokenRequest subresource."""
    path = "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, name)
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds}}
    status, answer = request(url, "POST", path, body, admin_token=admin_token)
    if status != 201:
        raise RuntimeError("POST %s: %d %s" % (path, status, answer))
    return answer["status"]["token"]


def kubeconfig(path, server, bearer_token=None):
    """A kubeconfig for server with the given token (none: no credentials). JSON is YAML."""
    user = {"token": bearer_token} if bearer_token else {}
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "t",
                   "clusters": [{"name": "t", "cluster": {"server": server}}],
                   "users": [{"name": "t", "user": user}],
                   "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}]}, f)
    return path


def main(argv):
    if len(argv) != 3:
        print("usage: deploy_rbac.py URL OUTDIR", file=sys.stderr)
        return 2
    url, out = argv[1], argv[2]
    apply(url)
    for name in service_accounts():
        t = token(url, name)
        with open(os.path.join(out, name + ".token"), "w") as f:
            f.write(t + "\n")
        kubeconfig(os.path.join(out, name + ".kubeconfig"), url, t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
