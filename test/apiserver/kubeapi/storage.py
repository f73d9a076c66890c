"""The object store: one global resourceVersion counter, per-resource buckets, event history
for watch resumption, and the watchers themselves.

Stored objects are never modified in place: every write stores a new dict, so readers may
serialize stored dicts without copying them. All methods are safe to call from many threads.
"""

import bisect
import collections
import queue
import threading
import uuid

from . import errors
from .selectors import fields_match, labels_match

# Sentinels pushed into a watcher's queue.
DROP = "drop"  # abort the stream without a clean end (fault injection)
STOP = "stop"  # end the stream cleanly (timeout, resource removed)

Event = collections.namedtuple("Event", "rv type obj old")


def meta(obj):
    return obj.get("metadata") or {}


def obj_key(obj):
    m = meta(obj)
    return (m.get("namespace") or "", m.get("name") or "")


def finalizers_pending(obj):
    """True if something still holds the object's deletion: finalizers, a namespace's
    spec.finalizers, or the grace period of a pod whose kubelet has yet to confirm."""
    if meta(obj).get("finalizers"):
        return True
    if obj.get("kind") == "Pod" and meta(obj).get("deletionGracePeriodSeconds"):
        return True
    return obj.get("kind") == "Namespace" and bool((obj.get("spec") or {}).get("finalizers"))


class Watcher:
    """One open watch stream: a filter and a queue of (type, object) or a sentinel."""

    def __init__(self, key, namespace, label_reqs, field_reqs, path):
        self.key = key
        self.namespace = namespace
        self.label_reqs = label_reqs
        self.field_reqs = field_reqs
        self.path = path  # request path, for fault injection's path_regex
        self.queue = queue.Queue()

    def _matches(self, obj):
        if obj is None:
            return False
        if self.namespace and meta(obj).get("namespace") != self.namespace:
            return False
        return (labels_match(self.label_reqs, meta(obj).get("labels"))
                and fields_match(self.field_reqs, obj))

    def translate(self, event):
        """The event type this watcher sees (objects moving in/out of its selector become
        ADDED/DELETED, as in the real API server), or None if it is not interested."""
        new_in = self._matches(event.obj)
        if event.type == "DELETED":
            return "DELETED" if new_in else None
        old_in = self._matches(event.old)
        if event.type == "ADDED" or (new_in and not old_in):
            return "ADDED" if new_in else None
        if new_in:
            return "MODIFIED"
        return "DELETED" if old_in else None

    def offer(self, event):
        kind = self.translate(event)
        if kind:
            self.queue.put((kind, event.obj))


class Store:
    def __init__(self, history_size=1000):
        self.lock = threading.RLock()
        self.history_size = history_size
        self.rv = 0
        self._buckets = collections.defaultdict(dict)  # key -> {(ns, name): obj}
        # key -> the bucket's (ns, name) keys sorted, made again after an insert or a removal:
        # the pages of a big list are then each a bisection, not a sort of the whole bucket.
        self._sorted = {}
        self._history = collections.defaultdict(
            lambda: collections.deque(maxlen=self.history_size))
        self._compacted = collections.defaultdict(int)  # key -> newest rv no longer in history
        self._wiped_at = 0  # resourceVersion of the last wipe: no history before it
        self._watchers = collections.defaultdict(set)
        self._uids = {}  # uid -> (key, ns, name) of every stored object
        self.on_change = []  # callbacks(key, event) run after every write (GC wake-up)

    # --- reads -------------------------------------------------------------------------------

    def get(self, key, ns, name):
        with self.lock:
            return self._buckets[key].get((ns or "", name))

    def _sorted_keys(self, key):
        keys = self._sorted.get(key)
        if keys is None:
            keys = self._sorted[key] = sorted(self._buckets[key])
        return keys

    def list(self, key, ns=None, label_reqs=(), field_reqs=(), after=None):
        """Matching objects sorted by (namespace, name), only those whose key is greater than
        `after` when given (a continued list), and the store's resourceVersion."""
        with self.lock:  # one consistent snapshot, so that a watch from `rv` misses nothing
            bucket = self._buckets[key]
            keys = self._sorted_keys(key)
            first = bisect.bisect_right(keys, tuple(after)) if after is not None else 0
            out = []
            for k in keys[first:]:
                obj = bucket[k]
                if ns and k[0] != ns:
                    continue
                if label_reqs and not labels_match(label_reqs, meta(obj).get("labels")):
                    continue
                if field_reqs and not fields_match(field_reqs, obj):
                    continue
                out.append(obj)
            return out, self.rv

    def all_objects(self):
        """(key, obj) for every stored object (garbage collection)."""
        with self.lock:
            return [(key, obj) for key, bucket in self._buckets.items() for obj in bucket.values()]

    def uid_exists(self, uid):
        with self.lock:
            return uid in self._uids

    def keys(self):
        with self.lock:
            return list(self._buckets)

    # --- writes ------------------------------------------------------------------------------

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _record(self, key, etype, obj, old):
        event = Event(int(meta(obj)["resourceVersion"]), etype, obj, old)
        hist = self._history[key]
        if len(hist) == hist.maxlen:
            self._compacted[key] = hist[0].rv
        hist.append(event)
        for w in list(self._watchers[key]):
            w.offer(event)
        for cb in self.on_change:
            cb(key, event)

    def insert(self, rt, obj):
        """Stores a new object (the caller filled in everything but uid/rv/timestamps)."""
        with self.lock:
            k = obj_key(obj)
            if k in self._buckets[rt.key]:
                raise errors.already_exists(rt, k[1])
            m = obj["metadata"]
            m["uid"] = str(uuid.uuid4())
            m["resourceVersion"] = self._next_rv()
            m.setdefault("creationTimestamp", errors.now_rfc3339())
            self._buckets[rt.key][k] = obj
            self._sorted.pop(rt.key, None)
            self._uids[m["uid"]] = (rt.key,) + k
            self._record(rt.key, "ADDED", obj, None)
            return obj

    def replace(self, rt, base_rv, obj):
        """Stores a new version of an object if it is still at base_rv (else 409 Conflict).

        An object being deleted whose last finalizer is gone is removed right after the update,
        so watchers see MODIFIED then DELETED. Returns the stored (or final) object.
        """
        with self.lock:
            k = obj_key(obj)
            cur = self._buckets[rt.key].get(k)
            if cur is None:
                raise errors.not_found(rt, k[1])
            if meta(cur)["resourceVersion"] != base_rv:
                raise errors.conflict(rt, k[1])
            obj["metadata"]["resourceVersion"] = self._next_rv()
            self._buckets[rt.key][k] = obj
            self._record(rt.key, "MODIFIED", obj, cur)
            if meta(obj).get("deletionTimestamp") and not finalizers_pending(obj):
                return self._remove_locked(rt, k)
            return obj

    def remove(self, rt, ns, name, base_rv=None):
        with self.lock:
            cur = self._buckets[rt.key].get((ns or "", name))
            if cur is None:
                raise errors.not_found(rt, name)
            if base_rv is not None and meta(cur)["resourceVersion"] != base_rv:
                raise errors.conflict(rt, name)
            return self._remove_locked(rt, (ns or "", name))

    def _remove_locked(self, rt, k):
        cur = self._buckets[rt.key].pop(k)
        self._sorted.pop(rt.key, None)
        self._uids.pop(meta(cur).get("uid"), None)
        # The DELETED event carries the object at a new resourceVersion, as etcd reports it.
        final = dict(cur)
        final["metadata"] = dict(meta(cur), resourceVersion=self._next_rv())
        self._record(rt.key, "DELETED", final, cur)
        return final

    def drop_bucket(self, rt):
        """Deletes every object of a resource (its CRD is gone) and ends its watches."""
        with self.lock:
            for k in list(self._buckets[rt.key]):
                self._remove_locked(rt, k)
            for w in list(self._watchers[rt.key]):
                w.queue.put(STOP)

    def wipe(self):
        """Forgets everything except the resourceVersion counter (test reset). Watches from
        older resourceVersions then get 410, since the wiped objects sent no DELETED events."""
        with self.lock:
            self._wiped_at = self.rv
            for ws in self._watchers.values():
                for w in ws:
                    w.queue.put(STOP)
            self._buckets.clear()
            self._sorted.clear()
            self._history.clear()
            self._compacted.clear()
            self._uids.clear()
            self._watchers.clear()

    # --- watch -------------------------------------------------------------------------------

    def watch(self, rt, ns, label_reqs, field_reqs, since, path):
        """Registers a watcher. `since` None: the current objects arrive first as ADDED events;
        else every event after resourceVersion `since` is replayed. Raises 410 Gone when that
        history was already dropped."""
        with self.lock:
            w = Watcher(rt.key, ns, label_reqs, field_reqs, path)
            if since is None:
                items, _ = self.list(rt.key, ns, label_reqs, field_reqs)
                for obj in items:
                    w.queue.put(("ADDED", obj))
            else:
                floor = max(self._compacted[rt.key], self._wiped_at)
                if since < floor:
                    raise errors.ApiError(410, "too old resource version: %d (%d)"
                                          % (since, floor + 1), "Expired")
                for event in self._history[rt.key]:
                    if event.rv > since:
                        w.offer(event)
            self._watchers[rt.key].add(w)
            return w

    def unwatch(self, w):
        with self.lock:
            self._watchers[w.key].discard(w)

    def watchers(self):
        with self.lock:
            return [w for ws in self._watchers.values() for w in ws]

    def bookmark_rv(self, w):
        """The resourceVersion a bookmark may carry: the current one, if nothing is queued."""
        with self.lock:
            return self.rv if w.queue.empty() else None
