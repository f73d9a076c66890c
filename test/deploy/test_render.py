#!/usr/bin/python3
"""Renders deploy/ as a fresh clone has it, and every kustomization under it, with a current
standalone kustomize (scripts/kustomize.sh), failing on any error or warning; then checks what
the renders hold:

- no kustomization uses the fields kustomize deprecated (bases, commonLabels, patchesJson6902,
  patchesStrategicMerge, vars);
- every coil workload runs the image named in deploy/image (scripts/image.sh --ref) by an
  upstream program name;
- RBAC: the calls each program makes (the CALLS table below, which the comments next to each
  role repeat) are exactly what the roles bound to its ServiceAccount grant: every call is
  allowed, and nothing else is (least privilege); and every resource the program's code names
  appears in its table, so a new call without a rule fails here.

Usage: test/deploy/test_render.py     (exit 0 pass, 1 fail; nothing is skipped)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NS = "kube-system"
DEPRECATED = ("bases", "commonLabels", "patchesJson6902", "patchesStrategicMerge", "vars")
PROGRAMS = {"coild", "coil-installer", "coil-ipam-controller", "coil-router", "coil-egress",
            "coil-egress-controller", "coil-migrator"}

# The API calls of each program: (group, resource, verb, namespace or None for cluster-wide).
# An informer is list + watch.
CALLS = {
    "coil-ipam-controller": [
        ("", "nodes", "list", None),                     # lib/ipamctl/gc.c
        ("", "nodes", "watch", None),                    # lib/ipamctl/controller.c
        ("coil.cybozu.com", "addressblocks", "create", None),   # poolmgr.c
        ("coil.cybozu.com", "addressblocks", "delete", None),   # gc.c
        ("coil.cybozu.com", "addressblocks", "get", None),      # gc.c
        ("coil.cybozu.com", "addressblocks", "list", None),     # poolmgr.c, reqrec.c, gc.c
        ("coil.cybozu.com", "addressblocks", "update", None),   # gc.c (finalizer)
        ("coil.cybozu.com", "addressblocks", "watch", None),    # controller.c
        ("coil.cybozu.com", "addresspools", "get", None),       # poolmgr.c, poolrec.c
        ("coil.cybozu.com", "addresspools", "list", None),      # controller.c
        ("coil.cybozu.com", "addresspools", "update", None),    # poolrec.c (finalizer)
        ("coil.cybozu.com", "addresspools", "watch", None),     # controller.c
        ("coil.cybozu.com", "blockrequests", "get", None),      # reqrec.c
        ("coil.cybozu.com", "blockrequests", "list", None),     # controller.c
        ("coil.cybozu.com", "blockrequests", "watch", None),    # controller.c
        ("coil.cybozu.com", "blockrequests/status", "update", None),  # reqrec.c
        ("coordination.k8s.io", "leases", "create", NS),        # lib/kube/leader.c
        ("coordination.k8s.io", "leases", "get", NS),
        ("coordination.k8s.io", "leases", "update", NS),
        # --enable-cert-rotation (lib/certrotate), the default install:
        ("", "secrets", "get", NS),                      # secret.c
        ("", "secrets", "update", NS),                   # secret.c
        ("", "secrets", "list", NS),                     # rotator.c
        ("", "secrets", "watch", NS),                    # rotator.c
    ] + [("admissionregistration.k8s.io", r, v, None)    # inject.c, rotator.c
         for r in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
         for v in ("get", "list", "update", "watch")],
    "coil-egress-controller": [
        ("", "pods", "get", NS),                         # applets/egress_controller.c (own Pod)
        ("coil.cybozu.com", "egresses", "get", None),    # lib/egressctl/reconcile.c
        ("coil.cybozu.com", "egresses", "list", None),   # crb.c, controller.c
        ("coil.cybozu.com", "egresses", "watch", None),  # controller.c
        ("coil.cybozu.com", "egresses/status", "update", None),  # reconcile.c
        ("", "serviceaccounts", "create", None),         # reconcile.c
        ("", "serviceaccounts", "get", None),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "get", None),     # crb.c
        ("rbac.authorization.k8s.io", "clusterrolebindings", "update", None),  # crb.c
        ("rbac.authorization.k8s.io", "clusterrolebindings", "list", None),    # controller.c
        ("rbac.authorization.k8s.io", "clusterrolebindings", "watch", None),
        # Binding subjects to ClusterRole coil-egress (the API server's escalation check):
        ("rbac.authorization.k8s.io", "clusterroles", "bind", None),
        ("policy", "poddisruptionbudgets", "delete", None),  # reconcile.c (PDB dropped)
        ("coordination.k8s.io", "leases", "create", NS),  # lib/kube/leader.c
        ("coordination.k8s.io", "leases", "get", NS),
        ("coordination.k8s.io", "leases", "update", NS),
    ] + [(g, r, v, None)                                 # reconcile.c, controller.c
         for g, r in (("apps", "deployments"), ("", "services"),
                      ("policy", "poddisruptionbudgets"))
         for v in ("create", "get", "list", "update", "watch")
    ] + [("", "secrets", v, NS) for v in ("get", "update", "list", "watch")  # lib/certrotate
    ] + [("admissionregistration.k8s.io", r, v, None)
         for r in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
         for v in ("get", "list", "update", "watch")],
    "coild": [
        ("", "namespaces", "get", None),                 # lib/kubesource/source.c
        ("", "namespaces", "list", None),                # watch.c
        ("", "namespaces", "watch", None),               # watch.c
        ("", "pods", "get", None),                       # node.c
        ("", "pods", "list", None),                      # egresswatch.c
        ("", "pods", "watch", None),                     # egresswatch.c
        ("", "nodes", "get", None),                      # source.c, node.c
        ("", "services", "get", None),                   # egress.c, egresswatch.c
        ("coil.cybozu.com", "egresses", "get", None),           # egress.c
        ("coil.cybozu.com", "egresses", "list", None),          # egresswatch.c
        ("coil.cybozu.com", "egresses", "watch", None),         # egresswatch.c
        ("coil.cybozu.com", "addresspools", "get", None),       # source.c (CNI STATUS, ADD)
        ("coil.cybozu.com", "addressblocks", "delete", None),   # release.c
        ("coil.cybozu.com", "addressblocks", "get", None),      # acquire.c, release.c
        ("coil.cybozu.com", "addressblocks", "list", None),     # source.c
        ("coil.cybozu.com", "addressblocks", "update", None),   # release.c (finalizer)
        ("coil.cybozu.com", "blockrequests", "create", None),   # acquire.c
        ("coil.cybozu.com", "blockrequests", "delete", None),   # acquire.c
        ("coil.cybozu.com", "blockrequests", "get", None),      # acquire.c
        ("coil.cybozu.com", "blockrequests", "list", None),     # watch.c
        ("coil.cybozu.com", "blockrequests", "watch", None),    # watch.c
        ("events.k8s.io", "events", "create", None),            # node.c (drift Events)
    ],
    "coil-router": [
        ("", "nodes", "list", None),                     # lib/router/router.c
        ("coil.cybozu.com", "addressblocks", "list", None),     # router.c (informer)
        ("coil.cybozu.com", "addressblocks", "watch", None),
    ],
}
# Where each program's API calls live, for the cross-check against the code.
CODE = {
    "coil-ipam-controller": ["lib/ipamctl", "lib/certrotate", "lib/kube/leader.c"],
    "coil-egress-controller": ["lib/egressctl", "applets/egress_controller.c", "lib/certrotate",
                               "lib/kube/leader.c"],
    "coild": ["lib/kubesource", "lib/kube/events.c"],
    "coil-router": ["lib/router"],
}
# egress-only coild (IPAM off): the pod of an ADD, its node, and the egress reads and watches.
EGRESS_ONLY_CODE_CALLS = {("", "pods", v, None) for v in ("get", "list", "watch")} | {
    ("", "nodes", "get", None), ("", "services", "get", None)} | {
    ("coil.cybozu.com", "egresses", v, None) for v in ("get", "list", "watch")}

failures = []
passed = [0]
# Parts of the install that are not installed on their own: no image is set there.
PARTS = {"deploy/crd", "deploy/pod", "deploy/rbac", "deploy/webhook"}


def check(ok, what):
    if ok:
        passed[0] += 1
    else:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return ok


def step(text):
    print("--- " + text, flush=True)


def fresh_tree(work):
    """deploy/ and scripts/ as a fresh clone has them: tracked and new files, nothing ignored
    (no generated certificates)."""
    files = subprocess.run(["git", "-C", REPO, "ls-files", "--cached", "--others",
                            "--exclude-standard", "deploy"], check=True, capture_output=True,
                           text=True).stdout.split()
    tree = os.path.join(work, "clone")
    for rel in files:
        src = os.path.join(REPO, rel)
        if not os.path.exists(src):
            continue  # deleted in the work tree
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    return tree


def kustomizations(tree):
    for root, _, files in os.walk(os.path.join(tree, "deploy")):
        for name in files:
            if name in ("Kustomization", "kustomization.yaml", "kustomization.yml"):
                yield root, os.path.join(root, name)


def render(kustomize, path, label):
    res = subprocess.run([kustomize, "build", path], capture_output=True, text=True)
    ok = check(res.returncode == 0, "kustomize build %s exits %d: %s" %
               (label, res.returncode, res.stderr.strip()))
    check(res.stderr.strip() == "", "kustomize build %s warns: %s" % (label, res.stderr.strip()))
    return [d for d in yaml.safe_load_all(res.stdout) if d] if ok else []


def check_fields(tree):
    step("no deprecated kustomization fields")
    for _, path in kustomizations(tree):
        with open(path) as f:
            doc = yaml.safe_load(f)
        rel = os.path.relpath(path, tree)
        for key in DEPRECATED:
            check(key not in doc, "%s uses deprecated %s" % (rel, key))


def workloads(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "DaemonSet"):
            spec = d["spec"]["template"]["spec"]
            for ctr in spec.get("initContainers", []) + spec["containers"]:
                yield d, ctr


def check_images(label, docs, ref):
    for obj, ctr in workloads(docs):
        what = "%s: %s/%s container %s" % (label, obj["kind"], obj["metadata"]["name"],
                                           ctr["name"])
        check(ctr["image"] == ref, "%s runs %s, not %s" % (what, ctr["image"], ref))
        check(len(ctr.get("command", [])) == 1 and ctr["command"][0] in PROGRAMS,
              "%s command %s is not an upstream program name" % (what, ctr.get("command")))


def grants(docs, sa):
    """(group, resource, verb, namespace or None) the roles bound to ServiceAccount sa give."""
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d
             for d in docs if d["kind"] in ("ClusterRole", "Role")}
    out = set()
    for b in docs:
        if b["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if {"kind": "ServiceAccount", "name": sa, "namespace": NS} not in b.get("subjects", []):
            continue
        ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
        ref = b["roleRef"]
        role = roles.get((ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"]))
        if not check(role is not None, "%s %s binds missing %s %s" %
                     (b["kind"], b["metadata"]["name"], ref["kind"], ref["name"])):
            continue
        for rule in role.get("rules", []):
            for g in rule.get("apiGroups", []):
                for r in rule.get("resources", []):
                    for v in rule.get("verbs", []):
                        out.add((g, r, v, ns))
    return out


def allowed(granted, call):
    g, r, v, ns = call
    return (g, r, v, None) in granted or (ns is not None and (g, r, v, ns) in granted)


def check_rbac(label, docs, calls):
    for sa, want in calls.items():
        have = grants(docs, sa)
        for call in want:
            check(allowed(have, call), "%s: %s may not %s" % (label, sa, call))
        extra = have - set(want)
        check(not extra, "%s: %s is granted calls it never makes: %s" %
              (label, sa, sorted(extra)))


def code_resources(paths):
    """Plural resource names the C files under paths name (KUBE_RES_* and .plural)."""
    with open(os.path.join(REPO, "lib/kube/path.c")) as f:
        plural = dict(re.findall(r'(KUBE_RES_\w+) = \{"[^"]*", "[^"]*", "([^"]+)"', f.read()))
    found = set()
    for p in paths:
        full = os.path.join(REPO, p)
        files = [full] if os.path.isfile(full) else [
            os.path.join(root, n) for root, _, names in os.walk(full) for n in names
            if n.endswith(".c") and not n.endswith("_test.c")]
        for path in files:
            with open(path) as f:
                text = f.read()
            found |= {plural[m] for m in re.findall(r"\b(KUBE_RES_\w+)\b", text) if m in plural}
            found |= set(re.findall(r'\.plural = "([^"]+)"', text))
    return found


def check_code():
    step("every resource the code names is in its program's table")
    for prog, paths in CODE.items():
        used = code_resources(paths)
        check(used, "no resources found in %s (did the code move?)" % paths)
        table = {r.split("/")[0] for _, r, _, _ in CALLS[prog]}
        for res in sorted(used - table):
            check(False, "%s names %s in %s but CALLS has no call on it (add the rule and "
                  "the table row)" % (prog, res, paths))


def check_kind():
    step("kind/: a cluster config and a pool for each family, with and without kindnet")
    kind = os.path.join(REPO, "kind")
    for family in ("ipv4", "ipv6", "dual-stack"):
        for name in (family, family + "-kindnet"):
            with open(os.path.join(kind, name + ".yaml")) as f:
                cfg = yaml.safe_load(f)
            net = cfg.get("networking") or {}
            check(cfg.get("kind") == "Cluster" and
                  net.get("ipFamily", "ipv4") == {"dual-stack": "dual"}.get(family, family),
                  "kind/%s.yaml is a %s Cluster" % (name, family))
            check(net.get("disableDefaultCNI", False) == (name == family),
                  "kind/%s.yaml: kindnet %s" % (name, "off" if name == family else "kept"))
        with open(os.path.join(kind, "pools", family + ".yaml")) as f:
            pool = yaml.safe_load(f)
        check(pool["kind"] == "AddressPool" and pool["metadata"]["name"] == "default",
              "kind/pools/%s.yaml is the default pool" % family)
        check(os.path.isdir(os.path.join(REPO, "deploy/overlays/egress-only", family)),
              "egress-only overlay for %s" % family)
    run = os.path.join(kind, "run.sh")
    check(subprocess.run(["bash", "-n", run]).returncode == 0, "kind/run.sh parses")


def main():
    check_kind()
    kustomize = subprocess.run([os.path.join(REPO, "scripts/kustomize.sh")],
                               capture_output=True, text=True)
    if kustomize.returncode != 0:
        print("FAIL: no kustomize: " + kustomize.stderr, file=sys.stderr)
        return 1
    kustomize = kustomize.stdout.strip()
    ref = subprocess.run([os.path.join(REPO, "scripts/image.sh"), "--ref"], check=True,
                         capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="coil-render-test.")
    try:
        tree = fresh_tree(work)
        check_fields(tree)
        step("kustomize build deploy (fresh clone, no certificates made)")
        default = render(kustomize, os.path.join(tree, "deploy"), "deploy")
        check(len(default) > 20, "deploy renders only %d objects" % len(default))
        check_images("deploy", default, ref)
        step("RBAC of the default install covers exactly the calls")
        check_rbac("deploy", default, CALLS)
        check_code()

        step("deploy/gen-certs.sh, then every other kustomization")
        subprocess.run([os.path.join(tree, "deploy/gen-certs.sh")], check=True,
                       capture_output=True)
        for root, path in sorted(kustomizations(tree)):
            label = os.path.relpath(root, tree)
            with open(path) as f:
                if label == "deploy" or yaml.safe_load(f).get("kind") == "Component":
                    continue  # rendered above; a Component renders only inside a kustomization
            docs = render(kustomize, root, label)
            check(docs, "%s renders nothing" % label)
            if label not in PARTS:
                check_images(label, docs, ref)
            print("%s: %d objects" % (label, len(docs)))
            if label == "deploy/overlays/gen-certs":
                calls = dict(CALLS)
                calls["coil-ipam-controller"] = [c for c in CALLS["coil-ipam-controller"]
                                                 if c[1] not in ("secrets",) and
                                                 not c[1].endswith("webhookconfigurations")]
                check_rbac(label, docs, calls)
                ctl = [c for o, c in workloads(docs) if c["name"] == "coil-ipam-controller"][0]
                check(not any("cert-rotation" in a for a in ctl.get("args", [])),
                      "gen-certs: the controller still rotates certificates")
                # gen-certs covers the AddressPool webhooks; coil-egress-controller keeps
                # rotating its own certificate there.
                hooks = [d for d in docs if d["kind"].endswith("WebhookConfiguration") and
                         "-ipam-" in d["metadata"]["name"]]
                check(len(hooks) == 2 and all(h["webhooks"][0]["clientConfig"].get("caBundle")
                                              for h in hooks), "gen-certs: caBundle not set")
            elif label.startswith("deploy/overlays/egress-only/") and not label.endswith("base"):
                check_rbac(label, docs, {"coild": sorted(EGRESS_ONLY_CODE_CALLS)})
                cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
                types = [p["type"] for p in yaml.safe_load(cm["data"]["cni_netconf"])["plugins"]]
                check(types == ["ptp", "coil", "portmap"], "%s netconf chain %s" % (label, types))
            elif label in ("deploy/overlays/compat-calico", "deploy/router"):
                check_rbac(label, docs, CALLS if label != "deploy/router" else {})
    finally:
        shutil.rmtree(work)
    sys.stderr.flush()
    print("test_render: %d passed, %d failed" % (passed[0], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
