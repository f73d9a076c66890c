"""The controllers that live inside a real control plane and that clients rely on:

- the garbage collector: objects whose owners are all gone are deleted (background), the
  dependents of an owner deleted with propagationPolicy Foreground are deleted before it, and
  Orphan strips the owner references from the dependents;
- the namespace controller: a terminating namespace is emptied, then finalized;
- the CRD finalizer: a deleted CRD's objects are deleted before the CRD goes away.

One background thread; any relevant write wakes it and it sweeps every object.
"""

import collections
import sys
import threading
import time
import traceback

from .errors import ApiError
from .ops import CRD_CLEANUP, CRD_KEY
from .storage import meta


def _without_finalizer(name):
    def fn(obj):
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or []
                                         if f != name]
        return obj
    return fn


def _without_owners(uids):
    def fn(obj):
        refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") not in uids]
        if refs:
            obj["metadata"]["ownerReferences"] = refs
        else:
            obj["metadata"].pop("ownerReferences", None)
        return obj
    return fn


def _terminating(obj, finalizer):
    m = meta(obj)
    return bool(m.get("deletionTimestamp")) and finalizer in (m.get("finalizers") or [])


class GarbageCollector(threading.Thread):
    def __init__(self, api):
        super().__init__(name="gc", daemon=True)
        self.api = api
        self.store = api.store
        self.registry = api.registry
        self._wake = threading.Event()

    def kick(self):
        self._wake.set()

    def run(self):
        while True:
            self._wake.wait()
            time.sleep(0.02)  # let a burst of writes settle into one sweep
            self._wake.clear()
            try:
                self.sweep()
            except Exception:  # keep collecting after a surprise; tests will see the trace
                traceback.print_exc(file=sys.stderr)

    # --- helpers -----------------------------------------------------------------------------

    def _delete(self, key, obj, policy="Background"):
        rt = self.registry.by_key(key)
        if rt is None or meta(obj).get("deletionTimestamp"):
            return
        try:
            self.api.delete(rt, meta(obj).get("namespace", ""), meta(obj)["name"],
                            {"propagationPolicy": policy}, admit=False)
        except ApiError as e:
            if e.code != 404:
                raise

    def _mutate(self, key, obj, fn):
        rt = self.registry.by_key(key)
        if rt is not None:
            self.api.mutate_internal(rt, meta(obj).get("namespace", ""), meta(obj)["name"], fn)

    # --- the sweep ---------------------------------------------------------------------------

    def sweep(self):
        objs = self.store.all_objects()
        by_uid = {meta(o).get("uid"): o for _, o in objs}
        dependents = collections.defaultdict(list)  # owner uid -> [(key, obj)]
        for key, o in objs:
            for ref in meta(o).get("ownerReferences") or []:
                dependents[ref.get("uid")].append((key, o))
        for key, o in objs:
            self._collect_dependent(key, o, by_uid, dependents)
            if _terminating(o, "foregroundDeletion"):
                self._finish_foreground(key, o, dependents)
            if _terminating(o, "orphan"):
                uid = meta(o).get("uid")
                for dkey, dep in dependents.get(uid, []):
                    self._mutate(dkey, dep, _without_owners({uid}))
                self._mutate(key, o, _without_finalizer("orphan"))
        self._finish_namespaces(objs)
        self._finish_crds(objs)

    def _collect_dependent(self, key, o, by_uid, dependents):
        refs = meta(o).get("ownerReferences") or []
        if not refs or meta(o).get("deletionTimestamp"):
            return
        solid, waiting, dangling = set(), set(), set()
        for ref in refs:
            owner = by_uid.get(ref.get("uid"))
            if owner is None:
                dangling.add(ref.get("uid"))
            elif _terminating(owner, "foregroundDeletion"):
                waiting.add(ref.get("uid"))
            else:
                solid.add(ref.get("uid"))
        if solid:
            if dangling or waiting:
                self._mutate(key, o, _without_owners(dangling | waiting))
        elif waiting:
            has_deps = bool(dependents.get(meta(o).get("uid")))
            self._delete(key, o, "Foreground" if has_deps else "Background")
        else:
            self._delete(key, o)

    def _finish_foreground(self, key, o, dependents):
        uid = meta(o).get("uid")
        blocking = [d for _, d in dependents.get(uid, [])
                    if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                           for r in meta(d).get("ownerReferences") or [])]
        if not blocking:
            self._mutate(key, o, _without_finalizer("foregroundDeletion"))

    def _finish_namespaces(self, objs):
        for key, ns in objs:
            if key != "/namespaces" or not meta(ns).get("deletionTimestamp"):
                continue
            name = meta(ns)["name"]
            left = [(k, o) for k, o in objs if k != "/namespaces"
                    and meta(o).get("namespace") == name and self.store.get(k, name,
                                                                          meta(o)["name"])]
            for k, o in left:
                self._delete(k, o)
            if not left and (ns.get("spec") or {}).get("finalizers"):
                def finalize(obj):
                    obj["spec"]["finalizers"] = []
                    return obj
                self._mutate(key, ns, finalize)

    def _finish_crds(self, objs):
        for key, crd in objs:
            if key != CRD_KEY or not _terminating(crd, CRD_CLEANUP):
                continue
            types = self.registry.crd_types(meta(crd)["name"])
            left = [(k, o) for k, o in objs if types and k == types[0].key]
            for k, o in left:
                self._delete(k, o)
            if not left:
                self._mutate(key, crd, _without_finalizer(CRD_CLEANUP))
