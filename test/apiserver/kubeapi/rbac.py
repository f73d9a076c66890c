"""Authorization as kube-apiserver's RBAC authorizer does it: the request's attributes are read
from its path and method alone (before routing, so a forbidden request to a missing resource
is 403, not 404), then every ClusterRoleBinding and, for a namespaced request, every
RoleBinding of the namespace whose subjects include the user contributes the rules of its
role. The first rule that allows the request wins; there are no deny rules.

Bootstrap policy the real server creates as objects is built in here instead (not stored, so
listing clusterroles shows only what was applied): system:discovery and
system:public-info-viewer (the discovery and health paths), system:basic-user (self subject
access/rules reviews), all for system:authenticated."""

from .errors import ApiError

RBAC_GROUP = "rbac.authorization.k8s.io"
SPECIAL_VERBS = ("watch", "proxy")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update",
                 "PATCH": "patch", "DELETE": "delete"}
_DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz",
                   "/version", "/version/", "/openapi", "/openapi/*"]
BOOTSTRAP_RULES = [
    {"verbs": ["get"], "nonResourceURLs": _DISCOVERY_URLS},
    {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
     "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
]


class Attributes:
    """What a request asks to do (k8s.io/apiserver's RequestInfo)."""

    def __init__(self, verb, path):
        self.verb, self.path = verb, path
        self.is_resource = False
        self.api_group = self.api_version = self.namespace = ""
        self.resource = self.subresource = self.name = ""

    def __repr__(self):
        return "Attributes(%r)" % self.__dict__


def _truthy(value):
    return value in ("1", "t", "T", "true", "True", "TRUE")


def _field_selector_name(selector):
    """X of a fieldSelector requiring metadata.name=X (or ==X), else ''."""
    for term in (selector or "").split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name":
                return value.strip()
    return ""


def request_attributes(method, path, query):
    """Attributes of a request: method, path without query, query dict (last values)."""
    attrs = Attributes(method.lower(), path)
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return attrs
    prefix, parts = parts[0], parts[1:]
    if prefix == "apis":  # /api is the groupless prefix of the core group
        if len(parts) < 3:
            return attrs
        attrs.api_group, parts = parts[0], parts[1:]
    attrs.is_resource = True
    attrs.api_version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS and len(parts) > 1:
        attrs.verb, parts = parts[0], parts[1:]
    else:
        attrs.verb = _METHOD_VERBS.get(method, "")
    if parts[0] == "namespaces" and len(parts) > 1:
        attrs.namespace = parts[1]
        if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    attrs.resource = parts[0]
    attrs.name = parts[1] if len(parts) > 1 else ""
    attrs.subresource = parts[2] if len(parts) > 2 else ""
    if not attrs.name and attrs.verb == "get":
        attrs.verb = "watch" if _truthy(query.get("watch", "")) else "list"
    if not attrs.name and attrs.verb in ("list", "watch"):
        attrs.name = _field_selector_name(query.get("fieldSelector"))
    if not attrs.name and attrs.verb == "delete":
        attrs.verb = "deletecollection"
    return attrs


def _matches(values, wanted):
    return "*" in values or wanted in values


def _resource_matches(rule_resources, combined, subresource):
    for r in rule_resources:
        if r in ("*", combined):
            return True
        if subresource and r == "*/" + subresource:
            return True
    return False


def _url_matches(rule_urls, path):
    for u in rule_urls:
        if u in ("*", path) or (u.endswith("*") and path.startswith(u.rstrip("*"))):
            return True
    return False


def rule_allows(attrs, rule):
    """k8s.io/kubernetes' RuleAllows for one PolicyRule (a dict as stored)."""
    if not _matches(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.is_resource:
        return _url_matches(rule.get("nonResourceURLs") or [], attrs.path)
    combined = attrs.resource + ("/" + attrs.subresource if attrs.subresource else "")
    names = rule.get("resourceNames") or []
    return (_matches(rule.get("apiGroups") or [], attrs.api_group)
            and _resource_matches(rule.get("resources") or [], combined, attrs.subresource)
            and (not names or attrs.name in names))


def _subject_applies(user, subject, namespace):
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return bool(ns) and user.name == "system:serviceaccount:%s:%s" % (ns, name)
    return False


class Authorizer:
    """RBAC over the Roles, ClusterRoles and bindings in the store."""

    def __init__(self, store):
        self.store = store

    def _role_rules(self, ref, namespace):
        """(rules, error text) of a roleRef; a missing role is an error, as in the real one."""
        kind, name = ref.get("kind"), ref.get("name")
        if kind == "ClusterRole":
            role = self.store.get(RBAC_GROUP + "/clusterroles", "", name)
        elif kind == "Role" and namespace:
            role = self.store.get(RBAC_GROUP + "/roles", namespace, name)
        else:
            return [], "unsupported role reference kind: %r" % kind
        if role is None:
            return [], '%s.%s "%s" not found' % (kind.lower(), RBAC_GROUP, name)
        return role.get("rules") or [], None

    def _bindings(self, attrs):
        """(binding, namespace of the binding) that may apply to a request."""
        crbs, _ = self.store.list(RBAC_GROUP + "/clusterrolebindings")
        for b in crbs:
            yield b, ""
        if attrs.namespace:
            rbs, _ = self.store.list(RBAC_GROUP + "/rolebindings", attrs.namespace)
            for b in rbs:
                yield b, attrs.namespace

    def authorize(self, user, attrs):
        """(allowed, reason). reason names roles that bindings of the user refer to but that
        do not exist ('' if none), as the real server appends it to the 403 message."""
        if user.is_master:
            return True, ""
        if any(rule_allows(attrs, r) for r in BOOTSTRAP_RULES):
            return True, ""
        problems = []
        for binding, ns in self._bindings(attrs):
            if not any(_subject_applies(user, s, ns) for s in binding.get("subjects") or []):
                continue
            rules, problem = self._role_rules(binding.get("roleRef") or {}, ns)
            if problem and problem not in problems:
                problems.append(problem)
            if any(rule_allows(attrs, r) for r in rules):
                return True, ""
        if not problems:
            return False, ""
        text = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
        return False, "RBAC: " + text


def forbidden(user, attrs, reason=""):
    """The real server's 403 (responsewriters.Forbidden + errors.NewForbidden)."""
    if not attrs.is_resource:
        msg = 'User "%s" cannot %s path "%s"' % (user.name, attrs.verb, attrs.path)
    else:
        resource = attrs.resource + ("/" + attrs.subresource if attrs.subresource else "")
        where = ('in the namespace "%s"' % attrs.namespace if attrs.namespace
                 else "at the cluster scope")
        msg = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (
            user.name, attrs.verb, resource, attrs.api_group, where)
    if reason:
        msg += ": " + reason
    details = {}
    if attrs.is_resource and attrs.resource:
        qualified = attrs.resource + ("." + attrs.api_group if attrs.api_group else "")
        if attrs.name:
            msg = '%s "%s" is forbidden: %s' % (qualified, attrs.name, msg)
            details["name"] = attrs.name
        else:
            msg = "%s is forbidden: %s" % (qualified, msg)
        if attrs.api_group:
            details["group"] = attrs.api_group
        details["kind"] = attrs.resource
    else:
        msg = "forbidden: " + msg
    err = ApiError(403, msg, "Forbidden", headers={"X-Content-Type-Options": "nosniff"})
    err.status["details"] = details  # present even when empty, like the real server's
    return err
