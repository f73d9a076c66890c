#!/bin/bash
# The daemon's socket under load: a request over 1 MiB gets a clear error (from the plugin
# before sending, and from the daemon for a client that sends it anyway); with every slot
# taken by idle connections a new ADD is answered at once with code 11 ("coild is busy")
# instead of waiting; idle connections are closed after 5 s, so ADDs then succeed again.
source "$(dirname "$0")/lib.sh"
init_test python3
setup_node

# --- oversized requests -------------------------------------------------------------------
# The netconf is not part of the request (the daemon never reads it): a 1.2 MB netconf is a
# small request and its ADD works.
BIG=$(head -c 1200000 /dev/zero | tr '\0' a)
make_netns "$(pod_ns big)"
OUT=$(cni ADD big "$(pod_ns big)" default eth0 "$(netconf 1.0.0 "\"pad\":\"$BIG\"")")
check_eq "ADD with a 1.2 MB netconf works" 0 "$?"
check_eq "its DEL works" 0 "$(cni DEL big "$(pod_ns big)" >/dev/null; echo $?)"
# A GC whose list of valid attachments is past the limit is refused by the plugin itself.
LIST=$(python3 -c 'import json; print(json.dumps([{"containerID": "c%032d" % i, "ifname": "eth0"} for i in range(25000)]))')
OUT=$(in_node env -i PATH="$PATH" CNI_COMMAND=GC CNI_PATH=/usr/lib/cni "$COIL" \
	<<<"$(netconf 1.1.0 "\"cni.dev/valid-attachments\":$LIST")")
RC=$?
check_eq "oversized GC fails" 1 "$RC"
check_eq "plugin: request too large" "request too large" "$(err_msg "$OUT")"
check "plugin: names the limit" grep -q "limit of 1048576 bytes" <<<"$(jq -r .details <<<"$OUT")"

# raw_call BYTES: sends BYTES bytes of JSON padding to the daemon, prints its answer.
raw_call() {
	in_node python3 - "$SOCKET" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
pad = int(sys.argv[2])
try:
    s.sendall(b'{"command":"ADD","pad":"' + b"a" * pad + b'"}')
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(data.decode())
PY
}
ANSWER=$(raw_call 1100000)
check_eq "daemon: request too large" "request too large" "$(jq -r .error.msg <<<"$ANSWER" 2>/dev/null)"
check "daemon: names the limit" grep -q "limit of 1048576 bytes" <<<"$ANSWER"

# --- saturation by idle connections -------------------------------------------------------
# 600 connections that never send (512 serving slots + 64 answering "busy" + more queued).
# nsenter itself, not in_node: $! of a backgrounded function is its subshell, and killing
# that would leave python in the node's netns.
nsenter --net="/var/run/netns/$NODE" python3 - "$SOCKET" "$WORK/idle.ready" <<'PY' &
import socket, sys, time
conns = []
for _ in range(600):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    conns.append(s)
open(sys.argv[2], "w").close()
time.sleep(15)
PY
IDLE_PID=$!
wait_for 10 test -e "$WORK/idle.ready" || fail "idle connections not made"
make_netns "$(pod_ns p1)"
START=$SECONDS
OUT=$(cni ADD p1 "$(pod_ns p1)")
RC=$?
check_eq "ADD while saturated: code 11" 11 "$(err_code "$OUT")"
check_eq "ADD while saturated: coild is busy" "coild is busy" "$(err_msg "$OUT")"
check "ADD while saturated answered within 5 s" test $((SECONDS - START)) -le 5
# The idle connections are closed by the daemon after 5 s; the next ADD is served.
sleep 5
OUT=$(cni ADD p1 "$(pod_ns p1)")
check_eq "ADD after the idle connections timed out" 0 "$?"
check "ADD got an address" test -n "$(ips_of "$OUT" 4)"
kill "$IDLE_PID" 2>/dev/null
wait "$IDLE_PID" 2>/dev/null
check_eq "DEL" 0 "$(del_pod p1 >/dev/null; echo $?)"
finish
