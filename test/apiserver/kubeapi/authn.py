"""Authentication: who is asking. Bearer tokens of three kinds, as kube-apiserver knows them:

- `--token T`: administrator tokens (user "admin", group system:masters, which bypasses RBAC);
- `--token-auth-file F`: kube-apiserver's static token CSV, `token,user,uid[,"group1,group2"]`;
- ServiceAccount tokens issued by the TokenRequest subresource
  (POST /api/v1/namespaces/NS/serviceaccounts/NAME/token). They are opaque (no JWT) and are
  valid while they have not expired and the ServiceAccount of the same uid still exists.

A request without credentials is the old insecure port's (user system:unsecured, group
system:masters) on a server started without --token/--token-auth-file, so the plain-HTTP test
harness keeps acting as administrator; with either flag given it is 401. Any bearer token is
checked, whatever the flags: an unknown or expired one is 401, a valid one is authorized by
RBAC."""

import csv
import datetime
import secrets
import threading
import time

from . import errors
from .errors import ApiError

MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
SA_PREFIX = "system:serviceaccount:"
DEFAULT_TOKEN_SECONDS = 3600
MIN_TOKEN_SECONDS = 600  # the real server's lower bound for expirationSeconds


class User:
    """An authenticated identity (name, uid, groups incl. system:authenticated)."""

    def __init__(self, name, uid="", groups=()):
        self.name, self.uid = name, uid
        self.groups = list(groups)
        if AUTHENTICATED not in self.groups:
            self.groups.append(AUTHENTICATED)

    @property
    def is_master(self):
        return MASTERS in self.groups


UNSECURED = User("system:unsecured", groups=[MASTERS])


def service_account_user(ns, name, uid):
    return User(SA_PREFIX + "%s:%s" % (ns, name), uid,
                ["system:serviceaccounts", "system:serviceaccounts:" + ns])


def read_token_file(path):
    """token -> User from a kube-apiserver --token-auth-file CSV. Raises ValueError."""
    users = {}
    with open(path, newline="") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ValueError("%s:%d: want token,user,uid[,groups]" % (path, n))
            groups = [g.strip() for g in row[3].split(",") if g.strip()] if len(row) > 3 else []
            users[row[0].strip()] = User(row[1].strip(), row[2].strip(), groups)
    return users


class Authenticator:
    """Maps the Authorization header of a request to a User; issues ServiceAccount tokens."""

    def __init__(self, store, admin_tokens=(), token_file=None):
        self.store = store
        self.static = {t: User("admin", "admin", [MASTERS]) for t in admin_tokens}
        if token_file:
            self.static.update(read_token_file(token_file))
        self.secure = bool(self.static)  # credentials required
        self._lock = threading.Lock()
        self._issued = {}  # token -> (namespace, name, uid, expiry as time.time())

    def authenticate(self, header):
        """The User of an Authorization header value (may be empty); raises 401."""
        if not header:
            if self.secure:
                raise ApiError(401, "Unauthorized")
            return UNSECURED
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        user = self.static.get(token) or self._service_account(token)
        if user is None:
            raise ApiError(401, "Unauthorized")
        return user

    def _service_account(self, token):
        with self._lock:
            issued = self._issued.get(token)
        if issued is None:
            return None
        ns, name, uid, expiry = issued
        sa = self.store.get("/serviceaccounts", ns, name)
        if time.time() >= expiry or sa is None or sa["metadata"].get("uid") != uid:
            return None
        return service_account_user(ns, name, uid)

    def token_request(self, sa_type, ns, name, body):
        """The TokenRequest answer for ServiceAccount ns/name (404 if it does not exist)."""
        sa = self.store.get(sa_type.key, ns, name)
        if sa is None:
            raise errors.not_found(sa_type, name)
        spec = dict((body or {}).get("spec") or {})
        seconds = int(spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS)
        if seconds < MIN_TOKEN_SECONDS:
            raise ApiError(422, 'TokenRequest.authentication.k8s.io "%s" is invalid: '
                           'spec.expirationSeconds: Invalid value: %d: may not specify a '
                           'duration less than 10 minutes' % (name, seconds), "Invalid")
        token = "coil-test-sa." + secrets.token_urlsafe(24)
        expiry = time.time() + seconds
        with self._lock:
            self._issued[token] = (ns, name, sa["metadata"]["uid"], expiry)
        spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
        spec["expirationSeconds"] = seconds
        spec.setdefault("boundObjectRef", None)
        stamp = datetime.datetime.fromtimestamp(expiry, datetime.timezone.utc)
        return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": name, "namespace": ns,
                             "creationTimestamp": errors.now_rfc3339()},
                "spec": spec,
                "status": {"token": token,
                           "expirationTimestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ")}}
