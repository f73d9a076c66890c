#!/bin/bash
# Start-up of `coil ipam-controller` in a big cluster: the test API server holds NODES Nodes,
# BLOCKS_PER_NODE AddressBlocks per node (as the controller itself would have made them) and
# REQUESTS pending BlockRequests; one controller is started and the time until it has settled
# is measured: every request has a status and /metrics shows
# coil_controller_allocated_blocks{pool="default"} = NODES * BLOCKS_PER_NODE + REQUESTS.
#
#   bench/cluster/controller-scale.sh [--nodes 1000] [--blocks-per-node 4] [--requests 100]
#                                      (root; COIL= the coil binary, default build/cmd/coil)
#
# The API server and the controller run in a throw-away netns (fixed ports, nothing shared
# with the host). Printed: the time to fill the API server (not part of the figures), the
# time from the controller's start to leadership, to its last block allocation (its log) and
# to the settled state (polled every 100 ms), its VmRSS once settled and its VmHWM (peak), and
# how long one paged LIST of the AddressBlocks and of the Nodes takes the API server (curl,
# after the run): the floor under the start-up, which lists both before anything is carved;
# and the controller's CPU time until settled (its own share of the start-up).
set -euo pipefail

# shellcheck source=bench/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES=1000
BLOCKS_PER_NODE=4
REQUESTS=100
BLOCK_BITS=5
SETTLE_TIMEOUT=300
NS=cs$$-api

fill_api() {
	in_ns "$NS" "$PYTHON" "$BENCH_DIR/kubeobj.py" "$API_URL" scale --nodes "$NODES" \
		--blocks-per-node "$BLOCKS_PER_NODE" --requests "$REQUESTS" \
		--ipv4 10.64.0.0/12 --ipv6 fd00:64::/108 --block-bits "$BLOCK_BITS" ||
		die "filling the API server failed"
}

# unanswered_requests: BlockRequests without a status.
unanswered_requests() {
	api_get "$NS" "$GROUP_PATH/blockrequests" | jq '[.items[] | select(.status == null)] | length'
}

# settled: the gauge shows every block and no request waits. The gauge first: it costs the
# API server nothing.
settled() {
	alive "$CONTROLLER_PID" || die "coil ipam-controller exited"
	[[ $(allocated_blocks "$NS") == "$TOTAL_BLOCKS" ]] && [[ $(unanswered_requests) == 0 ]]
}

# log_seconds_after MESSAGE T0_MS first|last: seconds from T0 to the first or last
# controller log line with MESSAGE ("-" if none).
log_seconds_after() {
	jq -Rrn --arg m "$1" --arg pick "$3" '[inputs | fromjson? | select(.msg == $m) | .ts]
		| (if $pick == "first" then first else last end) // empty' "$WORK/controller.log" |
		awk -v t0="$2" 'NF {printf "%.2f", $1 - t0 / 1000; found = 1} END {if (!found) print "-"}'
}

# cpu_seconds PID: user + system CPU time the process has used so far.
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$1/stat"
}

# paged_list_ms PATH: milliseconds one paged LIST of PATH takes (pages of 500, as the
# controller's informers list), to tell the API server's share of the start-up.
paged_list_ms() {
	local t0 token="" page
	t0=$(now_ms)
	while :; do
		page=$(api_get "$NS" "$1?limit=500${token:+&continue=$token}")
		token=$(jq -r '.metadata.continue // empty | @uri' <<<"$page")
		[[ -n $token ]] || break
	done
	echo $(($(now_ms) - t0))
}

# check_result: every request got its own new block, the old ones are untouched.
check_result() {
	local blocks answered failed indexes
	blocks=$(api_get "$NS" "$GROUP_PATH/addressblocks")
	[[ $(jq '.items | length' <<<"$blocks") == "$TOTAL_BLOCKS" ]] ||
		die "$(jq '.items | length' <<<"$blocks") AddressBlocks, expected $TOTAL_BLOCKS"
	indexes=$(jq -c '[.items[].index] | sort == [range(0; length)]' <<<"$blocks")
	[[ $indexes == true ]] || die "the block indexes are not 0 .. $((TOTAL_BLOCKS - 1))"
	answered=$(api_get "$NS" "$GROUP_PATH/blockrequests" |
		jq '[.items[] | select(.status.addressBlockName)] | length')
	failed=$(api_get "$NS" "$GROUP_PATH/blockrequests" |
		jq '[.items[] | select(any(.status.conditions[]?; .type == "Failed"))] | length')
	((answered == REQUESTS && failed == 0)) ||
		die "$answered of $REQUESTS requests got a block, $failed failed"
}

parse_args() {
	while (($#)); do
		case $1 in
		--nodes) NODES=${2:?} && shift ;;
		--blocks-per-node) BLOCKS_PER_NODE=${2:?} && shift ;;
		--requests) REQUESTS=${2:?} && shift ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
		shift
	done
	[[ $NODES =~ ^[1-9][0-9]*$ && $BLOCKS_PER_NODE =~ ^[0-9]+$ && $REQUESTS =~ ^[0-9]+$ ]] ||
		die "--nodes, --blocks-per-node and --requests take numbers"
	((REQUESTS <= NODES)) || die "--requests may not exceed --nodes (one request per node)"
	TOTAL_BLOCKS=$((NODES * BLOCKS_PER_NODE + REQUESTS))
}

main() {
	local t0 fill_ms settle_ms rss hwm cpu_s leader_s first_s last_s blocks_ms nodes_ms
	parse_args "$@"
	init_bench
	make_netns "$NS"
	start_apiserver "$NS"
	log "filling the API server: $NODES Nodes, $((NODES * BLOCKS_PER_NODE)) AddressBlocks," \
		"$REQUESTS pending BlockRequests"
	t0=$(now_ms)
	fill_api
	fill_ms=$(($(now_ms) - t0))

	log "starting coil ipam-controller"
	t0=$(now_ms)
	start_controller "$NS"
	wait_until "$SETTLE_TIMEOUT" "the controller to settle ($TOTAL_BLOCKS blocks allocated)" settled
	settle_ms=$(($(now_ms) - t0))
	rss=$(proc_kib "$CONTROLLER_PID" VmRSS)
	hwm=$(proc_kib "$CONTROLLER_PID" VmHWM)
	cpu_s=$(cpu_seconds "$CONTROLLER_PID")
	leader_s=$(log_seconds_after "leader election: became leader" "$t0" first)
	first_s=$(log_seconds_after "allocated a block" "$t0" first)
	last_s=$(log_seconds_after "allocated a block" "$t0" last)
	check_result
	check_log_clean controller
	blocks_ms=$(paged_list_ms "$GROUP_PATH/addressblocks")
	nodes_ms=$(paged_list_ms /api/v1/nodes)

	echo
	echo "coil ipam-controller start-up: $NODES Nodes, $((NODES * BLOCKS_PER_NODE)) AddressBlocks," \
		"$REQUESTS pending BlockRequests (test API server), $(nproc) CPUs," \
		"load average $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '  %-44s %9s s\n' "filling the API server (not a figure)" "$(awk -v m="$fill_ms" 'BEGIN {printf "%.1f", m / 1000}')"
	printf '  %-44s %9s s\n' "start -> leader (its log)" "$leader_s" \
		"start -> first block allocated (its log)" "$first_s" \
		"start -> last block allocated (its log)" "$last_s"
	printf '  %-44s %9s s   (polled every 50 ms)\n' "start -> settled (all answered, gauge $TOTAL_BLOCKS)" \
		"$(awk -v m="$settle_ms" 'BEGIN {printf "%.2f", m / 1000}')"
	printf '  %-44s %9s s\n' "controller CPU time until settled (user+sys)" "$cpu_s"
	printf '  %-44s %9s s   (curl, pages of 500, after the run)\n' \
		"API server: one LIST of the AddressBlocks" "$(awk -v m="$blocks_ms" 'BEGIN {printf "%.2f", m / 1000}')" \
		"API server: one LIST of the Nodes" "$(awk -v m="$nodes_ms" 'BEGIN {printf "%.2f", m / 1000}')"
	printf '  %-44s %9s MiB\n' "VmRSS once settled" "$(mib "$rss")" "VmHWM (peak)" "$(mib "$hwm")"
}

main "$@"
