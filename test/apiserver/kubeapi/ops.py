"""The verbs of the API (create, update, patch, delete, scale) with the metadata semantics of
the real API server: generateName, uid, generation, optimistic concurrency, status/spec
separation, finalizers and deletionTimestamp, deletion propagation policies, CRD schemas and
admission webhooks.
"""

import copy
import json
import random
import re

from . import defaults, errors, patch, schema, warnings
from .errors import ApiError
from .selectors import selector_string
from .storage import meta

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
# Metadata only the server sets; client values are replaced by the stored ones on update.
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "namespace", "name")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def _path(dotted):
    return [p for p in dotted.split(".") if p]


def _get_path(obj, dotted):
    for key in _path(dotted):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _set_path(obj, dotted, value):
    keys = _path(dotted)
    for key in keys[:-1]:
        obj = obj.setdefault(key, {})
    obj[keys[-1]] = value


def _body_without(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


class Api:
    def __init__(self, store, registry, admission, graceful_pods=False):
        self.store = store
        self.registry = registry
        self.admission = admission
        self.graceful_pods = graceful_pods
        self.gc = None  # set by the server: GarbageCollector
        store.on_change.append(self._on_change)

    # --- hooks -------------------------------------------------------------------------------

    def _on_change(self, key, event):
        """Keeps CRD-defined resources in step with CRD objects; wakes the collector."""
        if key == CRD_KEY:
            if event.type == "DELETED":
                for rt in self.registry.drop_crd(event.obj["metadata"]["name"])[:1]:
                    self.store.drop_bucket(rt)
            else:
                self.registry.set_crd(event.obj)
        m = meta(event.obj)
        if self.gc and (event.type == "DELETED" or m.get("deletionTimestamp")
                        or m.get("ownerReferences") or key == "/namespaces"):
            self.gc.kick()

    # --- shared checks -----------------------------------------------------------------------

    def _decode(self, rt, ns, body):
        """A private copy of a request body with apiVersion/kind/namespace checked or filled."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        obj = copy.deepcopy(body)
        kind = obj.get("kind")
        if kind and kind != rt.kind:
            raise errors.bad_request("the kind of the object (%s) does not match the kind of the "
                                     "resource (%s)" % (kind, rt.kind))
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        m = obj.pop("metadata", None)
        if m is None:
            m = {}
        # Objects read back start with apiVersion, kind, metadata, as the real server writes them.
        obj = dict({"apiVersion": rt.api_version, "kind": rt.kind, "metadata": m}, **obj)
        if not isinstance(m, dict):
            raise errors.bad_request("metadata must be an object")
        if rt.namespaced:
            if m.get("namespace") and ns and m["namespace"] != ns:
                raise errors.bad_request("the namespace of the provided object does not match "
                                         "the namespace sent on the request")
            if not ns and not m.get("namespace"):
                raise errors.bad_request("a namespace must be given for %s" % rt.plural)
            m["namespace"] = ns or m["namespace"]
        else:
            m.pop("namespace", None)
        m.pop("managedFields", None)
        m.pop("selfLink", None)
        return obj

    def _validate_meta(self, rt, obj):
        m = obj["metadata"]
        name = m.get("name", "")
        causes = []
        if rt.group == "rbac.authorization.k8s.io":
            bad = name in (".", "..") or "/" in name or "%" in name
        elif rt.key == "/namespaces":
            bad = len(name) > 63 or not _DNS_LABEL.match(name)
        else:
            bad = len(name) > 253 or not _DNS_SUBDOMAIN.match(name)
        if bad:
            causes.append(("metadata.name", "FieldValueInvalid", 'Invalid value: "%s": a '
                           "lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                           "characters, '-' or '.', and must start and end with an alphanumeric "
                           "character" % name))
        for k, v in (m.get("labels") or {}).items():
            if not _qualified_name_ok(k):
                causes.append(("metadata.labels", "FieldValueInvalid",
                               'Invalid value: "%s": name part must consist of alphanumeric '
                               "characters, '-', '_' or '.'" % k))
            if not isinstance(v, str) or (v and (len(v) > 63 or not _LABEL_NAME.match(v))):
                causes.append(("metadata.labels", "FieldValueInvalid",
                               'Invalid value: "%s": a valid label must be an empty string or '
                               "consist of alphanumeric characters, '-', '_' or '.'" % v))
        if causes:
            raise errors.invalid(rt, name, causes)

    def _prepare(self, rt, obj, creating):
        """Server-side defaults: CRD schema pruning/defaults, or built-in defaults."""
        if rt.schema is not None:
            schema.prune(obj, rt.schema, root=True)
            schema.apply_defaults(obj, rt.schema)
        else:
            defaults.apply(rt, obj, creating)

    def _check_schema(self, rt, obj):
        if rt.schema is not None:
            causes = schema.validate(obj, rt.schema, root=True)
            if causes:
                raise errors.invalid(rt, obj["metadata"].get("name", ""), causes)

    def _check_namespace(self, rt, ns, name):
        """The NamespaceLifecycle admission plugin: no objects in missing or dying namespaces."""
        if not rt.namespaced:
            return
        nso = self.store.get("/namespaces", "", ns)
        if nso is None:
            raise ApiError(404, 'namespaces "%s" not found' % ns,
                           details={"name": ns, "kind": "namespaces"})
        if meta(nso).get("deletionTimestamp"):
            raise ApiError(403, '%s "%s" is forbidden: unable to create new content in namespace '
                           '%s because it is being terminated' % (rt.qualified_resource, name, ns),
                           "Forbidden")

    def _check_crd_alive(self, rt):
        if rt.crd:
            crd = self.store.get(CRD_KEY, "", rt.crd)
            if crd is None or meta(crd).get("deletionTimestamp"):
                raise ApiError(405, "create not allowed while custom resource definition is "
                               "terminating", "MethodNotAllowed")

    # --- create ------------------------------------------------------------------------------

    def create(self, rt, ns, body, dry_run=False):
        obj = self._decode(rt, ns, body)
        m = obj["metadata"]
        if m.get("resourceVersion"):
            raise ApiError(500, "resourceVersion should not be set on objects to be created")
        if not m.get("name"):
            if not m.get("generateName"):
                raise errors.invalid(rt, "", [("metadata.name", "FieldValueRequired",
                                               "Required value: name or generateName is "
                                               "required")])
            m["name"] = m["generateName"] + "".join(random.choice(_GEN_CHARS) for _ in range(5))
        for field in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):
            m.pop(field, None)
        m["generation"] = 1
        if rt.has_status:
            obj.pop("status", None)  # create ignores status where status is a subresource
        if rt.key == CRD_KEY:
            fins = m.setdefault("finalizers", [])
            if CRD_CLEANUP not in fins:
                fins.append(CRD_CLEANUP)
        self._check_namespace(rt, ns, m["name"])
        self._check_crd_alive(rt)
        self._prepare(rt, obj, creating=True)
        self._validate_meta(rt, obj)
        obj = self.admission.mutate(rt, None, "CREATE", obj, None, ns, m["name"])
        self._prepare(rt, obj, creating=True)
        self._check_schema(rt, obj)
        if rt.crd:
            warnings.finalizer_warnings(obj)
        self.admission.validate(rt, None, "CREATE", obj, None, ns, m["name"])
        if dry_run:
            return obj
        return self.store.insert(rt, obj)

    # --- update ------------------------------------------------------------------------------

    def update(self, rt, ns, name, body, subresource=None, dry_run=False):
        obj = self._decode(rt, ns, body)
        if obj["metadata"].get("name") != name:
            raise errors.bad_request("the name of the object (%s) does not match the name on the "
                                     "URL (%s)" % (obj["metadata"].get("name"), name))
        cur = self.store.get(rt.key, ns, name)
        if cur is None:
            raise errors.not_found(rt, name)
        rv = obj["metadata"].get("resourceVersion")
        if rv and rv != meta(cur)["resourceVersion"]:
            raise errors.conflict(rt, name)
        if not rv and rt.crd:
            raise errors.invalid(rt, name, [("metadata.resourceVersion", "FieldValueInvalid",
                                             "Invalid value: 0x0: must be specified for an "
                                             "update")])
        return self._commit(rt, cur, obj, subresource, dry_run)

    def _merge_update(self, rt, cur, new, subresource):
        """The object an update stores: server-owned metadata kept, and only the part the
        endpoint may change (status for /status, everything else for the main resource)."""
        if subresource in ("status", "finalize"):
            result = copy.deepcopy(cur)
            if subresource == "status":
                if "status" in new:
                    result["status"] = new["status"]
                else:
                    result.pop("status", None)
            else:  # namespaces/finalize: only spec.finalizers changes
                result.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get(
                    "finalizers") or []
            return result
        result = new
        if rt.has_status:
            if "status" in cur:
                result["status"] = copy.deepcopy(cur["status"])
            else:
                result.pop("status", None)
        if rt.key == "/namespaces":
            result.setdefault("spec", {})["finalizers"] = list(
                (cur.get("spec") or {}).get("finalizers") or [])
        cm, nm = meta(cur), result["metadata"]
        for field in _SERVER_META:
            if field in cm:
                nm[field] = cm[field]
            else:
                nm.pop(field, None)
        if cm.get("deletionTimestamp"):
            added = [f for f in nm.get("finalizers") or [] if f not in (cm.get("finalizers") or [])]
            if added:
                raise errors.invalid(rt, cm["name"], [(
                    "metadata.finalizers", "FieldValueForbidden",
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    "found new finalizers %s" % json.dumps(added))])
        return result

    @staticmethod
    def _set_generation(rt, cur, new):
        skip = ("metadata", "status") if rt.has_status else ("metadata",)
        gen = meta(cur).get("generation", 1)
        if _body_without(cur, *skip) != _body_without(new, *skip):
            gen += 1
        new["metadata"]["generation"] = gen

    @staticmethod
    def _unchanged(cur, new):
        probe = dict(new, metadata=dict(new["metadata"],
                                        resourceVersion=meta(cur)["resourceVersion"]))
        return probe == cur

    def _commit(self, rt, cur, new, subresource, dry_run, admit=True):
        ns, name = meta(cur).get("namespace", ""), meta(cur)["name"]
        new = self._merge_update(rt, cur, new, subresource)
        self._prepare(rt, new, creating=False)
        self._validate_meta(rt, new)
        if admit:
            new = self.admission.mutate(rt, subresource, "UPDATE", new, cur, ns, name)
            self._prepare(rt, new, creating=False)
        self._check_schema(rt, new)
        if rt.crd:
            warnings.finalizer_warnings(new, cur)
        if admit:
            self.admission.validate(rt, subresource, "UPDATE", new, cur, ns, name)
        self._set_generation(rt, cur, new)
        if self._unchanged(cur, new):
            return cur
        if dry_run:
            return new
        return self.store.replace(rt, meta(cur)["resourceVersion"], new)

    # --- patch -------------------------------------------------------------------------------

    @staticmethod
    def _patch_sets_rv(ptype, doc):
        if ptype == "json":
            return any(isinstance(op, dict) and op.get("path") == "/metadata/resourceVersion"
                       for op in doc)
        return isinstance(doc, dict) and "resourceVersion" in (doc.get("metadata") or {})

    @staticmethod
    def apply_patch(ptype, target, doc):
        if ptype == "json":
            return patch.json_patch(target, doc)
        if ptype == "strategic":
            return patch.strategic_merge(target, doc)
        return patch.merge_patch(target, doc)

    def patch(self, rt, ns, name, ptype, doc, subresource=None, dry_run=False):
        """PATCH: applied to the current object and retried on a concurrent change, unless
        the patch itself carries a resourceVersion precondition."""
        for _ in range(20):
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                raise errors.not_found(rt, name)
            if subresource == "scale":
                return self.patch_scale(rt, cur, ptype, doc, dry_run)
            patched = self.apply_patch(ptype, cur, doc)
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
                raise ApiError(422, "the patched object is not a valid object", "Invalid")
            obj = self._decode(rt, ns, patched)
            if obj["metadata"].get("name") != name:
                raise errors.bad_request("the name of the object (%s) does not match the name "
                                         "on the URL (%s)" % (obj["metadata"].get("name"), name))
            if obj["metadata"].get("resourceVersion") != meta(cur)["resourceVersion"]:
                raise errors.conflict(rt, name)
            try:
                return self._commit(rt, cur, obj, subresource, dry_run)
            except ApiError as e:
                if e.code != 409 or e.status.get("reason") != "Conflict" or \
                        self._patch_sets_rv(ptype, doc):
                    raise
        raise errors.conflict(rt, name)

    # --- scale -------------------------------------------------------------------------------

    def get_scale(self, rt, cur):
        paths = rt.scale
        sel = _get_path(cur, paths["labelSelectorPath"]) if paths.get("labelSelectorPath") else ""
        if isinstance(sel, dict):  # built-ins keep a LabelSelector object
            sel = selector_string(sel.get("matchLabels") or {})
        m = meta(cur)
        scale = {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                           "creationTimestamp") if k in m},
            "spec": {}, "status": {"replicas": _get_path(cur, paths["statusReplicasPath"]) or 0},
        }
        replicas = _get_path(cur, paths["specReplicasPath"])
        if replicas is not None:
            scale["spec"]["replicas"] = replicas
        if sel:
            scale["status"]["selector"] = sel
        return scale

    def update_scale(self, rt, ns, name, body, dry_run=False):
        cur = self.store.get(rt.key, ns, name)
        if cur is None:
            raise errors.not_found(rt, name)
        return self._write_scale(rt, cur, body, dry_run)

    def _write_scale(self, rt, cur, scale, dry_run):
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != meta(cur)["resourceVersion"]:
            raise errors.conflict(rt, meta(cur)["name"])
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(rt, meta(cur)["name"], [(
                "spec.replicas", "FieldValueInvalid",
                "Invalid value: %s: must be greater than or equal to 0" % json.dumps(replicas))])
        new = copy.deepcopy(cur)
        _set_path(new, rt.scale["specReplicasPath"], replicas)
        stored = self._commit(rt, cur, new, None, dry_run, admit=False)
        return self.get_scale(rt, stored)

    def patch_scale(self, rt, cur, ptype, doc, dry_run):
        scale = self.apply_patch(ptype, self.get_scale(rt, cur), doc)
        return self._write_scale(rt, cur, scale, dry_run)

    # --- delete ------------------------------------------------------------------------------

    def delete(self, rt, ns, name, options=None, dry_run=False, admit=True):
        """Returns (object, deleted_now). With finalizers pending, the object is only marked
        with a deletionTimestamp (the real server then answers 202)."""
        options = options or {}
        for _ in range(20):
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                raise errors.not_found(rt, name)
            self._check_preconditions(rt, cur, options.get("preconditions") or {})
            if admit:
                self.admission.mutate(rt, None, "DELETE", None, cur, ns, name)
                self.admission.validate(rt, None, "DELETE", None, cur, ns, name)
            try:
                return self._delete_once(rt, cur, options, dry_run)
            except ApiError as e:
                if e.status.get("reason") != "Conflict":
                    raise
        raise errors.conflict(rt, name)

    @staticmethod
    def _check_preconditions(rt, cur, pre):
        m = meta(cur)
        if pre.get("uid") and pre["uid"] != m.get("uid"):
            raise errors.conflict(rt, m["name"], "Precondition failed: UID in precondition: %s, "
                                  "UID in object meta: %s" % (pre["uid"], m.get("uid")))
        if pre.get("resourceVersion") and pre["resourceVersion"] != m.get("resourceVersion"):
            raise errors.conflict(rt, m["name"], "Precondition failed: ResourceVersion in "
                                  "precondition: %s, ResourceVersion in object meta: %s"
                                  % (pre["resourceVersion"], m.get("resourceVersion")))

    def _delete_once(self, rt, cur, options, dry_run):
        m = meta(cur)
        policy = options.get("propagationPolicy")
        if not policy and options.get("orphanDependents") is True:
            policy = "Orphan"
        fins = list(m.get("finalizers") or [])
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy)
        if extra and extra not in fins:
            fins.append(extra)
        grace = self._pod_grace(rt, cur, options)
        pending = fins or grace or (rt.key == "/namespaces")
        if not pending:
            if dry_run:
                return cur, True
            return self.store.remove(rt, m.get("namespace"), m["name"],
                                     m["resourceVersion"]), True
        if m.get("deletionTimestamp") and fins == list(m.get("finalizers") or []):
            return cur, False  # already being deleted; nothing new to record
        new = copy.deepcopy(cur)
        nm = new["metadata"]
        nm.setdefault("deletionTimestamp", errors.now_rfc3339())
        nm.setdefault("deletionGracePeriodSeconds", grace or 0)
        if fins:
            nm["finalizers"] = fins
        if rt.key == "/namespaces":
            new.setdefault("status", {})["phase"] = "Terminating"
        if dry_run:
            return new, False
        stored = self.store.replace(rt, m["resourceVersion"], new)
        return stored, self.store.get(rt.key, m.get("namespace"), m["name"]) is None

    def _pod_grace(self, rt, cur, options):
        """With --graceful-pod-deletion, a pod bound to a node waits for its kubelet."""
        if not self.graceful_pods or rt.key != "/pods":
            return 0
        if not (cur.get("spec") or {}).get("nodeName"):
            return 0
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = (cur.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return grace

    def delete_collection(self, rt, ns, items, options, dry_run=False):
        out = []
        for obj in items:
            try:
                final, _ = self.delete(rt, ns or meta(obj).get("namespace"), meta(obj)["name"],
                                       options, dry_run)
                out.append(final)
            except ApiError as e:
                if e.code != 404:
                    raise
        return out

    # --- internal writes (garbage collector) -------------------------------------------------

    def mutate_internal(self, rt, ns, name, fn):
        """Applies fn(copy) to the current object and stores it, retrying on conflicts;
        no admission (controllers inside the real API server are trusted)."""
        for _ in range(20):
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                return None
            new = fn(copy.deepcopy(cur))
            if new is None or new == cur:
                return cur
            try:
                return self.store.replace(rt, meta(cur)["resourceVersion"], new)
            except ApiError as e:
                if e.code != 409:
                    raise
        return None


def _qualified_name_ok(key):
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))
