"""CRD structural schemas (openAPIV3Schema): pruning, defaulting and validation.

What the real API server does for custom resources, in the same order: unknown fields are
pruned, non-nullable nulls dropped, `default`s applied (recursively, top-down), then the object
is validated (type, enum, required, minimum/maximum, min/maxItems, min/maxLength, pattern).
Validation returns a list of causes (field path, StatusCause reason, message).
"""

import copy
import json
import re

# Fields of every object that the schema never prunes at the root.
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def _int_or_string(schema):
    return bool(schema.get("x-kubernetes-int-or-string"))


def prune(obj, schema, root=False):
    """Removes fields the schema does not know (in place) unless it preserves unknown fields."""
    if schema is None:
        return
    if isinstance(obj, dict) and (schema.get("type") == "object" or "properties" in schema):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        for key in list(obj):
            if root and key in _ROOT_FIELDS:
                continue
            sub = props.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is not None:
                if obj[key] is None and not sub.get("nullable"):
                    del obj[key]  # nulls of non-nullable fields are dropped before defaulting
                else:
                    prune(obj[key], sub)
            elif not (preserve or extra is True):
                del obj[key]
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for elem in obj:
            prune(elem, schema["items"])


def apply_defaults(obj, schema):
    """Fills in `default` values of absent properties, recursively (in place)."""
    if schema is None:
        return
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in obj and "default" in sub:
                obj[key] = copy.deepcopy(sub["default"])
            if key in obj:
                apply_defaults(obj[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, val in obj.items():
                if key not in (schema.get("properties") or {}):
                    apply_defaults(val, extra)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for elem in obj:
            apply_defaults(elem, schema["items"])


def _fmt(value):
    """A value as Go's %v/%q would print it in field errors."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return '"%s"' % _type_name(value)
    return str(value)


def _type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_ok(value, want):
    have = _type_name(value)
    return have == want or (want == "number" and have == "integer")


def validate(obj, schema, path="", root=False):
    """Validates obj against schema; returns a list of (field, reason, message) causes."""
    if schema is None:
        return []
    causes = []
    where = path or "<root>"

    def invalid(msg):
        causes.append((path, "FieldValueInvalid",
                       "Invalid value: %s: %s in body %s" % (_fmt(obj), where, msg)))

    if obj is None:
        if not schema.get("nullable") and "type" in schema:
            invalid("must be of type %s: \"null\"" % schema["type"])
        return causes
    want = schema.get("type")
    if _int_or_string(schema):
        if not isinstance(obj, (int, str)) or isinstance(obj, bool):
            invalid("must be of type integer or string: %s" % _fmt(_type_name(obj)))
            return causes
    elif want and not _type_ok(obj, want):
        causes.append((path, "FieldValueTypeInvalid", "Invalid value: %s: %s in body must be of "
                       "type %s: %s" % (_fmt(obj), where, want, _fmt(_type_name(obj)))))
        return causes
    if "enum" in schema and obj not in schema["enum"]:
        causes.append((path, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s"
                       % (_fmt(obj), ", ".join(_fmt(e) for e in schema["enum"]))))
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        causes += _validate_number(obj, schema, path, where)
    if isinstance(obj, str):
        causes += _validate_string(obj, schema, path, where)
    if isinstance(obj, list):
        causes += _validate_array(obj, schema, path, where)
    if isinstance(obj, dict):
        causes += _validate_object(obj, schema, path, root)
    return causes


def _validate_number(obj, schema, path, where):
    out = []
    checks = (("minimum", lambda v, b: v < b, "should be greater than or equal to %s"),
              ("maximum", lambda v, b: v > b, "should be less than or equal to %s"))
    for key, bad, msg in checks:
        if key in schema:
            bound = schema[key]
            excl = schema.get("exclusive" + key[0].upper() + key[1:])
            if bad(obj, bound) or (excl and obj == bound):
                text = msg % bound
                if excl:
                    text = text.replace(" or equal to", "")
                out.append((path, "FieldValueInvalid",
                            "Invalid value: %s: %s in body %s" % (_fmt(obj), where, text)))
    return out


def _validate_string(obj, schema, path, where):
    out = []
    if "minLength" in schema and len(obj) < schema["minLength"]:
        out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be at least "
                    "%d chars long" % (_fmt(obj), where, schema["minLength"])))
    if "maxLength" in schema and len(obj) > schema["maxLength"]:
        out.append((path, "FieldValueTooLong", "Too long: may not be longer than %d"
                    % schema["maxLength"]))
    if "pattern" in schema and not re.search(schema["pattern"], obj):
        out.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should match '%s'"
                    % (_fmt(obj), where, schema["pattern"])))
    return out


def _validate_array(obj, schema, path, where):
    out = []
    if "minItems" in schema and len(obj) < schema["minItems"]:
        out.append((path, "FieldValueInvalid", "Invalid value: %d: %s in body should have at "
                    "least %d items" % (len(obj), where, schema["minItems"])))
    if "maxItems" in schema and len(obj) > schema["maxItems"]:
        out.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                    % (len(obj), schema["maxItems"])))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, elem in enumerate(obj):
            out += validate(elem, items, "%s[%d]" % (path, i))
    return out


def _validate_object(obj, schema, path, root):
    out = []
    prefix = path + "." if path else ""
    for name in schema.get("required") or []:
        if name not in obj:
            out.append((prefix + name, "FieldValueRequired", "Required value"))
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, val in obj.items():
        if root and key == "metadata":
            continue  # ObjectMeta is validated by the generic metadata checks
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is not None:
            out += validate(val, sub, prefix + key)
    return out


def process(obj, schema):
    """Prunes and defaults obj in place, then returns the validation causes."""
    prune(obj, schema, root=True)
    apply_defaults(obj, schema)
    return validate(obj, schema, root=True)
