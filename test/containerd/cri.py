#!/usr/bin/python3
"""Minimal CRI (runtime.v1) client for the containerd test rig.

Drives the pod-sandbox half of the CRI RuntimeService the way kubelet does,
so a CNI plugin is exercised exactly as in a cluster.  Uses Debian's
python3-grpcio only: the few protobuf messages needed are hand-encoded
below, no generated stubs.

Usage:
  cri.py --socket SOCK version
  cri.py --socket SOCK run NAME NAMESPACE [--uid UID]   -> "ID IP [IP...]"
  cri.py --socket SOCK status ID                        -> JSON
  cri.py --socket SOCK netns ID                         -> netns path
  cri.py --socket SOCK stop ID
  cri.py --socket SOCK rm ID
  cri.py --socket SOCK ls                               -> "ID NAMESPACE/NAME STATE"
  cri.py --socket SOCK rmall        (stop + remove every sandbox, print their netns)
"""

import argparse
import json
import os
import sys
import uuid

import grpc

SERVICE = "/runtime.v1.RuntimeService/"

# Wire types of the protobuf encoding.
VARINT = 0
LEN = 2

# PodSandboxState enum values.
STATES = {0: "SANDBOX_READY", 1: "SANDBOX_NOTREADY"}
NAMESPACE_MODE_POD = 0


# ---- protobuf encoding -------------------------------------------------------


def enc_varint(value):
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 are sent as 10-byte varints
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def enc_key(field, wire_type):
    return enc_varint((field << 3) | wire_type)


def f_varint(field, value):
    return enc_key(field, VARINT) + enc_varint(value)


def f_bytes(field, data):
    return enc_key(field, LEN) + enc_varint(len(data)) + data


def f_str(field, text):
    return f_bytes(field, text.encode())


def f_map(field, mapping):
    """A proto3 map is a repeated message {key = 1; value = 2}."""
    return b"".join(f_bytes(field, f_str(1, k) + f_str(2, v)) for k, v in mapping.items())


# ---- protobuf decoding -------------------------------------------------------


def dec_varint(buf, pos):
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def decode(buf):
    """Return {field: [values]}; LEN fields stay bytes, varints are ints."""
    fields = {}
    pos = 0
    while pos < len(buf):
        key, pos = dec_varint(buf, pos)
        field, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = dec_varint(buf, pos)
        elif wire_type == LEN:
            size, pos = dec_varint(buf, pos)
            value, pos = bytes(buf[pos : pos + size]), pos + size
        elif wire_type == 1:  # fixed64
            value, pos = bytes(buf[pos : pos + 8]), pos + 8
        elif wire_type == 5:  # fixed32
            value, pos = bytes(buf[pos : pos + 4]), pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        fields.setdefault(field, []).append(value)
    return fields


def first(fields, field, default=None):
    values = fields.get(field)
    return values[0] if values else default


def text(fields, field):
    return first(fields, field, b"").decode()


def dec_map(fields, field):
    out = {}
    for entry in fields.get(field, []):
        kv = decode(entry)
        out[text(kv, 1)] = text(kv, 2)
    return out


# ---- CRI messages ------------------------------------------------------------


def sandbox_metadata(name, namespace, uid):
    # PodSandboxMetadata: name = 1, uid = 2, namespace = 3, attempt = 4
    return f_str(1, name) + f_str(2, uid) + f_str(3, namespace) + f_varint(4, 0)


def run_request(name, namespace, uid, cgroup_parent):
    # NamespaceOption: network = 1, pid = 2, ipc = 3 (POD for all of them)
    ns_options = (
        f_varint(1, NAMESPACE_MODE_POD)
        + f_varint(2, NAMESPACE_MODE_POD)
        + f_varint(3, NAMESPACE_MODE_POD)
    )
    # LinuxSandboxSecurityContext: namespace_options = 1
    security = f_bytes(1, ns_options)
    # LinuxPodSandboxConfig: cgroup_parent = 1, security_context = 2
    linux = f_bytes(2, security)
    if cgroup_parent:
        linux = f_str(1, cgroup_parent) + linux
    labels = {"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace}
    # PodSandboxConfig: metadata = 1, hostname = 2, labels = 6, linux = 8
    config = (
        f_bytes(1, sandbox_metadata(name, namespace, uid))
        + f_str(2, name)
        + f_map(6, labels)
        + f_bytes(8, linux)
    )
    # RunPodSandboxRequest: config = 1
    return f_bytes(1, config)


def parse_metadata(buf):
    md = decode(buf)
    return {"name": text(md, 1), "uid": text(md, 2), "namespace": text(md, 3)}


def netns_from_info(info):
    """containerd's verbose info carries the OCI runtime spec of the sandbox."""
    try:
        spec = json.loads(info.get("info", "{}")).get("runtimeSpec", {})
        for ns in spec.get("linux", {}).get("namespaces", []):
            if ns.get("type") == "network":
                return ns.get("path", "")
    except ValueError:
        pass
    return ""


def parse_status(buf):
    resp = decode(buf)
    status = decode(first(resp, 1, b""))
    info = dec_map(resp, 2)
    network = decode(first(status, 5, b""))
    extra = [text(decode(ip), 1) for ip in network.get(2, [])]
    try:
        pid = json.loads(info.get("info", "{}")).get("pid", 0)
    except ValueError:
        pid = 0
    return {
        "id": text(status, 1),
        "metadata": parse_metadata(first(status, 2, b"")),
        "state": STATES.get(first(status, 3, 0), "UNKNOWN"),
        "ip": text(network, 1),
        "additional_ips": extra,
        "netns": netns_from_info(info),
        "pid": pid,
    }


# ---- the client --------------------------------------------------------------


class Client:
    def __init__(self, socket_path, timeout):
        self.channel = grpc.insecure_channel("unix://" + socket_path)
        self.timeout = timeout

    def call(self, method, request):
        # No serializers: grpc passes our hand-encoded bytes through as they are.
        rpc = self.channel.unary_unary(SERVICE + method)
        return rpc(request, timeout=self.timeout)

    def version(self):
        resp = decode(self.call("Version", f_str(1, "v1")))
        return "%s %s (CRI %s)" % (text(resp, 2), text(resp, 3), text(resp, 4))

    def run(self, name, namespace, uid, cgroup_parent=""):
        resp = decode(self.call("RunPodSandbox", run_request(name, namespace, uid, cgroup_parent)))
        return text(resp, 1)

    def status(self, sandbox_id):
        req = f_str(1, sandbox_id) + f_varint(2, 1)  # verbose, for netns + pid
        return parse_status(self.call("PodSandboxStatus", req))

    def stop(self, sandbox_id):
        self.call("StopPodSandbox", f_str(1, sandbox_id))

    def remove(self, sandbox_id):
        self.call("RemovePodSandbox", f_str(1, sandbox_id))

    def list(self):
        resp = decode(self.call("ListPodSandbox", b""))
        items = []
        for raw in resp.get(1, []):
            item = decode(raw)
            items.append(
                {
                    "id": text(item, 1),
                    "metadata": parse_metadata(first(item, 2, b"")),
                    "state": STATES.get(first(item, 3, 0), "UNKNOWN"),
                }
            )
        return items


def addresses(status):
    return [ip for ip in [status["ip"]] + status["additional_ips"] if ip]


def remove_all(client):
    """Stop + remove every sandbox, printing the netns path each one had."""
    failures = 0
    for item in client.list():
        try:
            print(client.status(item["id"])["netns"], flush=True)
            client.stop(item["id"])
            client.remove(item["id"])
        except grpc.RpcError as err:
            print("cri.py rmall %s: %s" % (item["id"], err.details()), file=sys.stderr)
            failures += 1
    return 1 if failures else 0


def main(argv):
    parser = argparse.ArgumentParser(description="minimal CRI client (pod sandboxes only)")
    parser.add_argument("--socket", required=True, help="containerd gRPC socket path")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    run = sub.add_parser("run")
    run.add_argument("name")
    run.add_argument("namespace")
    run.add_argument("--uid", default="")
    run.add_argument(
        "--cgroup-parent",
        default=os.environ.get("RIG_CGROUP_PARENT", ""),
        help="parent cgroup of the sandbox (default: $RIG_CGROUP_PARENT, set by rig.sh)",
    )
    for cmd in ("status", "netns", "stop", "rm"):
        sub.add_parser(cmd).add_argument("id")
    sub.add_parser("ls")
    sub.add_parser("rmall")
    args = parser.parse_args(argv)
    client = Client(args.socket, args.timeout)

    try:
        if args.cmd == "version":
            print(client.version())
        elif args.cmd == "run":
            sandbox_id = client.run(
                args.name, args.namespace, args.uid or str(uuid.uuid4()), args.cgroup_parent
            )
            print(" ".join([sandbox_id] + addresses(client.status(sandbox_id))))
        elif args.cmd == "status":
            print(json.dumps(client.status(args.id), indent=1))
        elif args.cmd == "netns":
            print(client.status(args.id)["netns"])
        elif args.cmd == "stop":
            client.stop(args.id)
        elif args.cmd == "rm":
            client.remove(args.id)
        elif args.cmd == "ls":
            for item in client.list():
                md = item["metadata"]
                print("%s %s/%s %s" % (item["id"], md["namespace"], md["name"], item["state"]))
        elif args.cmd == "rmall":
            return remove_all(client)
    except grpc.RpcError as err:
        print("cri.py %s: %s: %s" % (args.cmd, err.code().name, err.details()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
