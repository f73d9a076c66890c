"""Kubernetes Status objects and the exception that carries them to the HTTP layer."""

import datetime

# HTTP code -> StatusReason, as the real API server uses them.
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def now_rfc3339():
    """The current time as Kubernetes writes it (RFC 3339, UTC, second precision)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code, message, reason=None, details=None):
    """A failure Status object (kind Status, apiVersion v1)."""
    st = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        st["details"] = details
    return st


class ApiError(Exception):
    """An error answered to the client as a Status object with HTTP code `code`."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.status = status_object(code, message, reason, details)
        self.headers = headers or {}


def _what(rt, name):
    """`pods "x"` or `addresspools.coil.cybozu.com "x"`: how Kubernetes names an object."""
    return '%s "%s"' % (rt.qualified_resource, name)


def not_found(rt, name):
    return ApiError(404, "%s not found" % _what(rt, name),
                    details={"name": name, "group": rt.group, "kind": rt.plural})


def already_exists(rt, name):
    return ApiError(409, "%s already exists" % _what(rt, name), "AlreadyExists",
                    details={"name": name, "group": rt.group, "kind": rt.plural})


def conflict(rt, name, why="the object has been modified; please apply your changes to the "
             "latest version and try again"):
    return ApiError(409, "Operation cannot be fulfilled on %s: %s" % (_what(rt, name), why),
                    "Conflict", details={"name": name, "group": rt.group, "kind": rt.plural})


def invalid(rt, name, causes):
    """422 Invalid. causes: list of (field, reason, message) as metav1.StatusCause."""
    kind = rt.kind if not rt.group else "%s.%s" % (rt.kind, rt.group)
    msgs = ["%s: %s" % (f, m) if f else m for f, _, m in causes]
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(422, '%s "%s" is invalid: %s' % (kind, name, text), "Invalid", details={
        "name": name, "group": rt.group, "kind": rt.kind,
        "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]})


def bad_request(message):
    return ApiError(400, message)
