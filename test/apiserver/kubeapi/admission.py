"""Dynamic admission: calling Mutating and Validating admission webhooks.

For a request, the webhooks of every Mutating (then Validating) WebhookConfiguration whose
rules, scope, namespaceSelector and objectSelector match are called over HTTPS with an
AdmissionReview v1, in configuration-name order. The server certificate is checked against the
webhook's caBundle. Mutating answers may carry a JSONPatch; a denial becomes the client's error;
a webhook that cannot be called fails the request or is skipped per its failurePolicy.

There is no cluster DNS: a `service` clientConfig is dialled at the address given by
--service-host-override NAME.NAMESPACE=HOST:PORT (default NAME.NAMESPACE.svc:PORT), while the
certificate is still verified for the name NAME.NAMESPACE.svc, as the real server does.
"""

import base64
import http.client
import json
import ssl
import urllib.parse
import uuid

from . import errors, patch
from .selectors import label_selector_from_object, labels_match

MUTATING = "admissionregistration.k8s.io/mutatingwebhookconfigurations"
VALIDATING = "admissionregistration.k8s.io/validatingwebhookconfigurations"


class _TLSConnection(http.client.HTTPConnection):
    """HTTPS to host:port while verifying the certificate for `server_name`."""

    def __init__(self, host, port, server_name, context, timeout):
        super().__init__(host, port, timeout=timeout)
        self._server_name = server_name
        self._context = context

    def connect(self):
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_name)


def _rule_matches(rule, rt, subresource, operation):
    def has(values, want):
        return "*" in (values or []) or want in (values or [])

    if not (has(rule.get("apiGroups"), rt.group) and has(rule.get("apiVersions"), rt.version)
            and has(rule.get("operations"), operation)):
        return False
    scope = rule.get("scope", "*")
    if scope != "*" and (scope == "Namespaced") != rt.namespaced:
        return False
    for res in rule.get("resources") or []:
        main, _, sub = res.partition("/")
        if (main in ("*", rt.plural)) and (sub == (subresource or "") or sub == "*"):
            return True
    return False


class Admission:
    def __init__(self, store, service_overrides=None, user="kubernetes-admin"):
        self.store = store
        self.overrides = service_overrides or {}
        self.user = user

    def _namespace_labels(self, rt, obj, ns):
        if rt.key == "/namespaces":
            return (obj.get("metadata") or {}).get("labels")
        nso = self.store.get("/namespaces", "", ns) if ns else None
        return ((nso or {}).get("metadata") or {}).get("labels")

    def _webhooks(self, bucket, rt, subresource, operation, obj, old, ns):
        """The (configuration name, webhook) pairs that apply to this request, in order."""
        configs, _ = self.store.list(bucket)
        out = []
        for cfg in sorted(configs, key=lambda c: c["metadata"]["name"]):
            for hook in cfg.get("webhooks") or []:
                if not any(_rule_matches(r, rt, subresource, operation)
                           for r in hook.get("rules") or []):
                    continue
                if rt.namespaced or rt.key == "/namespaces":
                    nsel = label_selector_from_object(hook.get("namespaceSelector"))
                    if nsel and not labels_match(nsel, self._namespace_labels(rt, obj or old, ns)):
                        continue
                osel = label_selector_from_object(hook.get("objectSelector"))
                if osel and not any(labels_match(osel, (o.get("metadata") or {}).get("labels"))
                                    for o in (obj, old) if o):
                    continue
                out.append(hook)
        return out

    def mutate(self, rt, subresource, operation, obj, old, ns, name):
        """Runs the mutating webhooks; returns the (possibly patched) object."""
        for hook in self._webhooks(MUTATING, rt, subresource, operation, obj, old, ns):
            resp = self._call(hook, rt, subresource, operation, obj, old, ns, name)
            if resp and resp.get("patch") and obj is not None:
                if resp.get("patchType", "JSONPatch") != "JSONPatch":
                    raise errors.ApiError(500, "webhook %s answered unsupported patchType %s"
                                          % (hook["name"], resp.get("patchType")))
                ops = json.loads(base64.b64decode(resp["patch"]))
                obj = patch.json_patch(obj, ops)
        return obj

    def validate(self, rt, subresource, operation, obj, old, ns, name):
        for hook in self._webhooks(VALIDATING, rt, subresource, operation, obj, old, ns):
            self._call(hook, rt, subresource, operation, obj, old, ns, name)

    # --- one call ----------------------------------------------------------------------------

    def _review(self, hook, rt, subresource, operation, obj, old, ns, name):
        versions = hook.get("admissionReviewVersions") or ["v1"]
        api_version = "admission.k8s.io/" + ("v1" if "v1" in versions else versions[0])
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        gvr = {"group": rt.group, "version": rt.version, "resource": rt.plural}
        req = {
            "uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr, "name": name, "namespace": ns or "",
            "operation": operation,
            "userInfo": {"username": self.user,
                         "groups": ["system:masters", "system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": False,
            "options": {"kind": {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions",
                                 "DELETE": "DeleteOptions"}.get(operation, "CreateOptions"),
                        "apiVersion": "meta.k8s.io/v1"},
        }
        if subresource:
            req["subResource"] = req["requestSubResource"] = subresource
        return {"apiVersion": api_version, "kind": "AdmissionReview", "request": req}

    def _endpoint(self, hook):
        """(dial host, dial port, TLS server name, path) of a webhook's clientConfig."""
        cc = hook.get("clientConfig") or {}
        if cc.get("url"):
            u = urllib.parse.urlsplit(cc["url"])
            if u.scheme != "https":
                raise ValueError("webhook URL %s is not https" % cc["url"])
            path = u.path + ("?" + u.query if u.query else "")
            return u.hostname, u.port or 443, u.hostname, path or "/"
        svc = cc.get("service") or {}
        dns = "%s.%s.svc" % (svc.get("name"), svc.get("namespace"))
        port = svc.get("port", 443)
        target = self.overrides.get("%s.%s" % (svc.get("name"), svc.get("namespace")))
        host = dns
        if target:
            host, _, p = target.rpartition(":")
            port = int(p)
        return host, port, dns, svc.get("path") or "/"

    def _post(self, hook, review):
        host, port, server_name, path = self._endpoint(hook)
        ca = (hook.get("clientConfig") or {}).get("caBundle")
        ctx = ssl.create_default_context(cadata=base64.b64decode(ca).decode() if ca else None)
        conn = _TLSConnection(host, port, server_name, ctx, hook.get("timeoutSeconds", 10))
        try:
            conn.request("POST", path, json.dumps(review).encode(),
                         {"Content-Type": "application/json", "Accept": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise ValueError("the server responded with status %d: %s"
                                 % (resp.status, body[:200].decode(errors="replace")))
            return json.loads(body)
        finally:
            conn.close()

    def _call(self, hook, rt, subresource, operation, obj, old, ns, name):
        review = self._review(hook, rt, subresource, operation, obj, old, ns, name)
        try:
            answer = self._post(hook, review)
            resp = answer.get("response") or {}
            if resp.get("uid") != review["request"]["uid"]:
                raise ValueError("expected response.uid=%r, got %r"
                                 % (review["request"]["uid"], resp.get("uid")))
        except (OSError, ValueError, ssl.SSLError, http.client.HTTPException) as e:
            if hook.get("failurePolicy", "Fail") == "Ignore":
                return None
            raise errors.ApiError(500, 'Internal error occurred: failed calling webhook "%s": '
                                  'failed to call webhook: %s' % (hook.get("name"), e))
        if not resp.get("allowed"):
            raise self._denial(hook, resp.get("status") or {})
        return resp

    @staticmethod
    def _denial(hook, status):
        denied = 'admission webhook "%s" denied the request' % hook.get("name")
        code = status.get("code") or 403
        if code < 400:
            code = 403
        if status.get("message"):
            msg = "%s: %s" % (denied, status["message"])
        elif status.get("reason"):
            msg = "%s: %s" % (denied, status["reason"])
        else:
            msg = denied + " without explanation"
        return errors.ApiError(code, msg, status.get("reason") or None, status.get("details"))
