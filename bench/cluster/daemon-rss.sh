#!/bin/bash
# Where the node daemon's memory goes: `coil daemon` in Kubernetes mode (test API server, one
# ipam-controller handing out the blocks) serves PODS ADDs, then its memory is broken down
# from /proc/PID/smaps_rollup and /proc/PID/smaps: VmRSS and VmHWM, anonymous against file
# pages, Pss and private dirty/clean against shared clean, the shared libraries it mapped
# (and which TLS libraries among them), and the mappings that cost the most. The metrics endpoint is scraped once first, as Prometheus
# would, so its cost is in the figure.
#
#   bench/cluster/daemon-rss.sh [--pods N] [--top N] [--max-mib M]
#                              (root; COIL= the coil binary, default build/cmd/coil)
#
# With --max-mib the script fails when VmRSS after the ADDs exceeds M MiB.
set -euo pipefail

# shellcheck source=bench/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PODS=100
TOP=12
MAX_MIB=""
NODE_NAME=rss-node
POD_NAMESPACE=rss
TAG=dr$$
NODE_NS=$TAG-node
POD_NS_PREFIX=$TAG-pod-

# rollup FIELD: a line of smaps_rollup in KiB.
rollup() {
	awk -v f="$1:" '$1 == f {print $2}' "/proc/$DAEMON_PID/smaps_rollup"
}

# libraries: the shared objects mapped, one a line.
libraries() {
	awk '$6 ~ /\.so/ {print $6}' "/proc/$DAEMON_PID/maps" | sort -u
}

# top_mappings: Rss and private dirty KiB per mapping name (anonymous ones as [anon]),
# summed, largest Rss first.
top_mappings() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / {name = (NF >= 6) ? $6 : "[anon]"; next}
	     $1 == "Rss:" {rss[name] += $2}
	     $1 == "Private_Dirty:" {dirty[name] += $2}
	     END {for (n in rss) if (rss[n] > 0)
	              printf "%8d KiB %6d dirty  %s\n", rss[n], dirty[n], n}' \
		"/proc/$DAEMON_PID/smaps" | sort -rn | head -n "$TOP"
}

report() {
	local rss hwm tls nlibs
	rss=$(proc_kib "$DAEMON_PID" VmRSS)
	hwm=$(proc_kib "$DAEMON_PID" VmHWM)
	nlibs=$(libraries | wc -l)
	tls=$(libraries | grep -E 'lib(ssl|crypto|gnutls|nettle|hogweed)[.-]' |
		xargs -rn1 basename | paste -sd' ')
	echo
	echo "coil daemon memory: Kubernetes mode, $PODS pods, $(nproc) CPUs"
	printf '  %-30s %8s MiB\n' "VmRSS after the ADDs" "$(mib "$rss")" \
		"VmHWM" "$(mib "$hwm")" "anonymous" "$(mib "$(rollup Anonymous)")" \
		"file-backed (Rss - Anonymous)" "$(mib $(($(rollup Rss) - $(rollup Anonymous))))" \
		"Pss" "$(mib "$(rollup Pss)")" "private dirty" "$(mib "$(rollup Private_Dirty)")" \
		"private clean" "$(mib "$(rollup Private_Clean)")" \
		"shared clean" "$(mib "$(rollup Shared_Clean)")"
	printf '  %-30s %8s\n' "threads" "$(proc_kib "$DAEMON_PID" Threads)"
	printf '  %-30s %8s\n' "shared libraries mapped" "$nlibs"
	printf '  %-30s %s\n' "TLS libraries mapped" "${tls:-none}"
	echo "  largest mappings (Rss, of it private dirty):"
	top_mappings | sed 's/^/    /'
	if [[ -n $MAX_MIB ]] && ((rss > MAX_MIB * 1024)); then
		die "VmRSS $(mib "$rss") MiB exceeds --max-mib $MAX_MIB"
	fi
}

main() {
	while (($#)); do
		case $1 in
		--pods) PODS=${2:?--pods needs a number} && shift ;;
		--top) TOP=${2:?--top needs a number} && shift ;;
		--max-mib) MAX_MIB=${2:?--max-mib needs a number} && shift ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
		shift
	done
	[[ $PODS =~ ^[1-9][0-9]*$ ]] || die "--pods takes a positive number"
	init_bench
	require_tools cc
	log "setting up: $PODS pod netns, API server, ipam-controller, coil daemon"
	make_namespaces
	start_node_daemon "$NODE_NS" "$NODE_NAME" 10.20.30.42 fd10::42 "$POD_NAMESPACE" "$PODS"
	log "$PODS ADDs at once"
	build_burst_driver
	run_driver ADD
	http_body "$NODE_NS" http://127.0.0.1:9384/metrics >/dev/null
	sleep 1 # let the informers settle after the burst
	check_log_clean coild
	report
}

main "$@"
