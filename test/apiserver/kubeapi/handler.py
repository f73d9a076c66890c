"""HTTP layer: authentication, routing of Kubernetes API paths to the verbs, discovery,
list paging, the chunked watch stream, and the /_test/ side channel."""

import base64
import http.server
import json
import select
import socket
import time
import traceback
import urllib.parse

from . import errors, rbac, selectors, warnings
from .errors import ApiError
from .storage import DROP, STOP, obj_key

JSON = "application/json"
_PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
}
# A minimal OpenAPI v2 document as protobuf (openapi_v2.Document: swagger = 1, info = 2;
# Info: title = 1, version = 2). kubectl validates objects against the served schema and skips
# kinds the document does not define, so serving it lets `kubectl apply` run without
# --validate=false. The real server also answers it as application/octet-stream.
_OPENAPI_PB = (b"\x0a\x032.0\x12\x1c\x0a\x13coil-test-apiserver\x12\x05v1.29")
_OPENAPI_JSON = {"swagger": "2.0", "info": {"title": "coil-test-apiserver", "version": "v1.29"},
                 "paths": {}, "definitions": {}}
VERSION = {"major": "1", "minor": "29", "gitVersion": "v1.29.0-coil-test",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.21.0", "compiler": "gc",
           "platform": "linux/amd64"}


def _truthy(value):
    return value in ("1", "true", "True")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "coil-test-apiserver"

    def setup(self):
        super().setup()
        # Like Go's net/http: no Nagle delay between the header and body writes of a response
        # (it would meet the client's delayed ACK and cost 40 ms per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # BaseHTTPRequestHandler entry points.
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def log_message(self, fmt, *args):
        if self.server.ctx.verbose:
            super().log_message(fmt, *args)

    # --- plumbing ----------------------------------------------------------------------------

    @property
    def ctx(self):
        return self.server.ctx

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self):
        if not self.body:
            raise errors.bad_request("the request body is empty")
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise errors.bad_request("the body of the request is not valid JSON: %s" % e)

    def _send(self, code, body, ctype=JSON, headers=None):
        if not isinstance(body, bytes):
            body = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        for v in warnings.headers():
            self.send_header("Warning", v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.status_code = code

    def _send_error(self, err):
        self._send(err.code, err.status, headers=err.headers)

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        self.url_path = url.path.rstrip("/") or "/"
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query,
                                                                  keep_blank_values=True).items()}
        self.status_code = 0
        self.user = None
        warnings.begin()
        self.is_watch = _truthy(self.query.get("watch", "")) or "/watch/" in self.url_path
        started = time.time()
        try:
            self.body = self._read_body()
            if self.url_path.startswith("/_test/"):
                self._test_endpoint(method)
                return
            self._authorize(method, url.path)
            failure = self.ctx.faults.check(method, self.path, self.is_watch)
            if failure:
                raise self._injected(*failure)
            self._route(method)
        except ApiError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug of this server: tell the client like the real one would
            traceback.print_exc()
            self._send_error(ApiError(500, "Internal error occurred: %r" % e))
        finally:
            if not self.url_path.startswith("/_test/"):
                self.ctx.faults.log({
                    "method": method, "path": url.path, "query": url.query,
                    "status": self.status_code, "watch": self.is_watch,
                    "user": self.user.name if self.user else "",
                    "user_agent": self.headers.get("User-Agent", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "accept": self.headers.get("Accept", ""),
                    "time": started, "duration": time.time() - started})

    @staticmethod
    def _injected(code, retry_after):
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        msg = {429: "Too many requests, please try again later.",
               503: "the server is currently unable to handle the request"}.get(
                   code, "Internal error occurred: injected fault")
        details = {"retryAfterSeconds": int(retry_after)} if retry_after is not None else None
        return ApiError(code, msg, details=details, headers=headers)

    def _authorize(self, method, path):
        """Authentication, then RBAC, as the real server's filters do before any routing."""
        self.user = self.ctx.authn.authenticate(self.headers.get("Authorization", ""))
        attrs = rbac.request_attributes(method, path, self.query)
        allowed, reason = self.ctx.authz.authorize(self.user, attrs)
        if not allowed:
            err = rbac.forbidden(self.user, attrs, reason)
            self.ctx.faults.deny({"method": method, "path": path, "user": self.user.name,
                                  "message": err.status["message"]})
            raise err

    # --- routing -----------------------------------------------------------------------------

    def _route(self, method):
        p = self.url_path
        if p in ("/healthz", "/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if method == "GET" and p == "/version":
            return self._send(200, VERSION)
        if method == "GET" and p == "/openapi/v2":
            if "protobuf" in self.headers.get("Accept", ""):
                return self._send(200, _OPENAPI_PB,
                                  "application/octet-stream")
            return self._send(200, _OPENAPI_JSON)
        segs = p.strip("/").split("/")
        if segs[0] == "api":
            if len(segs) == 1:
                return self._discovery(method, {"kind": "APIVersions", "versions": ["v1"],
                                                "serverAddressByClientCIDRs": [{
                                                    "clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": self.ctx.address}]})
            if segs[1] != "v1":
                raise self._not_found()
            return self._api(method, "", "v1", segs[2:])
        if segs[0] == "apis":
            if len(segs) == 1:
                return self._discovery(method, self.ctx.registry.api_group_list())
            if len(segs) == 2:
                return self._discovery(method, self.ctx.registry.api_group(segs[1]))
            return self._api(method, segs[1], segs[2], segs[3:])
        raise self._not_found()

    @staticmethod
    def _not_found():
        return ApiError(404, "the server could not find the requested resource",
                        details={"causes": [{"reason": "UnexpectedServerResponse",
                                             "message": "404 page not found"}]})

    def _discovery(self, method, doc):
        if method != "GET" or doc is None:
            raise self._not_found()
        self._send(200, doc)

    def _api(self, method, group, version, segs):
        reg = self.ctx.registry
        if not segs:
            return self._discovery(method, reg.resource_list(group, version))
        if segs[0] == "watch":
            self.is_watch = True
            segs = segs[1:]
        ns = None
        if len(segs) >= 3 and segs[0] == "namespaces":
            inner = reg.lookup(group, version, segs[2])
            if inner is not None and inner.namespaced:
                ns, segs = segs[1], segs[2:]
        if not segs or len(segs) > 3:
            raise self._not_found()
        rt = reg.lookup(group, version, segs[0])
        if rt is None or (ns is not None and not rt.namespaced):
            raise self._not_found()
        name = segs[1] if len(segs) > 1 else None
        sub = segs[2] if len(segs) > 2 else None
        if rt.namespaced and name is not None and ns is None:
            raise self._not_found()
        if sub and not ((sub == "status" and rt.has_status) or (sub == "scale" and rt.scale)
                        or (sub == "finalize" and rt.key == "/namespaces")
                        or (sub == "token" and rt.key == "/serviceaccounts")):
            raise self._not_found()
        self._resource(method, rt, ns or "", name, sub)

    def _present(self, rt, obj):
        """The object as seen through the requested version of its resource."""
        if obj.get("apiVersion") != rt.api_version and "apiVersion" in obj:
            obj = dict(obj, apiVersion=rt.api_version)
        return obj

    def _resource(self, method, rt, ns, name, sub):
        api, q = self.ctx.api, self.query
        dry = q.get("dryRun") == "All"
        if method == "GET":
            if name is None or self.is_watch:
                return self._list_or_watch(rt, ns, name)
            obj = self.ctx.store.get(rt.key, ns, name)
            if obj is None:
                raise errors.not_found(rt, name)
            if sub == "scale":
                return self._send(200, api.get_scale(rt, obj))
            return self._send(200, self._present(rt, obj))
        if method == "POST" and sub == "token":
            body = self._json_body() if self.body else {}
            return self._send(201, self.ctx.authn.token_request(rt, ns, name, body))
        if method == "POST" and name is None:
            return self._send(201, self._present(rt, api.create(rt, ns, self._json_body(), dry)))
        if method == "PUT" and name is not None:
            body = self._json_body()
            if sub == "scale":
                return self._send(200, api.update_scale(rt, ns, name, body, dry))
            return self._send(200, self._present(rt, api.update(rt, ns, name, body, sub, dry)))
        if method == "PATCH" and name is not None:
            return self._patch(rt, ns, name, sub, dry)
        if method == "DELETE":
            opts = self._delete_options()
            if name is None:
                return self._delete_collection(rt, ns, opts, dry)
            obj, gone = api.delete(rt, ns, name, opts, dry)
            return self._send(200 if gone else 202, self._present(rt, obj))
        raise ApiError(405, "the server does not allow this method on the requested resource")

    def _patch(self, rt, ns, name, sub, dry):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        ptype = _PATCH_TYPES.get(ctype)
        if ptype is None:
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: " + ", ".join(_PATCH_TYPES))
        obj = self.ctx.api.patch(rt, ns, name, ptype, self._json_body(), sub, dry)
        self._send(200, obj if sub == "scale" else self._present(rt, obj))

    def _delete_options(self):
        opts = {}
        if self.body:
            opts = self._json_body()
            if not isinstance(opts, dict):
                raise errors.bad_request("DeleteOptions must be an object")
        q = self.query
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "gracePeriodSeconds" in q:
            opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        if "orphanDependents" in q:
            opts["orphanDependents"] = _truthy(q["orphanDependents"])
        if opts.get("propagationPolicy") not in (None, "Orphan", "Background", "Foreground"):
            raise errors.bad_request("invalid propagationPolicy %r" % opts["propagationPolicy"])
        return opts

    def _selectors(self, rt, name=None):
        labels = selectors.parse_label_selector(self.query.get("labelSelector", ""))
        fields = selectors.parse_field_selector(self.query.get("fieldSelector", ""), rt.fields)
        if name is not None:  # watch of one object: /watch/.../NAME
            fields.append(("metadata.name", "=", name))
        return labels, fields

    def _delete_collection(self, rt, ns, opts, dry):
        labels, fields = self._selectors(rt)
        items, rv = self.ctx.store.list(rt.key, ns, labels, fields)
        done = self.ctx.api.delete_collection(rt, ns, items, opts, dry)
        self._send(200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                         "metadata": {"resourceVersion": str(rv)},
                         "items": [self._present(rt, o) for o in done]})

    # --- list --------------------------------------------------------------------------------

    def _list_or_watch(self, rt, ns, name):
        labels, fields = self._selectors(rt, name)
        if self.is_watch:
            return self._watch(rt, ns, labels, fields)
        start = None
        token = self.query.get("continue")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                start, token_rv = tuple(state["start"]), int(state["rv"])
                if len(start) != 2 or not all(isinstance(part, str) for part in start):
                    raise ValueError("start must be [namespace, name]")
            except (ValueError, KeyError, TypeError):
                raise errors.bad_request("invalid continue token %r" % token)
        items, rv = self.ctx.store.list(rt.key, ns, labels, fields, after=start)
        md = {"resourceVersion": str(token_rv if token else rv)}
        limit = int(self.query.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            rest = len(items) - limit
            items = items[:limit]
            state = {"rv": int(md["resourceVersion"]), "start": list(obj_key(items[-1]))}
            md["continue"] = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
            md["remainingItemCount"] = rest
        self._send(200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": md,
                         "items": [self._present(rt, o) for o in items]})

    # --- watch -------------------------------------------------------------------------------

    def _write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, etype, obj):
        self._write_chunk(json.dumps({"type": etype, "object": obj},
                                     separators=(",", ":")).encode() + b"\n")

    def _client_gone(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _watch(self, rt, ns, labels, fields):
        q, store = self.query, self.ctx.store
        rv = q.get("resourceVersion", "")
        initial = _truthy(q.get("sendInitialEvents", ""))
        bookmarks = _truthy(q.get("allowWatchBookmarks", ""))
        try:
            since = None if rv in ("", "0") or initial else int(rv)
        except ValueError:
            raise errors.bad_request("invalid resourceVersion %r" % rv)
        timeout = float(q.get("timeoutSeconds") or self.ctx.watch_timeout)
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.status_code = 200
        try:
            w = store.watch(rt, ns, labels, fields, since, self.path)
        except ApiError as e:  # 410: an ERROR event in a 200 stream, like the real server
            self._event("ERROR", e.status)
            self._write_chunk(b"")
            return
        try:
            self._stream(rt, w, timeout, bookmarks, initial)
        finally:
            store.unwatch(w)

    def _stream(self, rt, w, timeout, bookmarks, initial):
        store = self.ctx.store
        deadline = time.monotonic() + timeout
        if initial and bookmarks:
            # sendInitialEvents: the ADDED events already queued, then the end-marking bookmark.
            n = w.queue.qsize()
            for _ in range(n):
                etype, obj = w.queue.get()
                self._event(etype, self._present(rt, obj))
            self._bookmark(rt, str(store.rv), {"k8s.io/initial-events-end": "true"})
        last_bookmark = time.monotonic()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = w.queue.get(timeout=min(left, 1.0))
            except Exception:  # queue.Empty: idle second
                item = None
            if item == DROP:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if item == STOP:
                break
            if item is not None:
                self._event(item[0], self._present(rt, item[1]))
                continue
            if self._client_gone():
                self.close_connection = True
                return
            if bookmarks and time.monotonic() - last_bookmark >= self.ctx.bookmark_interval:
                rv = store.bookmark_rv(w)
                if rv is not None:
                    self._bookmark(rt, str(rv))
                    last_bookmark = time.monotonic()
        self._write_chunk(b"")

    def _bookmark(self, rt, rv, annotations=None):
        md = {"resourceVersion": rv}
        if annotations:
            md["annotations"] = annotations
        self._event("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": md})

    # --- the /_test/ side channel ------------------------------------------------------------

    def _test_endpoint(self, method):
        ctx, p = self.ctx, self.url_path
        if p == "/_test/faults":
            if method == "POST":
                spec = self._json_body()
                rule = ctx.faults.add(spec)
                dropped = self._drop_watches(rule) if spec.get("drop_watches") else 0
                return self._send(200, {"rules": ctx.faults.rules(), "dropped_watches": dropped})
            if method == "DELETE":
                ctx.faults.clear()
            return self._send(200, {"rules": ctx.faults.rules()})
        if p == "/_test/requests":
            if method == "DELETE":
                ctx.faults.clear_log()
            since = int(self.query.get("since") or 0)
            return self._send(200, {"items": ctx.faults.requests(since)})
        if p == "/_test/denials":
            if method == "DELETE":
                ctx.faults.clear_denials()
            return self._send(200, {"items": ctx.faults.denials()})
        if p == "/_test/watches":
            return self._send(200, {"items": [{"resource": w.key, "path": w.path}
                                              for w in ctx.store.watchers()]})
        if p == "/_test/reset" and method == "POST":
            opts = self._json_body() if self.body else {}
            ctx.faults.clear()
            ctx.faults.clear_log()
            if opts.get("data"):  # denials survive a plain reset: tests check them at the end
                ctx.faults.clear_denials()
                ctx.reset_data()
            return self._send(200, {"reset": True})
        raise self._not_found()

    def _drop_watches(self, rule):
        n = 0
        for w in self.ctx.store.watchers():
            if rule.matches("GET", w.path, True):
                w.queue.put(DROP)
                n += 1
        return n

