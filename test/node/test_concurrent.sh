#!/bin/bash
# 50 plugin invocations at once, as a runtime starting many pods (no lock across ADDs):
# every ADD succeeds with distinct addresses, the node takes exactly the blocks it needs
# (50 addresses with blockSizeBits 5 = 2 blocks), and 50 concurrent DELs leave nothing.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

N=50
for i in $(seq "$N"); do
	make_netns "$(pod_ns "p$i")"
done

PODS=()
for i in $(seq "$N"); do PODS+=("p$i"); done
run_all() { # run_all COMMAND: the plugin for every pod in parallel
	spawn_cni "$1" "${PODS[@]}"
	wait_jobs
}
succeeded() {
	local p n=0
	for p in "${PODS[@]}"; do
		if spawned_ok "$1" "$p"; then n=$((n + 1)); else log "$1 $p: $(spawned_out "$1" "$p")"; fi
	done
	echo "$n"
}

start=$SECONDS
run_all ADD
log "$N concurrent ADDs took $((SECONDS - start)) s"
check_eq "$N concurrent ADDs succeed" "$N" "$(succeeded ADD)"

results_ips() {
	local i
	for i in $(seq "$N"); do
		ips_of "$(spawned_out ADD "p$i")" "$1"
	done
}
check_eq "$N IPv4 addresses in the results" "$N" "$(results_ips 4 | sort -u | wc -l)"
check_eq "$N IPv6 addresses in the results" "$N" "$(results_ips 6 | sort -u | wc -l)"
check_eq "$((2 * N)) distinct addresses on the pods' eth0" "$((2 * N))" \
	"$(pod_addresses | awk '{print $1}' | sort -u | wc -l)"
check_eq "each pod holds the addresses of its result" "" "$(for i in $(seq "$N"); do
	want=$(ips_of "$(spawned_out ADD "p$i")" 4; ips_of "$(spawned_out ADD "p$i")" 6)
	got=$(ip -n "$(pod_ns "p$i")" -j addr show dev eth0 |
		jq -r '.[0].addr_info[] | select(.scope=="global") | .local')
	[ "$(sort <<<"$want")" == "$(sort <<<"$got")" ] || echo "p$i"
done)"
check_eq "$N aliased host veths" "$N" "$(aliased_veths | wc -l)"
check_eq "$N IPv4 routes in table 116" "$N" "$(table_routes 4 116 | wc -l)"
check_eq "$N IPv6 routes in table 116" "$N" "$(table_routes 6 116 | wc -l)"
check_eq "$N allocation records" "$N" "$(allocation_count)"
check_eq "exactly 2 blocks acquired" "default-0 default-1" \
	"$(jq -r '[.blocks[].name] | sort | join(" ")' "$STATE/blocks.json")"
check_eq "table 119: the 2 IPv4 blocks" "10.100.0.0/27 lo,10.100.0.32/27 lo" \
	"$(table_routes 4 119 | sort | paste -sd,)"
check_eq "table 119: the 2 IPv6 blocks" "fd00:100::/123 lo,fd00:100::20/123 lo" \
	"$(table_routes 6 119 | sort | paste -sd,)"

start=$SECONDS
run_all DEL
log "$N concurrent DELs took $((SECONDS - start)) s"
check_eq "$N concurrent DELs succeed" "$N" "$(succeeded DEL)"
check_node_empty "after $N DELs"
check_eq "no veth left" "" "$(all_veths)"
check_eq "no eth0 left in the pods" "" "$(pod_addresses)"

finish
