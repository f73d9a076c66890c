"""Command line and start-up of the test API server."""

import argparse
import http.server
import os
import socket
import ssl
import sys

from . import admission, authn, defaults, faults, gc, handler, ops, rbac, resources, storage

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Context:
    """Everything the request handlers share."""

    def __init__(self, args):
        self.verbose = args.verbose
        self.watch_timeout = args.watch_timeout
        self.bookmark_interval = args.bookmark_interval
        self.address = "%s:%d" % (args.address, args.port)
        self.registry = resources.Registry()
        self.store = storage.Store(args.history)
        self.authn = authn.Authenticator(self.store, args.token or [], args.token_auth_file)
        self.authz = rbac.Authorizer(self.store)
        overrides = dict(o.split("=", 1) for o in args.service_host_override or [])
        self.admission = admission.Admission(self.store, overrides)
        self.api = ops.Api(self.store, self.registry, self.admission, args.graceful_pod_deletion)
        self.faults = faults.Faults()
        self.gc = gc.GarbageCollector(self.api)
        self.api.gc = self.gc
        self.gc.start()
        self._seed()

    def _seed(self):
        ns_type = self.registry.lookup("", "v1", "namespaces")
        for name in DEFAULT_NAMESPACES:
            self.api.create(ns_type, "", {"metadata": {"name": name}})

    def reset_data(self):
        """Deletes every object and every served CRD type (test reset)."""
        crds, _ = self.store.list(ops.CRD_KEY)
        for crd in crds:
            self.registry.drop_crd(crd["metadata"]["name"])
        self.store.wipe()
        self._seed()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, args, ctx):
        family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
        self.address_family = family
        super().__init__((args.address, args.port), handler.Handler)
        self.ctx = ctx
        if args.tls_cert:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(args.tls_cert, args.tls_key)
            # The handshake runs in the handler thread (first read), not in the accept loop.
            self.socket = tls.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, ssl.SSLError, TimeoutError)):
            return  # a client went away or spoke no TLS; not a server problem
        super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="run", description="Test-only Kubernetes API server.")
    p.add_argument("--port", type=int, required=True, help="listen port (0: any free port)")
    p.add_argument("--address", default="127.0.0.1", help="listen address")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    p.add_argument("--token", action="append",
                   help="administrator bearer token (group system:masters, repeatable); "
                   "requests without credentials get 401")
    p.add_argument("--token-auth-file", metavar="CSV",
                   help='static tokens as kube-apiserver reads them: token,user,uid[,"g1,g2"]; '
                   "requests without credentials get 401")
    p.add_argument("--history", type=int, default=1000,
                   help="watch events kept per resource; older resourceVersions get 410 Gone")
    p.add_argument("--watch-timeout", type=float, default=1800,
                   help="seconds a watch without timeoutSeconds stays open")
    p.add_argument("--bookmark-interval", type=float, default=5,
                   help="seconds between BOOKMARK events (allowWatchBookmarks=true)")
    p.add_argument("--service-host-override", action="append", metavar="NAME.NS=HOST:PORT",
                   help="dial webhook service NAME in namespace NS at HOST:PORT")
    p.add_argument("--graceful-pod-deletion", action="store_true",
                   help="pods bound to a node only get a deletionTimestamp (as with a kubelet)")
    p.add_argument("--dual-stack", action="store_true",
                   help="PreferDualStack/RequireDualStack Services get an IPv6 ClusterIP too")
    p.add_argument("--port-file", help="write the bound port to this file once listening")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    defaults.DUAL_STACK = args.dual_stack
    ctx = Context(args)
    srv = Server(args, ctx)
    args.port = srv.server_address[1]
    ctx.address = "%s:%d" % (args.address, args.port)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % args.port)
        os.replace(args.port_file + ".tmp", args.port_file)
    scheme = "https" if args.tls_cert else "http"
    print("coil test apiserver listening on %s://%s" % (scheme, ctx.address), file=sys.stderr,
          flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
