#!/bin/bash
# Error paths of the plugin and the daemon (docs/behaviour/cni-plugin.md and daemon.md,
# 'Errors'): idempotent and lenient DEL, malformed input with its CNI error codes, an
# unreachable daemon, a failed ADD that must leave nothing, pool exhaustion, STATUS and GC.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

# plugin NETCONF VAR=VALUE...: the plugin with exactly these environment variables.
plugin() {
	local conf=$1
	shift
	in_node env -i PATH="$PATH" "$@" "$COIL" <<<"$conf"
}
# The environment of a well-formed ADD of container c1 (each case breaks one thing; all of
# them fail before the daemon is asked).
ENV_OK=(CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/var/run/netns/none CNI_IFNAME=eth0
	CNI_PATH=/usr/lib/cni "CNI_ARGS=K8S_POD_NAMESPACE=default;K8S_POD_NAME=c1")

# expect_error DESCRIPTION CODE [MSG] -- CMD...: CMD must exit 1 printing an error document
# with CODE (and MSG when given).
expect_error() {
	local what=$1 code=$2 msg=
	shift 2
	if [ "$1" != -- ]; then
		msg=$1
		shift
	fi
	shift
	local out rc
	out=$("$@")
	rc=$?
	local got want="1 $code"
	got="$rc $(err_code "$out")"
	if [ -n "$msg" ]; then
		got+=" $(err_msg "$out")"
		want+=" $msg"
	fi
	check_eq "$what [$out]" "$want" "$got"
}

nothing_of() { # nothing_of LABEL CONTAINER-ID: no veth, no record, no route of that container
	check_eq "$1: no aliased veth of $2" "" "$(host_veth_of "$2")"
	check_eq "$1: no allocation record of $2" "" "$(settled "" record_of "$2")"
}

# --- a failed ADD leaves nothing (veth, route, address); runs first so the pool is fresh ---
touch "$WORK/not-a-netns"
expect_error "ADD into a regular file: 999" 999 "failed to setup pod network IPAM" -- \
	cni ADD bad1 "$WORK/not-a-netns"
expect_error "ADD into a missing path: 999" 999 -- cni ADD bad2 "$WORK/missing-netns"
nothing_of "after failed ADDs" bad1
nothing_of "after failed ADDs" bad2
check_eq "after failed ADDs: no veth at all" "" "$(all_veths)"
check_eq "after failed ADDs: table 116 empty" "" "$(table_routes 4 116)$(table_routes 6 116)"
check_eq "after failed ADDs: no allocation" 0 "$(allocation_count)"
add_pod first
check_eq "ADD after the failed ones" 0 "$RC"
check_eq "ADD after the failed ones gets the pool's first addresses" "10.100.0.0 fd00:100::" \
	"$(ips_of "$OUT" 4) $(ips_of "$OUT" 6)"

# --- a repeated ADD (runtime retry) keeps the addresses and replaces the veth --------------
first_out=$OUT
first_veth=$(host_veth_of first)
first_index=$(link_attr "$NODE" "$first_veth" .ifindex)
OUT=$(cni ADD first "$(pod_ns first)")
check_eq "repeated ADD succeeds" 0 "$?"
check_eq "repeated ADD: same addresses" "$(ips_of "$first_out" 4) $(ips_of "$first_out" 6)" \
	"$(ips_of "$OUT" 4) $(ips_of "$OUT" 6)"
check_eq "repeated ADD: exactly one veth, the new one" "$(jq -r '.interfaces[1].name' <<<"$OUT")" \
	"$(all_veths)"
# The same name (it is the attachment's) on a new link.
check "repeated ADD: old veth #$first_index gone" \
	[ "$first_index" != "$(link_attr "$NODE" "$(all_veths)" .ifindex)" ]
check_eq "repeated ADD: one allocation record" 1 "$(allocation_count)"
check "repeated ADD: pod pings the node" in_pod first ping -c1 -W2 -q "$NODE_IPV4" >/dev/null

# --- DEL is idempotent and needs neither the netns nor a known container -------------------
check_eq "DEL" "0:" "$(o=$(del_pod first); echo "$?:$o")"
check_eq "second DEL" "0:" "$(o=$(del_pod first); echo "$?:$o")"
nothing_of "after DEL twice" first

add_pod gone
check_eq "ADD of pod 'gone'" 0 "$RC"
del_netns "$(pod_ns gone)"
check_eq "DEL with the pod netns deleted" "0:" "$(o=$(cni DEL gone "$(pod_ns gone)"); echo "$?:$o")"
nothing_of "after DEL without netns" gone

add_pod nonetns
check_eq "ADD of pod 'nonetns'" 0 "$RC"
check_eq "DEL with empty CNI_NETNS" "0:" "$(o=$(cni DEL nonetns ""); echo "$?:$o")"
nothing_of "after DEL with empty CNI_NETNS" nonetns
check_not "after DEL with empty CNI_NETNS: pod eth0 gone" link_exists "$(pod_ns nonetns)" eth0

check_eq "DEL of an unknown container" "0:" "$(o=$(cni DEL never-seen "$(pod_ns nonetns)")
	echo "$?:$o")"
check_node_empty "after the DELs"

# --- malformed input: environment, netconf, CNI_ARGS, with libcni's codes -----------------
expect_error "netconf not JSON: 6" 6 -- plugin 'not json' "${ENV_OK[@]}"
expect_error "netconf without name: 7" 7 "missing network name" -- \
	plugin "{\"cniVersion\":\"1.0.0\",\"type\":\"coil\",\"socket\":\"$SOCKET\"}" "${ENV_OK[@]}"
expect_error "netconf with unsupported version 0.2.0: 1" 1 "incompatible CNI versions" -- \
	plugin "$(netconf 0.2.0)" "${ENV_OK[@]}"
expect_error "netconf with unsupported version 9.9.9: 1" 1 "incompatible CNI versions" -- \
	plugin "$(netconf 9.9.9)" "${ENV_OK[@]}"
expect_error "netconf without cniVersion: 1" 1 "incompatible CNI versions" -- \
	plugin "{\"name\":\"k8s-pod-network\",\"type\":\"coil\",\"socket\":\"$SOCKET\"}" \
	"${ENV_OK[@]}"
no_id=()
for e in "${ENV_OK[@]}"; do [[ $e == CNI_CONTAINERID=* ]] || no_id+=("$e"); done
expect_error "missing CNI_CONTAINERID: 4" 4 "required env variables [CNI_CONTAINERID] missing" -- \
	plugin "$(netconf)" "${no_id[@]}"
expect_error "invalid CNI_CONTAINERID: 4" 4 "invalid characters in containerID" -- \
	plugin "$(netconf)" "${ENV_OK[@]}" "CNI_CONTAINERID=-bad/id"
expect_error "CNI_ARGS with an invalid pair: 4" 4 "failed to load CNI_ARGS" -- \
	plugin "$(netconf)" "${ENV_OK[@]}" "CNI_ARGS=K8S_POD_NAME=a=b"
expect_error "CNI_ARGS with an unknown key: 4" 4 "failed to load CNI_ARGS" -- \
	plugin "$(netconf)" "${ENV_OK[@]}" "CNI_ARGS=FOO=bar;K8S_POD_NAME=c1"
expect_error "ifname with a slash: 4" 4 -- plugin "$(netconf)" "${ENV_OK[@]}" CNI_IFNAME=eth/0
expect_error "ifname too long: 4" 4 "interface name is too long" -- \
	plugin "$(netconf)" "${ENV_OK[@]}" CNI_IFNAME=averyveryverylongname
expect_error "ifname '..': 4" 4 -- plugin "$(netconf)" "${ENV_OK[@]}" CNI_IFNAME=..
expect_error "unknown CNI_COMMAND: 4" 4 -- plugin "$(netconf)" "${ENV_OK[@]}" CNI_COMMAND=FOO
expect_error "GC with cniVersion 1.0.0: 1" 1 "config version does not allow GC" -- \
	plugin "$(netconf 1.0.0)" CNI_COMMAND=GC CNI_PATH=/usr/lib/cni
check_eq "VERSION" '["0.3.1","0.4.0","1.0.0","1.1.0"]' \
	"$(plugin '' CNI_COMMAND=VERSION | jq -c .supportedVersions)"
check_node_empty "after malformed input"

# --- pool exhaustion: v4 has 16 addresses in 4 blocks of 4 ----------------------------------
ok=0
for i in $(seq 16); do
	add_pod "full$i" ns-v4
	[ "$RC" -ne 0 ] || ok=$((ok + 1))
done
check_eq "16 ADDs in the 16-address pool v4" 16 "$ok"
check_eq "pool v4 holds 4 blocks" 4 "$(jq '[.blocks[] | select(.pool=="v4")] | length' \
	"$STATE/blocks.json")"
add_pod full17 ns-v4
check_eq "17th ADD in pool v4 fails with 999 [$OUT]" "1 999 failed to allocate address" \
	"$RC $(err_code "$OUT") $(err_msg "$OUT")"
nothing_of "after the 17th ADD" full17
check_not "after the 17th ADD: no eth0 in its netns" link_exists "$(pod_ns full17)" eth0
check_eq "after the 17th ADD: 16 veths" 16 "$(all_veths | wc -l)"
check_eq "after the 17th ADD: 16 records" 16 "$(allocation_count)"
ok=0
for i in $(seq 16); do
	del_pod "full$i" >/dev/null && ok=$((ok + 1))
done
check_eq "16 DELs" 16 "$ok"
check_node_empty "after emptying pool v4"

# --- the daemon is not running: code 11, quickly ------------------------------------------
start=$(date +%s%N)
expect_error "socket that does not exist: 11" 11 -- \
	cni ADD c1 "$(pod_ns full1)" default eth0 \
	"$(netconf 1.0.0 | jq -c --arg s "$WORK/nowhere.sock" '.socket=$s')"
kill_daemon # leaves its socket file behind, which now refuses connections
check "socket file left by the killed daemon" [ -S "$SOCKET" ]
expect_error "daemon killed (socket refuses): 11" 11 -- cni ADD c1 "$(pod_ns full1)"
stop_daemon
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "unreachable daemon reported quickly (${elapsed_ms} ms < 2000)" [ "$elapsed_ms" -lt 2000 ]

# --- STATUS (1.1.0): code 50 when the default pool cannot serve an ADD ----------------------
cat >"$WORK/tiny.yaml" <<'EOF'
apiVersion: coil.cybozu.com/v2
kind: AddressPool
metadata:
  name: default
spec:
  blockSizeBits: 1
  subnets:
    - ipv4: 10.250.0.0/31
EOF
POOLS=$WORK/tiny.yaml STATE=$WORK/state-tiny
start_daemon || die "daemon did not start with the tiny pool"
status() { cni STATUS "" "" default eth0 "$(netconf 1.1.0)"; }
check_eq "STATUS with a free pool" "0:" "$(o=$(status); echo "$?:$o")"
add_pod tiny1
check_eq "tiny pool: first ADD" 0 "$RC"
add_pod tiny2
check_eq "tiny pool: second ADD" 0 "$RC"
expect_error "STATUS with the default pool exhausted: 50" 50 -- status
check_eq "tiny pool: DEL" "0:" "$(o=$(del_pod tiny2); echo "$?:$o")"
check_eq "STATUS after a DEL" "0:" "$(o=$(status); echo "$?:$o")"
check_eq "tiny pool: DEL" "0:" "$(o=$(del_pod tiny1); echo "$?:$o")"
check_node_empty "tiny pool at the end"

finish
