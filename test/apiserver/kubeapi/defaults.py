"""Server-side defaults of built-in types (the subset clients commonly depend on) and the
state the API server itself gives new objects (pod phase, namespace phase, service IPs,
CRD conditions)."""

import ipaddress
import itertools
import threading

from .errors import now_rfc3339

_service_ips = itertools.count(10)
_service_ip_lock = threading.Lock()
_SERVICE_NET = ipaddress.ip_network("10.96.0.0/12")
_SERVICE_NET6 = ipaddress.ip_network("fd00:96::/108")
# A dual-stack cluster (--dual-stack): Services asking for PreferDualStack or
# RequireDualStack get an IPv6 ClusterIP too, as kube-apiserver with two service CIDRs does.
DUAL_STACK = False


def _pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("serviceAccountName") and "serviceAccount" not in spec:
        spec["serviceAccount"] = spec["serviceAccountName"]
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            image = c.get("image", "")
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            c.setdefault("resources", {})
            for p in c.get("ports") or []:
                p.setdefault("protocol", "TCP")


def _template(spec):
    tmpl = spec.get("template")
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        _pod_spec(tmpl.setdefault("spec", {}))


def _deployment(obj, creating):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec)


def _daemonset(obj, creating):
    spec = obj.setdefault("spec", {})
    us = spec.setdefault("updateStrategy", {})
    us.setdefault("type", "RollingUpdate")
    if us["type"] == "RollingUpdate":
        ru = us.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(spec)


def _replicaset(obj, creating):
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj["spec"])


def _pod(obj, creating):
    _pod_spec(obj.setdefault("spec", {}))
    if creating:
        obj["status"] = {"phase": "Pending"}


def _namespace(obj, creating):
    spec = obj.setdefault("spec", {})
    if creating:
        spec.setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def _service(obj, creating):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName" and creating and not spec.get("clusterIP"):
        with _service_ip_lock:
            index = next(_service_ips)
        spec["clusterIP"] = str(_SERVICE_NET[index])
        if DUAL_STACK and spec.get("ipFamilyPolicy") in ("PreferDualStack", "RequireDualStack"):
            spec["clusterIPs"] = [spec["clusterIP"], str(_SERVICE_NET6[index])]
            spec["ipFamilies"] = ["IPv4", "IPv6"]
    if spec.get("clusterIP") and spec["clusterIP"] != "None":
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        if "port" in p:
            p.setdefault("targetPort", p["port"])
    if creating:
        obj["status"] = {"loadBalancer": {}}


def _secret(obj, creating):
    obj.setdefault("type", "Opaque")


def _pdb(obj, creating):
    if creating:
        obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                         "expectedPods": 0}


def _webhooks(obj, creating):
    for hook in obj.get("webhooks") or []:
        hook.setdefault("failurePolicy", "Fail")
        hook.setdefault("matchPolicy", "Equivalent")
        hook.setdefault("timeoutSeconds", 10)
        hook.setdefault("namespaceSelector", {})
        hook.setdefault("objectSelector", {})
        if obj.get("kind") == "MutatingWebhookConfiguration":
            hook.setdefault("reinvocationPolicy", "Never")
        for rule in hook.get("rules") or []:
            rule.setdefault("scope", "*")
        svc = (hook.get("clientConfig") or {}).get("service")
        if svc:
            svc.setdefault("port", 443)


def _crd(obj, creating):
    spec = obj.setdefault("spec", {})
    spec.setdefault("conversion", {"strategy": "None"})
    names = spec.get("names") or {}
    names.setdefault("singular", (names.get("kind") or "").lower())
    names.setdefault("listKind", (names.get("kind") or "") + "List")
    if creating:
        cond = [("NamesAccepted", "NoConflicts", "no conflicts found"),
                ("Established", "InitialNamesAccepted", "the initial names have been accepted")]
        obj["status"] = {
            "acceptedNames": dict(names),
            "conditions": [{"type": t, "status": "True", "reason": r, "message": m,
                            "lastTransitionTime": now_rfc3339()} for t, r, m in cond],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        }


_BY_KEY = {
    "apps/deployments": _deployment, "apps/daemonsets": _daemonset,
    "apps/replicasets": _replicaset, "/pods": _pod, "/namespaces": _namespace,
    "/services": _service, "/secrets": _secret, "policy/poddisruptionbudgets": _pdb,
    "admissionregistration.k8s.io/mutatingwebhookconfigurations": _webhooks,
    "admissionregistration.k8s.io/validatingwebhookconfigurations": _webhooks,
    "apiextensions.k8s.io/customresourcedefinitions": _crd,
}


def apply(rt, obj, creating):
    """Applies built-in defaults to obj in place (no-op for custom resources)."""
    fn = _BY_KEY.get(rt.key)
    if fn and not rt.crd:
        fn(obj, creating)
