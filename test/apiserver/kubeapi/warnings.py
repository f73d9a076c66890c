"""Warning headers, as the real server sends them: warnings are collected while one request
is served (one recorder per serving thread) and written as `Warning: 299 - "text"` headers
with the response, each distinct text once.

The one warning this server knows is the custom-resource strategy's: every finalizer a
create or update adds to a custom resource whose name has no path ("/") and is not one of
Kubernetes' own draws "prefer a domain-qualified finalizer name", worded as
kube-apiserver 1.33 words it (coil's own finalizer coil.cybozu.com draws it)."""

import threading

_STANDARD_FINALIZERS = ("orphan", "foregroundDeletion", "kubernetes")
_local = threading.local()


def begin():
    """Starts the recorder of the request this thread now serves."""
    _local.texts = []


def add(text):
    texts = getattr(_local, "texts", None)
    if texts is not None and text not in texts:
        texts.append(text)


def headers():
    """The Warning header values of this request, in the order they were added."""
    return ['299 - "%s"' % t.replace("\\", "\\\\").replace('"', '\\"')
            for t in getattr(_local, "texts", None) or []]


def finalizer_warnings(new, old=None):
    """Adds the warnings of the finalizers `new` has and `old` (None on create) had not,
    in sorted order as the real server lists them."""
    have = set((old or {}).get("metadata", {}).get("finalizers") or [])
    for f in sorted(set(new.get("metadata", {}).get("finalizers") or []) - have):
        if "/" in f or f in _STANDARD_FINALIZERS:
            continue
        if "." in f:
            add('metadata.finalizers: "%s": prefer a domain-qualified finalizer name including '
                "a path (/) to avoid accidental conflicts with other finalizer writers" % f)
        else:
            add('metadata.finalizers: "%s": prefer a domain-qualified finalizer name to avoid '
                "accidental conflicts with other finalizer writers" % f)
