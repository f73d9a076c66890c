#!/bin/bash
# The static host plugin: `coil install` (COIL_PATH unset) puts coil-static, the build next
# to the full coil, into the CNI bin dir; ldd finds no shared library in it; run from a root
# directory holding nothing but that binary and the daemon's socket (as on a host without
# glibc or libmnl), it serves ADD and DEL for a pod of the standalone daemon, with the
# netns path as a runtime passes it. The kernel state of the pod is checked after ADD, and
# that nothing of it is left after DEL. Needs COIL (the full build, for the daemon and the
# installer) with coil-static next to it.
source "$(dirname "$0")/lib.sh"
init_test chroot ldd readelf
CHROOT_BIN=$(command -v chroot)
STATIC=$(dirname "$COIL")/coil-static
[ -x "$STATIC" ] || die "no static build next to $COIL (looked for $STATIC)"

# The empty root: the daemon's socket lives in its /run, so the plugin reaches it there.
ROOT=$WORK/root
mkdir -p "$ROOT/run" || die "mkdir $ROOT/run"
SOCKET=$ROOT/run/coild.sock
setup_node

# --- the installer picks the static build, and the result needs no library ---------------
CONFLIST='{"cniVersion":"1.0.0","name":"k8s-pod-network","plugins":[{"type":"coil","socket":"/run/coild.sock"}]}'
env -u COIL_PATH CNI_NETCONF="$CONFLIST" CNI_ETC_DIR="$WORK/host/etc" \
	CNI_BIN_DIR="$WORK/host/bin" "$COIL" install --sleep=0 2>"$WORK/install.log"
check_eq "coil install exits 0" 0 "$?"
INSTALLED=$WORK/host/bin/coil
check "the installed plugin is coil-static" cmp -s "$INSTALLED" "$STATIC"
ldd_out=$(ldd "$INSTALLED" 2>&1)
check "ldd: no shared library ($ldd_out)" \
	grep -Eq "not a dynamic executable|statically linked" <<<"$ldd_out"
check_not "no program interpreter" grep -q "INTERP" <<<"$(readelf -l "$INSTALLED")"
check "no dynamic section" grep -q "no dynamic section" <<<"$(readelf -d "$INSTALLED")"

cp "$INSTALLED" "$ROOT/coil" || die "copy into $ROOT"
check_eq "the root holds only the plugin and the socket dir" "coil run" \
	"$(ls -A "$ROOT" | paste -sd' ')"

# chroot_cni COMMAND ID NETNS-NAME: the plugin from the empty root, as a runtime runs it.
chroot_cni() {
	in_node env -i CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$3" \
		CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2" \
		"$CHROOT_BIN" "$ROOT" /coil <<<"$(netconf 1.0.0 | sed "s|$SOCKET|/run/coild.sock|")"
}

check "VERSION from the empty root" grep -q supportedVersions \
	<<<"$(in_node env -i CNI_COMMAND=VERSION "$CHROOT_BIN" "$ROOT" /coil </dev/null)"
out=$(in_node "$CHROOT_BIN" "$ROOT" /coil daemon 2>&1)
check_eq "the static build refuses the daemon (exit 2)" 2 "$?"
check "and says where the daemon is" grep -q "not in this static build" <<<"$out"

# --- ADD from the empty root: the pod's kernel state --------------------------------------
POD=static1
PODNS=$(pod_ns "$POD")
make_netns "$PODNS"
result=$(chroot_cni ADD "$POD" "$PODNS")
check_eq "ADD exits 0 ($result)" 0 "$?"
v4=$(ips_of "$result" 4)
v6=$(ips_of "$result" 6)
check "ADD gave an IPv4 and an IPv6 address" test -n "$v4" -a -n "$v6"
hv=$(host_veth_of "$POD")
check "host veth with the pod's alias" [ -n "$hv" ]
check_eq "pod eth0 addresses" "$v4/32,$v6/128" "$(ip -n "$PODNS" -j addr show dev eth0 |
	jq -r '[.[0].addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"] | sort | join(",")')"
check_eq "table 116 route to the pod" "$v4 $hv 30" "$(ip -n "$NODE" -4 -j route show table 116 \
	"$v4/32" | jq -r '.[] | "\(.dst) \(.dev) \(.protocol)"')"
check_eq "pod default route via the node" "$NODE_IPV4 eth0" "$(ip -n "$PODNS" -4 -j route show \
	default | jq -r '.[] | "\(.gateway) \(.dev)"')"
check "the node reaches the pod" in_node ping -c1 -W2 "$v4" >/dev/null
check_eq "one allocation record" 1 "$(allocation_count)"

# --- DEL from the empty root: nothing is left ---------------------------------------------
chroot_cni DEL "$POD" "$PODNS" >/dev/null
check_eq "DEL exits 0" 0 "$?"
check_not "pod eth0 gone" link_exists "$PODNS" eth0
check_eq "no aliased veth" "" "$(aliased_veths)"
check_eq "table 116 IPv4 empty" "" "$(table_routes 4 116)"
check_eq "table 116 IPv6 empty" "" "$(table_routes 6 116)"
check_eq "no allocation record" 0 "$(settled 0 allocation_count)"
chroot_cni DEL "$POD" "$PODNS" >/dev/null
check_eq "a second DEL exits 0" 0 "$?"

finish
