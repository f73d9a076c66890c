"""The resource registry: built-in types, CRD-defined types, and discovery documents."""

import re
import threading

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]
COMMON_FIELDS = ("metadata.name", "metadata.namespace")


class ResourceType:
    """One resource (plural name) of one group/version and how the server treats it."""

    def __init__(self, group, version, plural, kind, namespaced, short_names=(), status=False,
                 scale=None, fields=(), categories=(), singular=None, schema=None, crd=None,
                 columns=None, storage_version=None):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.list_kind = kind + "List"
        self.singular = singular or kind.lower()
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.has_status = status
        # Scale subresource: {"specReplicasPath", "statusReplicasPath", "labelSelectorPath"}.
        self.scale = scale
        self.fields = set(COMMON_FIELDS) | set(fields)
        self.schema = schema  # openAPIV3Schema of a CRD version (None for built-ins)
        self.crd = crd  # name of the defining CRD
        self.columns = columns or []
        # Objects of every version of a group/resource share one storage bucket.
        self.storage_version = storage_version or version

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def qualified_resource(self):
        """`pods` or `addresspools.coil.cybozu.com`, as error messages name resources."""
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    @property
    def key(self):
        """Storage bucket of this resource (shared by all versions of a group/resource)."""
        return "%s/%s" % (self.group, self.plural)

    def discovery(self):
        """APIResource entries for this resource and its subresources."""
        out = [{
            "name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
            "kind": self.kind, "verbs": list(ALL_VERBS),
        }]
        if self.short_names:
            out[0]["shortNames"] = list(self.short_names)
        if self.categories:
            out[0]["categories"] = list(self.categories)
        if self.has_status:
            out.append({"name": self.plural + "/status", "singularName": "",
                        "namespaced": self.namespaced, "kind": self.kind, "verbs": SUB_VERBS})
        if self.scale:
            out.append({"name": self.plural + "/scale", "singularName": "",
                        "namespaced": self.namespaced, "group": "autoscaling", "version": "v1",
                        "kind": "Scale", "verbs": SUB_VERBS})
        return out


_DEPLOY_SCALE = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                 "labelSelectorPath": ".spec.selector"}
_POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
               "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
               "status.nominatedNodeName")
_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion",
                 "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                 "reportingComponent", "reportingController", "source", "type",
                 "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid")


def _builtins():
    R = ResourceType
    return [
        R("", "v1", "namespaces", "Namespace", False, ["ns"], status=True,
          fields=["status.phase"]),
        R("", "v1", "nodes", "Node", False, ["no"], status=True, fields=["spec.unschedulable"]),
        R("", "v1", "pods", "Pod", True, ["po"], status=True, fields=_POD_FIELDS,
          categories=["all"]),
        R("", "v1", "services", "Service", True, ["svc"], status=True, categories=["all"]),
        R("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
        R("", "v1", "secrets", "Secret", True, fields=["type"]),
        R("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
        R("", "v1", "events", "Event", True, ["ev"], fields=_EVENT_FIELDS),
        R("", "v1", "endpoints", "Endpoints", True, ["ep"]),
        R("apps", "v1", "deployments", "Deployment", True, ["deploy"], status=True,
          scale=_DEPLOY_SCALE, categories=["all"]),
        R("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], status=True,
          categories=["all"]),
        R("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], status=True,
          scale=_DEPLOY_SCALE, categories=["all"]),
        R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
          status=True),
        R("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
        R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
        R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
        R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
        R("coordination.k8s.io", "v1", "leases", "Lease", True),
        R("events.k8s.io", "v1", "events", "Event", True, ["ev"], fields=_EVENT_FIELDS),
        R("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
        R("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "MutatingWebhookConfiguration", False),
        R("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "ValidatingWebhookConfiguration", False),
        R("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          False, ["crd", "crds"], status=True),
    ]


_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version):
    """Sort key of Kubernetes' version priority: GA > beta > alpha, higher numbers first."""
    m = _VERSION_RE.match(version)
    if not m:
        return (3, 0, 0, version)
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (level, -int(m.group(1)), -int(m.group(3) or 0), version)


class Registry:
    """Which resources are served; CRD-defined ones come and go with their CRD objects."""

    def __init__(self):
        self._lock = threading.Lock()
        self._builtin = _builtins()
        self._crd = {}  # CRD name -> [ResourceType per served version]

    def all(self):
        with self._lock:
            out = list(self._builtin)
            for types in self._crd.values():
                out.extend(types)
            return out

    def lookup(self, group, version, plural):
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def by_key(self, key):
        """Any version of the bucket `group/plural` (for garbage collection and admission)."""
        for rt in self.all():
            if rt.key == key:
                return rt
        return None

    def set_crd(self, crd):
        """Serves (or re-serves, after an update) the versions a CRD object defines."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
        storage = next((v["name"] for v in spec.get("versions") or [] if v.get("storage")),
                       versions[0]["name"] if versions else "")
        types = []
        for v in versions:
            subs = v.get("subresources") or {}
            types.append(ResourceType(
                spec.get("group", ""), v["name"], names.get("plural", ""), names.get("kind", ""),
                spec.get("scope") == "Namespaced", names.get("shortNames") or (),
                status="status" in subs, scale=subs.get("scale"),
                categories=names.get("categories") or (), singular=names.get("singular"),
                schema=(v.get("schema") or {}).get("openAPIV3Schema") or {"type": "object",
                       "x-kubernetes-preserve-unknown-fields": True},
                crd=crd["metadata"]["name"], columns=v.get("additionalPrinterColumns"),
                storage_version=storage))
        with self._lock:
            self._crd[crd["metadata"]["name"]] = types

    def drop_crd(self, name):
        with self._lock:
            return self._crd.pop(name, [])

    def crd_types(self, name):
        with self._lock:
            return list(self._crd.get(name, []))

    # --- discovery documents -----------------------------------------------------------------

    def group_versions(self):
        """{group: [versions, preferred first]} of the named groups (not core)."""
        groups = {}
        for rt in self.all():
            if rt.group and rt.version not in groups.setdefault(rt.group, []):
                groups[rt.group].append(rt.version)
        return {g: sorted(vs, key=version_priority) for g, vs in groups.items()}

    def api_group(self, group):
        versions = self.group_versions().get(group)
        if not versions:
            return None
        gvs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs,
                "preferredVersion": gvs[0]}

    def api_group_list(self):
        groups = []
        for group in self.group_versions():
            g = self.api_group(group)
            del g["kind"], g["apiVersion"]
            groups.append(g)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group, version):
        res = []
        for rt in self.all():
            if rt.group == group and rt.version == version:
                res.extend(rt.discovery())
        if not res:
            return None
        gv = "%s/%s" % (group, version) if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": res}
