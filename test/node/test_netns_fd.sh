#!/bin/bash
# The pod netns travels as a descriptor. A runtime started under `ip netns exec` lives in a
# mount namespace of its own (ip makes it a slave of the host's): the netns it makes with
# `ip netns add` is mounted there only, and the daemon, in the host's mount namespace, sees
# an empty file at that path. The plugin opens the netns where the runtime runs and sends the
# descriptor with its request (SCM_RIGHTS), so that ADD works. A plugin from before sends
# the path only: a relay that forwards the plugin's bytes but drops the descriptor stands in
# for it, and shows both that such a plugin still works with a netns the daemon can see, and
# that the path alone fails for the hidden one (the failure this fixes).
source "$(dirname "$0")/lib.sh"
init_test python3
setup_node

RELAY=$WORK/relay.sock
HIDDEN=$(pod_ns hidden)

# The relay (in the node netns, like the plugin): per connection, the request as bytes
# (socket.recv drops any SCM_RIGHTS descriptor), forwarded to the daemon, the answer back.
nsenter --net="/var/run/netns/$NODE" python3 - "$RELAY" "$SOCKET" <<'PY' &
import socket, sys
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen(8)
def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
while True:
    c, _ = srv.accept()
    request = read_all(c)
    d = socket.socket(socket.AF_UNIX)
    d.connect(sys.argv[2])
    d.sendall(request)
    d.shutdown(socket.SHUT_WR)
    c.sendall(read_all(d))
    d.close()
    c.close()
PY
RELAY_PID=$!
wait_for 10 test -S "$RELAY" || fail "the relay did not start"
RELAYED=$(netconf 1.0.0 | jq -c --arg s "$RELAY" '.socket = $s')

# --- a path-only plugin and a netns the daemon sees ---------------------------------------
make_netns "$(pod_ns seen)"
OUT=$(cni ADD seen "$(pod_ns seen)" default eth0 "$RELAYED")
check_eq "path-only ADD (a plugin from before) succeeds" 0 "$?"
check "path-only ADD got an address" test -n "$(ips_of "$OUT" 4)"
check_eq "path-only DEL" 0 "$(cni DEL seen "$(pod_ns seen)" default eth0 "$RELAYED" >/dev/null; echo $?)"

# --- a runtime under `ip netns exec`: its netns mount is hidden from the daemon -----------
# plugin OUTFILE CONTAINER NETCONF COMMAND: the plugin as the runtime calls it.
RUNTIME_SCRIPT='
set -u
plugin() {
	env -i PATH="$PATH" CNI_COMMAND="$4" CNI_CONTAINERID="$2" \
		CNI_NETNS="/var/run/netns/$HIDDEN" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2" \
		"$COIL" <<<"$3" >"$WORK/$1.out"
	echo $? >"$WORK/$1.rc"
}
ip netns add "$HIDDEN" || exit 1
ip -n "$HIDDEN" link set lo up
touch "$WORK/hidden.made"
plugin relayed hidden "$RELAYED" ADD
plugin direct hidden "$DIRECT" ADD
ip -n "$HIDDEN" -j addr show dev eth0 >"$WORK/eth0.json" 2>/dev/null
plugin del hidden "$DIRECT" DEL
ip netns del "$HIDDEN"
'
HIDDEN=$HIDDEN WORK=$WORK COIL=$COIL RELAYED=$RELAYED DIRECT=$(netconf) \
	ip netns exec "$NODE" bash -c "$RUNTIME_SCRIPT"
check_eq "the runtime made its netns" 0 "$?"
check "the runtime's netns was made" test -e "$WORK/hidden.made"
# What the daemon's mount namespace holds at that path: no netns (an empty file, if any).
check_not "the daemon's mount namespace cannot enter it" \
	nsenter --net="/var/run/netns/$HIDDEN" true 2>/dev/null
rm -f "/var/run/netns/$HIDDEN"

check_eq "path-only ADD of the hidden netns fails" 1 "$(cat "$WORK/relayed.rc")"
check "path-only ADD: the daemon could not open the path" \
	grep -q "failed to open netns path /var/run/netns/$HIDDEN" "$WORK/relayed.out"
check_eq "ADD with the descriptor succeeds" 0 "$(cat "$WORK/direct.rc")"
ADDRESS=$(ips_of "$(cat "$WORK/direct.out")" 4)
check "ADD with the descriptor got an address" test -n "$ADDRESS"
check_eq "the pod's eth0 has it" "$ADDRESS" \
	"$(jq -r '.[0].addr_info[] | select(.family == "inet") | .local' "$WORK/eth0.json")"
check_eq "the result names the path as the sandbox" "/var/run/netns/$HIDDEN" \
	"$(jq -r '.interfaces[] | select(.name == "eth0") | .sandbox' "$WORK/direct.out")"
check_eq "DEL" 0 "$(cat "$WORK/del.rc")"
check_eq "no veth left" "" "$(aliased_veths)"

kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
finish
