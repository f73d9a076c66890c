#!/bin/bash
# Pod lifecycle on one node for dual-stack, IPv4-only and IPv6-only pools and every CNI
# version a runtime may use: ADD (result shape), CHECK, STATUS, the exact kernel state of
# docs/behaviour/daemon.md ('Kernel state'), connectivity, DEL and CHECK after DEL; /metrics,
# /healthz and /readyz of the daemon.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

KINDS=(dual v4 v6)
VERSIONS=(0.4.0 1.0.0 1.1.0)
declare -A POD_NS=([dual]=default [v4]=ns-v4 [v6]=ns-v6)
declare -A POOL=([dual]=default [v4]=v4 [v6]=v6)
declare -A RESULT VERSION KIND

has4() { [ "$1" != v6 ]; }
has6() { [ "$1" != v4 ]; }

# The result of ADD in the shape of its cniVersion (0.3.1/0.4.0 with per-IP versions).
check_result_shape() { # NAME
	local p=$1 r=${RESULT[$1]} v=${VERSION[$1]} k=${KIND[$1]}
	local ns hv
	ns=$(pod_ns "$p")
	hv=$(host_veth_of "$p")
	check_eq "$p: cniVersion" "$v" "$(jq -r .cniVersion <<<"$r")"
	local keys='["cniVersion","interfaces","ips"]'
	[ "$v" != 0.4.0 ] || keys='["cniVersion","dns","interfaces","ips"]'
	check_eq "$p: top-level keys" "$keys" "$(jq -c 'keys' <<<"$r")"
	[ "$v" != 0.4.0 ] || check_eq "$p: empty dns" '{}' "$(jq -c .dns <<<"$r")"
	check_eq "$p: interfaces" \
		"eth0 $(link_attr "$ns" eth0 .address) /var/run/netns/$ns|$hv $(
			link_attr "$NODE" "$hv" .address) null" \
		"$(jq -r '[.interfaces[] | "\(.name) \(.mac) \(.sandbox)"] | join("|")' <<<"$r")"
	local want=() ip
	if has4 "$k"; then
		ip=$(ips_of "$r" 4)
		[ "$v" == 0.4.0 ] && want+=("4 0 $ip/32") || want+=("null 0 $ip/32")
	fi
	if has6 "$k"; then
		ip=$(ips_of "$r" 6)
		[ "$v" == 0.4.0 ] && want+=("6 0 $ip/128") || want+=("null 0 $ip/128")
	fi
	local IFS='|'
	check_eq "$p: ips (v4 first, full-length prefixes)" "${want[*]}" \
		"$(jq -r '[.ips[] | "\(.version) \(.interface) \(.address)"] | join("|")' <<<"$r")"
	unset IFS
	check_eq "$p: keys of ips" "$( [ "$v" == 0.4.0 ] && echo '["address","interface","version"]' ||
		echo '["address","interface"]')" "$(jq -c '[.ips[] | keys] | unique | .[0]' <<<"$r")"
}

# The kernel state of one pod: veth alias, addresses, tables 116 and main, rule 2000.
check_pod_kernel() { # NAME
	local p=$1 k=${KIND[$1]} r=${RESULT[$1]}
	local hv v4 v6 link
	hv=$(host_veth_of "$p")
	v4=$(ips_of "$r" 4)
	v6=$(ips_of "$r" 6)
	check "$p: host veth with alias COIL:${POOL[$k]}:$p:eth0 exists" [ -n "$hv" ]
	[ -n "$hv" ] || return
	link=$(ip -n "$NODE" -j -d link show dev "$hv")
	check_eq "$p: host veth alias" "COIL:${POOL[$k]}:$p:eth0" "$(jq -r '.[0].ifalias' <<<"$link")"
	check_eq "$p: host veth up" "UP" "$(jq -r '.[0].flags | map(select(.=="UP")) | .[0]' <<<"$link")"
	# /proc/sys/net shows the netns of the reader: read it from inside the node.
	check_eq "$p: host veth accept_ra" 0 "$(in_node cat "/proc/sys/net/ipv6/conf/$hv/accept_ra")"

	local want_host=() want_pod=()
	has4 "$k" && want_host+=("$NODE_IPV4/32 global") && want_pod+=("$v4/32 global")
	has6 "$k" && want_host+=("$NODE_IPV6/128 global") && want_pod+=("$v6/128 global")
	local q='[.[0].addr_info[] | select(.scope != "link") | "\(.local)/\(.prefixlen) \(.scope)"]
		| sort | join(",")'
	check_eq "$p: host veth addresses" "$(printf '%s\n' "${want_host[@]}" | sort | paste -sd,)" \
		"$(ip -n "$NODE" -j addr show dev "$hv" | jq -r "$q")"
	check_eq "$p: pod eth0 addresses" "$(printf '%s\n' "${want_pod[@]}" | sort | paste -sd,)" \
		"$(ip -n "$(pod_ns "$p")" -j addr show dev eth0 | jq -r "$q")"
	check_eq "$p: MTU equal on both ends" "$(link_attr "$NODE" "$hv" .mtu)" \
		"$(link_attr "$(pod_ns "$p")" eth0 .mtu)"

	# Host side: the pod's /32 and /128 in table 116, proto 30, scope link.
	if has4 "$k"; then
		check_eq "$p: table 116 IPv4 route" "$v4 $hv 30 link" "$(ip -n "$NODE" -4 -j route show \
			table 116 "$v4/32" | jq -r '.[] | "\(.dst) \(.dev) \(.protocol) \(.scope)"')"
		check_eq "$p: pod IPv4 routes" \
			"$NODE_IPV4 eth0 link null|default eth0 null $NODE_IPV4" \
			"$(ip -n "$(pod_ns "$p")" -4 -j route show | jq -r '[.[] |
			"\(.dst) \(.dev) \(.scope // "null") \(.gateway // "null")"] | sort | join("|")')"
	else
		check_eq "$p: no pod IPv4 routes" "" "$(ip -n "$(pod_ns "$p")" -4 route show)"
	fi
	if has6 "$k"; then
		local ll
		ll=$(ip -n "$NODE" -6 -j addr show dev "$hv" |
			jq -r '[.[0].addr_info[] | select(.scope == "link") | .local][0]')
		check_eq "$p: table 116 IPv6 route" "$v6 $hv 30" "$(ip -n "$NODE" -6 -j route show \
			table 116 "$v6/128" | jq -r '.[] | "\(.dst) \(.dev) \(.protocol)"')"
		check_eq "$p: pod IPv6 default route via the host veth's link-local" "$ll eth0" \
			"$(ip -n "$(pod_ns "$p")" -6 -j route show default |
				jq -r '.[] | "\(.gateway) \(.dev)"')"
	else
		check_eq "$p: no pod IPv6 default route" "" "$(ip -n "$(pod_ns "$p")" -6 route show default)"
	fi
}

# Table 119 holds exactly this node's blocks of blocks.json, proto 30 dev lo.
check_export_table() { # LABEL
	local fam field
	for fam in 4 6; do
		field=ipv$fam
		check_eq "$1: table 119 IPv$fam = blocks of the state dir" \
			"$(jq -r --arg f "$field" '.blocks[][$f] // empty | "\(.) lo 30"' \
				"$STATE/blocks.json" | sort | paste -sd,)" \
			"$(ip -n "$NODE" -"$fam" -j route show table 119 |
				jq -r '.[] | "\(.dst) \(.dev) \(.protocol)"' | sort | paste -sd,)"
	done
}

ping_ok() { # ping_ok NAME ADDRESS
	in_pod "$1" ping -c1 -W2 -q "$2" >/dev/null 2>&1
}

check_eq "STATUS (1.1.0) before any pod" 0 "$(cni STATUS "" "" default eth0 "$(netconf 1.1.0)" \
	>/dev/null; echo $?)"
check_eq "rule 2000 lookup 116 (IPv4)" "2000 116" \
	"$(ip -n "$NODE" -4 -j rule | jq -r '.[] | select(.priority==2000) | "\(.priority) \(.table)"')"
check_eq "rule 2000 lookup 116 (IPv6)" "2000 116" \
	"$(ip -n "$NODE" -6 -j rule | jq -r '.[] | select(.priority==2000) | "\(.priority) \(.table)"')"

PODS=()
LAST4='' LAST6=''
for k in "${KINDS[@]}"; do
	for v in "${VERSIONS[@]}"; do
		p="$k-${v//./}"
		add_pod "$p" "${POD_NS[$k]}" "$(netconf "$v")"
		out=$OUT rc=$RC
		check_eq "$p: ADD (cniVersion $v) exit status [$out]" 0 "$rc"
		[ "$rc" -eq 0 ] || continue
		PODS+=("$p")
		RESULT[$p]=$out VERSION[$p]=$v KIND[$p]=$k
		# Connectivity right after ADD: to the node, then to an earlier pod.
		if has4 "$k"; then
			check "$p: ping node $NODE_IPV4" ping_ok "$p" "$NODE_IPV4"
			[ -z "$LAST4" ] || check "$p: ping pod $LAST4" ping_ok "$p" "$LAST4"
			LAST4=$(ips_of "$out" 4)
		fi
		if has6 "$k"; then
			check "$p: ping node $NODE_IPV6" ping_ok "$p" "$NODE_IPV6"
			[ -z "$LAST6" ] || check "$p: ping pod $LAST6" ping_ok "$p" "$LAST6"
			LAST6=$(ips_of "$out" 6)
		fi
		check_result_shape "$p"
		check_pod_kernel "$p"
		prev=$(netconf "$v" "\"prevResult\":$out")
		check_eq "$p: CHECK ($v)" "0:" "$(o=$(cni CHECK "$p" "$(pod_ns "$p")" "${POD_NS[$k]}" \
			eth0 "$prev"); echo "$?:$o")"
	done
done
check_eq "all 9 pods added" 9 "${#PODS[@]}"
check_eq "addresses are distinct" "" "$(pod_addresses | awk '{print $1}' | sort | uniq -d)"
check_eq "one block per pool in blocks.json" "default v4 v6" \
	"$(jq -r '[.blocks[].pool] | sort | join(" ")' "$STATE/blocks.json")"
check_export_table "with pods"
check_eq "STATUS (1.1.0) with pods" 0 "$(cni STATUS "" "" default eth0 "$(netconf 1.1.0)" \
	>/dev/null; echo $?)"

# The daemon's HTTP endpoints.
metrics=$(http_get "$METRICS_PORT" /metrics)
check_eq "/metrics answers 200" 200 "$(head -n1 <<<"$metrics" | awk '{print $2}')"
adds=$(grep '^grpc_server_handled_total{' <<<"$metrics" | grep 'grpc_method="Add"' |
	grep 'grpc_code="OK"' | grep 'grpc_service="pkg.cnirpc.CNI"' | awk '{print $2}')
check "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Add\"} >= 9 (got [$adds])" \
	awk -v n="${adds:-0}" 'BEGIN { exit !(n >= 9) }'
check_eq "/healthz answers 200" 200 "$(http_status "$HEALTH_PORT" /healthz)"
check_eq "/readyz answers 200" 200 "$(http_status "$HEALTH_PORT" /readyz)"

# DEL, one kind after the other: a pool's block goes away with its last pod.
for k in "${KINDS[@]}"; do
	for p in "${PODS[@]}"; do
		[ "${KIND[$p]}" == "$k" ] || continue
		hv=$(host_veth_of "$p")
		prev=$(netconf "${VERSION[$p]}" "\"prevResult\":${RESULT[$p]}")
		check_eq "$p: DEL" "0:" "$(o=$(cni DEL "$p" "$(pod_ns "$p")" "${POD_NS[$k]}" eth0 \
			"$prev"); echo "$?:$o")"
		check_eq "$p: host veth gone" "" "$(all_veths | grep -x "$hv")"
		check_not "$p: pod eth0 gone" link_exists "$(pod_ns "$p")" eth0
		for ip in $(ips_of "${RESULT[$p]}" 4) $(ips_of "${RESULT[$p]}" 6); do
			check_eq "$p: table 116 route of $ip gone" "" "$(table_routes 4 116 |
				grep "^$ip "; table_routes 6 116 | grep "^$ip ")"
		done
		out=$(cni CHECK "$p" "$(pod_ns "$p")" "${POD_NS[$k]}" eth0 "$(netconf "${VERSION[$p]}")")
		check_eq "$p: CHECK after DEL fails with 999 check failed" "1 999 check failed" \
			"$? $(err_code "$out") $(err_msg "$out")"
	done
	check_eq "pool ${POOL[$k]}: block released after its last DEL" "" \
		"$(jq -r --arg p "${POOL[$k]}" '.blocks[] | select(.pool==$p) | .name' \
			"$STATE/blocks.json")"
	check_export_table "after DEL of the $k pods"
done
check_node_empty "after DEL"
check_eq "no veth left" "" "$(all_veths)"

finish
