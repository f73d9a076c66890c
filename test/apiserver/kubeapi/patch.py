"""Patch formats of the PATCH verb.

- JSON merge patch (RFC 7386), application/merge-patch+json
- JSON patch (RFC 6902), application/json-patch+json
- strategic merge patch, application/strategic-merge-patch+json: a merge patch that merges the
  well-known keyed lists of built-in types (containers by name, ...), understands
  `$patch: replace|delete` and `$deleteFromPrimitiveList/...`, and ignores the other `$`
  directives. That is what `kubectl apply` of simple objects needs; it is not the full
  struct-tag driven algorithm of the real server.

All functions return new objects and never modify their arguments (stored objects are shared).
"""

import copy

from .errors import ApiError

# Field name -> merge key of the lists that strategic merge patch merges element-wise.
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "hostAliases": "ip", "conditions": "type",
    "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
    "ports": None,  # decided per element: containerPort (containers) or port (services)
}
# Lists of scalars that strategic merge patch merges as sets (patchStrategy "merge").
_SET_LISTS = {"finalizers"}


def _unprocessable(msg):
    return ApiError(422, msg, "Invalid")


def merge_patch(target, patch):
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, val in patch.items():
        if val is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), val)
    return result


# --- RFC 6902 --------------------------------------------------------------------------------

def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container, token, allow_end):
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit():
        raise _unprocessable("invalid array index %r" % token)
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise _unprocessable("array index %d out of range" % i)
    return i


def _parent(doc, tokens):
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, False)]
        else:
            raise _unprocessable("path /%s does not exist" % "/".join(tokens))
    return cur


def _get(doc, tokens):
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable("path /%s does not exist" % "/".join(tokens))
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, False)]
    raise _unprocessable("path /%s does not exist" % "/".join(tokens))


def _add(doc, tokens, value):
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, True), value)
    else:
        raise _unprocessable("cannot add at /%s" % "/".join(tokens))
    return doc


def _remove(doc, tokens):
    parent = _parent(doc, tokens)
    last = tokens[-1] if tokens else None
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, False))
    raise _unprocessable("path /%s does not exist" % "/".join(tokens))


def json_patch(target, ops):
    """Applies a list of RFC 6902 operations; failures (including `test`) answer 422."""
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError(400, "invalid json patch operation %r" % (op,))
        kind, tokens = op["op"], _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, tokens, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, tokens)
        elif kind == "replace":
            _get(doc, tokens)  # must exist
            if tokens:
                _remove(doc, tokens)
            doc = _add(doc, tokens, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = _get(doc, src) if kind == "copy" else _remove(doc, src)
            doc = _add(doc, tokens, copy.deepcopy(value))
        elif kind == "test":
            if _get(doc, tokens) != op.get("value"):
                raise _unprocessable("testing value %s failed" % op["path"])
        else:
            raise ApiError(400, "unknown json patch operation %r" % kind)
    return doc


# --- strategic merge patch (simplified) ------------------------------------------------------

def _merge_key(field, elements):
    key = _MERGE_KEYS.get(field, "")
    if key is None:  # ports: containers use containerPort, services use port
        key = "containerPort" if any("containerPort" in e for e in elements) else "port"
    return key


def _merge_keyed_list(target, patch, key):
    result = [copy.deepcopy(e) for e in target]
    for elem in patch:
        directive = elem.get("$patch")
        idx = next((i for i, e in enumerate(result)
                    if isinstance(e, dict) and e.get(key) == elem.get(key)), None)
        if directive == "delete":
            if idx is not None:
                result.pop(idx)
        elif idx is None:
            result.append(strategic_merge({}, elem))
        else:
            result[idx] = strategic_merge(result[idx], elem)
    return result


def _merge_list(field, target, patch):
    if field in _SET_LISTS and all(not isinstance(e, (dict, list)) for e in patch):
        return list(target) + [e for e in patch if e not in target]
    dicts = [e for e in list(target) + list(patch) if isinstance(e, dict)]
    if field in _MERGE_KEYS and len(dicts) == len(target) + len(patch):
        key = _merge_key(field, dicts)
        if all(key in e for e in patch):
            return _merge_keyed_list(target, patch, key)
    return [strategic_merge({}, e) if isinstance(e, dict) else copy.deepcopy(e) for e in patch]


def strategic_merge(target, patch):
    """Merges `patch` into `target` (see the module comment for what is supported)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    result = dict(target) if isinstance(target, dict) else {}
    for key, val in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [e for e in result.get(field) or [] if e not in val]
        elif key.startswith("$"):
            continue
        elif val is None:
            result.pop(key, None)
        elif isinstance(val, dict) and val.get("$patch") == "delete":
            result.pop(key, None)
        elif isinstance(val, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], val)
        elif isinstance(val, dict):
            result[key] = strategic_merge(result.get(key), val)
        else:
            result[key] = copy.deepcopy(val)
    return result
