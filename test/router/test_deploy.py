#!/usr/bin/python3
"""Checks the deploy/ manifests: every YAML file parses and every manifest is well formed, the
default install and deploy/router render with the project's kustomize (scripts/kustomize.sh)
and apply with Debian's kubectl 1.20 to the test API server, and the objects found there
afterwards are upstream's: names, ports, probes, mounts, the webhook configurations, the
CNI configuration, and the RBAC of test/deploy/test_render.py's table of API calls.

Usage: test/router/test_deploy.py      (exit 0 pass, 1 fail; nothing is skipped)
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "deploy"))
import test_render  # noqa: E402  (the table of API calls per program)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO, "deploy")
NAME_LABEL = ("app.kubernetes.io/name", "coil")
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def step(text):
    print("--- " + text, flush=True)


# ---- static checks of the files ----------------------------------------------------------

def manifest_files():
    for root, _, files in os.walk(DEPLOY):
        if "certs" in os.path.relpath(root, DEPLOY).split(os.sep):
            continue  # generated, not part of the tree
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")) or name in ("Kustomization", "kustomization"):
                yield os.path.join(root, name)


def check_files():
    step("every YAML file under deploy/ parses; manifests are well formed")
    count = 0
    for path in manifest_files():
        rel = os.path.relpath(path, REPO)
        try:
            with open(path) as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            check(False, "%s does not parse: %s" % (rel, e))
            continue
        count += 1
        for doc in docs:
            check(isinstance(doc, dict), "%s: a document is not a mapping" % rel)
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "Kustomization" or os.path.basename(path).lower() == "kustomization":
                check_kustomization(path, doc)
                continue
            if doc.get("kind") in ("AddressPool", "Namespace") or "/standalone/" in path or "/demo/" in path:
                continue  # example pools for standalone/demo use, not part of the install
            if "/overlays/" in path:
                continue  # patches, not whole manifests
            meta = doc.get("metadata") or {}
            what = "%s: %s/%s" % (rel, doc.get("kind"), meta.get("name"))
            check(doc.get("apiVersion") and doc.get("kind") and meta.get("name"),
                  "%s lacks apiVersion, kind or metadata.name" % what)
            if doc.get("kind") not in CLUSTER_SCOPED:
                check(meta.get("namespace") == "kube-system", "%s is not in kube-system" % what)
            if "/crd/" not in path:
                check((meta.get("labels") or {}).get(NAME_LABEL[0]) == NAME_LABEL[1],
                      "%s lacks label %s=%s" % ((what,) + NAME_LABEL))
    check(count >= 15, "only %d YAML files found under deploy/" % count)


def check_kustomization(path, doc):
    base = os.path.dirname(path)
    entries = list(doc.get("resources") or []) + list(doc.get("components") or [])
    entries += [p["path"] for p in doc.get("patches") or [] if "path" in p]
    for entry in entries:
            target = os.path.join(base, entry)
            if entry.startswith("certs/"):
                continue  # written by deploy/gen-certs.sh
            check(os.path.exists(target), "%s lists missing %s" % (os.path.relpath(path, REPO), entry))


# ---- the install against the test API server ---------------------------------------------

class Cluster:
    def __init__(self, kubectl, workdir):
        self.kubectl = kubectl
        self.workdir = workdir
        self.env = dict(os.environ, HOME=os.path.join(workdir, "home"))
        os.makedirs(self.env["HOME"], exist_ok=True)
        port_file = os.path.join(workdir, "port")
        self.log = open(os.path.join(workdir, "server.log"), "w")
        self.server = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(REPO, "test/apiserver/run"), "--port", "0",
             "--port-file", port_file], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%d" % int(f.read())

    def run(self, *args):
        cmd = [self.kubectl, "--server", self.url, "--request-timeout", "20s"] + list(args)
        res = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("kubectl %s: %s%s" % (" ".join(args), res.stdout, res.stderr))
        return res.stdout

    def get(self, kind, name, namespace=None):
        args = ["get", kind, name, "-o", "json"]
        if namespace:
            args += ["-n", namespace]
        return json.loads(self.run(*args))

    def close(self):
        self.server.kill()
        self.server.wait()
        self.log.close()


def live(c, kinds):
    return json.loads(c.run("get", kinds, "-A", "-o", "json"))["items"]


def check_rbac(c):
    step("RBAC: each program may make exactly its calls (test/deploy/test_render.py)")
    docs = live(c, "clusterroles,clusterrolebindings,roles,rolebindings")
    for d in docs:
        d.setdefault("kind", "")
    before = len(failures)
    test_render.check_rbac("applied", docs, test_render.CALLS)
    failures.extend(test_render.failures[:])
    del test_render.failures[:]
    check(len(failures) == before, "RBAC of the applied install")
    for name in test_render.CALLS:
        c.get("serviceaccount", name, "kube-system")
    for res in ("addresspool", "addressblock", "blockrequest"):
        role = c.get("clusterrole", "coilv2-%s-viewer-role" % res)
        rules = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
                 for r in rule["resources"] for v in rule["verbs"]}
        check(rules == {("coil.cybozu.com", res + "s", v) for v in ("get", "list", "watch")} |
              {("coil.cybozu.com", res + "s/status", "get")}, "viewer role of %ss" % res)
        labels = role["metadata"].get("labels", {})
        for agg in ("admin", "edit", "view"):
            check(labels.get("rbac.authorization.k8s.io/aggregate-to-" + agg) == "true",
                  "viewer role of %ss aggregates to %s" % (res, agg))


def check_webhooks(c):
    step("webhook Service, configurations and the Secret the controller rotates")
    svc = c.get("service", "coilv2-ipam-webhook-service", "kube-system")
    port = svc["spec"]["ports"][0]
    check(port["port"] == 443 and port["targetPort"] == 9443 and port["protocol"] == "TCP",
          "webhook Service port 443 -> 9443")
    check(svc["spec"]["selector"] == {"app.kubernetes.io/component": "coil-ipam-controller",
                                      "app.kubernetes.io/name": "coil"}, "webhook Service selector")
    secret = c.get("secret", "coilv2-ipam-webhook-server-cert", "kube-system")
    check(secret["type"] == "Opaque" and not secret.get("data"),
          "webhook Secret shipped empty for the controller to fill")
    for kind, name, entry, path, ops in (
            ("mutatingwebhookconfiguration", "coilv2-mutating-ipam-webhook-configuration",
             "maddresspool.kb.io", "/mutate-coil-cybozu-com-v2-addresspool", ["CREATE"]),
            ("validatingwebhookconfiguration", "coilv2-validating-ipam-webhook-configuration",
             "vaddresspool.kb.io", "/validate-coil-cybozu-com-v2-addresspool",
             ["CREATE", "UPDATE"])):
        hooks = c.get(kind, name)["webhooks"]
        check(len(hooks) == 1, "%s has one webhook" % name)
        h = hooks[0]
        check(h["name"] == entry, "%s entry name" % name)
        check(h["admissionReviewVersions"] == ["v1", "v1beta1"], "%s review versions" % name)
        check(h["failurePolicy"] == "Fail" and h["sideEffects"] == "None",
              "%s failurePolicy/sideEffects" % name)
        service = h["clientConfig"]["service"]
        check(service.pop("port", 443) == 443 and
              service == {"name": "coilv2-ipam-webhook-service", "namespace": "kube-system",
                          "path": path}, "%s service reference" % name)
        check(h["rules"] == [{"apiGroups": ["coil.cybozu.com"], "apiVersions": ["v2"],
                              "operations": ops, "resources": ["addresspools"], "scope": "*"}],
              "%s rules" % name)
        check("caBundle" not in h["clientConfig"], "%s caBundle left to the controller" % name)


def container(obj, name, init=False):
    spec = obj["spec"]["template"]["spec"]
    for ctr in spec.get("initContainers" if init else "containers", []):
        if ctr["name"] == name:
            return ctr
    raise AssertionError("no container %s" % name)


def ports_of(ctr):
    return {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}


def check_selector(obj, component):
    want = {"app.kubernetes.io/name": "coil", "app.kubernetes.io/component": component}
    check(obj["spec"]["selector"]["matchLabels"] == want, "%s selector" % component)
    labels = obj["spec"]["template"]["metadata"]["labels"]
    check(all(labels.get(k) == v for k, v in want.items()), "%s pod labels" % component)


def check_workloads(c):
    step("workloads and the CNI configuration")
    dep = c.get("deployment", "coil-ipam-controller", "kube-system")
    check_selector(dep, "coil-ipam-controller")
    spec = dep["spec"]["template"]["spec"]
    check(dep["spec"]["replicas"] == 2, "controller replicas")
    check(spec.get("hostNetwork") is True, "controller hostNetwork")
    check(spec["securityContext"] == {"runAsUser": 10000, "runAsGroup": 10000},
          "controller runs as 10000:10000")
    check(spec["serviceAccountName"] == "coil-ipam-controller", "controller ServiceAccount")
    check(spec["terminationGracePeriodSeconds"] == 10, "controller grace period")
    ctr = container(dep, "coil-ipam-controller")
    check(ctr["image"] == IMAGE and ctr["command"] == ["coil-ipam-controller"],
          "controller image and command")
    check("--enable-cert-rotation=true" in ctr["args"], "controller rotates its certificate")
    check(ports_of(ctr) == {"metrics": 9386, "health": 9387, "webhook-server": 9443},
          "controller ports")
    check(ctr["readinessProbe"]["httpGet"]["path"] == "/readyz" and
          ctr["livenessProbe"]["httpGet"]["path"] == "/healthz", "controller probes")
    check({"name": "cert", "mountPath": "/certs", "readOnly": True} in ctr["volumeMounts"],
          "controller mounts the certificates at /certs")
    check(spec["volumes"][0]["secret"]["secretName"] == "coilv2-ipam-webhook-server-cert",
          "controller certificate volume")

    ds = c.get("daemonset", "coild", "kube-system")
    check_selector(ds, "coild")
    spec = ds["spec"]["template"]["spec"]
    check(spec.get("hostNetwork") is True and spec.get("hostPID") is True,
          "coild hostNetwork and hostPID")
    check(spec["terminationGracePeriodSeconds"] == 30, "coild grace period")
    check(spec["priorityClassName"] == "system-node-critical", "coild priority class")
    ctr = container(ds, "coild")
    check(ctr["image"] == IMAGE and ctr["command"] == ["coild"] and
          "--enable-ipam=true" in ctr["args"] and "--enable-egress=true" in ctr["args"],
          "coild command and args")
    check(ctr["securityContext"] == {"privileged": True}, "coild privileged")
    check(ports_of(ctr) == {"metrics": 9384, "health": 9385}, "coild ports")
    check({"name": "run", "mountPath": "/run", "mountPropagation": "HostToContainer"}
          in ctr["volumeMounts"], "coild /run with HostToContainer propagation")
    env = {e["name"]: e for e in ctr["env"]}
    check(env["COIL_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName",
          "coild COIL_NODE_NAME")
    inst = container(ds, "coil-installer", init=True)
    check(inst["image"] == IMAGE and inst["command"] == ["coil-installer"], "installer command")
    env = {e["name"]: e for e in inst["env"]}
    check(env["CNI_NETCONF"]["valueFrom"]["configMapKeyRef"] ==
          {"name": "coil-config", "key": "cni_netconf"}, "installer CNI_NETCONF from coil-config")
    mounts = {m["mountPath"] for m in inst["volumeMounts"]}
    check(mounts == {"/host/opt/cni/bin", "/host/etc/cni/net.d"}, "installer mounts")
    vols = {v["name"]: v.get("hostPath", {}).get("path") for v in spec["volumes"]}
    check(vols == {"run": "/run", "modules": "/lib/modules", "cni-bin-dir": "/opt/cni/bin",
                   "cni-net-dir": "/etc/cni/net.d"}, "coild host paths")

    cm = c.get("configmap", "coil-config", "kube-system")
    check(json.loads(cm["data"]["cni_netconf"]) == {
        "cniVersion": "0.4.0", "name": "k8s-pod-network",
        "plugins": [{"type": "coil", "socket": "/run/coild.sock"},
                    {"type": "portmap", "capabilities": {"portMappings": True}}]},
          "default cni_netconf")


def check_router(c):
    step("coil-router DaemonSet (deploy/router)")
    ds = c.get("daemonset", "coil-router", "kube-system")
    check_selector(ds, "coil-router")
    spec = ds["spec"]["template"]["spec"]
    check(spec.get("hostNetwork") is True, "router hostNetwork")
    check(spec["terminationGracePeriodSeconds"] == 1, "router grace period")
    check(spec["serviceAccountName"] == "coil-router", "router ServiceAccount")
    ctr = container(ds, "coil-router")
    check(ctr["image"] == IMAGE and ctr["command"] == ["coil-router"], "router command")
    check(ctr["securityContext"] == {"capabilities": {"add": ["NET_ADMIN"]}}, "router NET_ADMIN")
    check(ports_of(ctr) == {"metrics": 9388, "health": 9389}, "router ports")
    env = {e["name"]: e for e in ctr["env"]}
    check(env["COIL_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName",
          "router COIL_NODE_NAME")


def check_labels(c):
    step("every installed object carries %s=%s" % NAME_LABEL)
    kinds = ("serviceaccounts,roles,rolebindings,services,configmaps,secrets,deployments,"
             "daemonsets")
    items = json.loads(c.run("get", kinds, "-n", "kube-system", "-o", "json",
                             "-l", "%s=%s" % NAME_LABEL))["items"]
    names = sorted("%s/%s" % (i["kind"], i["metadata"]["name"]) for i in items)
    check(names == sorted([
        "ConfigMap/coil-config", "DaemonSet/coil-router", "DaemonSet/coild",
        "Deployment/coil-ipam-controller", "Role/coil-leader-election",
        "RoleBinding/coil-leader-election", "Role/coil-ipam-controller-certrotation",
        "RoleBinding/coil-ipam-controller-certrotation", "Secret/coilv2-ipam-webhook-server-cert",
        "Service/coilv2-ipam-webhook-service", "ServiceAccount/coil-ipam-controller",
        "Deployment/coil-egress-controller", "Role/coil-egress-controller",
        "RoleBinding/coil-egress-controller", "Role/coil-egress-controller-certrotation",
        "RoleBinding/coil-egress-controller-certrotation",
        "Secret/coilv2-egress-webhook-server-cert", "Service/coilv2-egress-webhook-service",
        "ServiceAccount/coil-egress-controller",
        "ServiceAccount/coil-router", "ServiceAccount/coild"]), "labelled objects: %s" % names)
    kinds = ("clusterroles,clusterrolebindings,mutatingwebhookconfigurations,"
             "validatingwebhookconfigurations,customresourcedefinitions")
    items = json.loads(c.run("get", kinds, "-o", "json", "-l", "%s=%s" % NAME_LABEL))["items"]
    # ClusterRoles: 4 programs, coil-egress (gateway pods), 2 cert rotations, 4 viewers;
    # bindings: 4 programs, coil-egress, 2 rotations; 4 webhook configurations, 4 CRDs.
    check(len(items) == 11 + 7 + 4 + 4, "labelled cluster objects: %d" % len(items))


def render(kustomize, path, out):
    res = subprocess.run([kustomize, "build", path], capture_output=True, text=True)
    if res.returncode != 0 or res.stderr.strip():
        raise RuntimeError("kustomize build %s: %s" % (path, res.stderr))
    with open(out, "w") as f:
        f.write(res.stdout)
    return out


def tool(script, *args):
    res = subprocess.run([os.path.join(REPO, script)] + list(args), capture_output=True,
                         text=True)
    if res.returncode != 0:
        print("FAIL: %s: %s" % (script, res.stderr), file=sys.stderr)
        sys.exit(1)
    return res.stdout.strip()


def main():
    global IMAGE
    check_files()
    kubectl = tool("test/kubectl/setup-kubectl.sh")
    kustomize = tool("scripts/kustomize.sh")
    IMAGE = tool("scripts/image.sh", "--ref")
    work = tempfile.mkdtemp(prefix="coil-deploy-test.")
    cluster = None
    try:
        install = render(kustomize, DEPLOY, os.path.join(work, "install.yaml"))
        router = render(kustomize, os.path.join(DEPLOY, "router"),
                        os.path.join(work, "router.yaml"))
        cluster = Cluster(kubectl, work)
        step("kubectl apply -f (kustomize build deploy), (kustomize build deploy/router)")
        cluster.run("apply", "-f", install)
        cluster.run("apply", "-f", router)
        check_rbac(cluster)
        check_webhooks(cluster)
        check_workloads(cluster)
        check_router(cluster)
        check_labels(cluster)
        step("applying again changes nothing")
        out = cluster.run("apply", "-f", install) + cluster.run("apply", "-f", router)
        changed = [l for l in out.splitlines() if not l.endswith(" unchanged")]
        check(not changed, "second apply changed: %s" % changed)
    except (RuntimeError, AssertionError, KeyError, subprocess.CalledProcessError) as e:
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        if cluster:
            cluster.close()
            if failures:
                with open(os.path.join(work, "server.log")) as f:
                    print("server log tail:\n" + "".join(f.readlines()[-20:]), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
