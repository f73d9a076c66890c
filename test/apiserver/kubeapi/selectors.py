"""Label selectors and field selectors, parsed from query strings or LabelSelector objects.

A parsed selector is a list of requirements (key, op, values) and matches an object when every
requirement holds (an empty selector matches everything), as in k8s.io/apimachinery.
"""

import re

from .errors import bad_request

_LABEL_OPS = ("in", "notin")


def _split_top_level(text):
    """Splits on commas that are not inside parentheses ("a in (x,y),b" -> 2 parts)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$")
_CMP_RE = re.compile(r"^([^\s!=(),]+)\s*(==|!=|=)\s*([^\s!=(),]*)$")
_KEY_RE = re.compile(r"^(!?)\s*([^\s!=(),]+)$")


def parse_label_selector(text):
    """Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` into requirements; 400 on bad syntax."""
    reqs = []
    for part in _split_top_level(text or ""):
        m = _SET_RE.match(part)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = _CMP_RE.match(part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, {m.group(3)}))
            continue
        m = _KEY_RE.match(part)
        if m:
            reqs.append((m.group(2), "!" if m.group(1) else "exists", set()))
            continue
        raise bad_request("unable to parse requirement: %r in label selector %r" % (part, text))
    return reqs


def label_selector_from_object(sel):
    """Converts a metav1.LabelSelector ({matchLabels, matchExpressions}) to requirements.

    None means "match everything" as for webhooks' namespaceSelector/objectSelector.
    """
    if not sel:
        return []
    reqs = [(k, "=", {v}) for k, v in (sel.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in sel.get("matchExpressions") or []:
        reqs.append((e["key"], ops[e["operator"]], set(e.get("values") or [])))
    return reqs


def labels_match(reqs, labels):
    """True if the label map satisfies every requirement."""
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        val = labels.get(key)
        if op == "=" or op == "in":
            ok = present and val in values
        elif op == "!=" or op == "notin":
            ok = not present or val not in values
        elif op == "exists":
            ok = present
        else:  # "!"
            ok = not present
        if not ok:
            return False
    return True


def parse_field_selector(text, supported):
    """Parses `metadata.name=x,spec.nodeName!=y`; fields outside `supported` answer 400.

    Returns a list of (field, op, value) with op "=" or "!=".
    """
    reqs = []
    for part in _split_top_level(text or ""):
        m = _CMP_RE.match(part)
        if not m:
            raise bad_request("invalid selector: %r; can't understand %r" % (text, part))
        field = m.group(1)
        if field not in supported:
            raise bad_request('field label not supported: %s' % field)
        reqs.append((field, "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return reqs


def field_value(obj, path):
    """The string value of a dotted field path as the API server compares it ("" if absent)."""
    cur = obj
    for key in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(key)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(reqs, obj):
    for field, op, value in reqs:
        actual = field_value(obj, field)
        if (actual == value) != (op == "="):
            return False
    return True


def selector_string(match_labels):
    """Renders a {key: value} map as `k1=v1,k2=v2` sorted by key (Scale status.selector)."""
    return ",".join("%s=%s" % (k, match_labels[k]) for k in sorted(match_labels))
