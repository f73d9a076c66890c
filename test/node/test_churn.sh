#!/bin/bash
# Netlink under churn: 150 pods are deleted while 150 others are created, all at once. Every
# call succeeds (dumps that the churn interrupts are retried, and DEL and CHECK look their
# veth up by name instead of dumping every link), no address is held twice, and the node
# holds exactly the new pods; then all of them go at once too.
source "$(dirname "$0")/lib.sh"
init_test
setup_node

N=${CHURN_PODS:-150}
OLD=() NEW=()
for i in $(seq "$N"); do
	OLD+=("o$i")
	NEW+=("n$i")
	make_netns "$(pod_ns "o$i")"
	make_netns "$(pod_ns "n$i")"
done
count_ok() { # count_ok COMMAND POD...: how many succeeded; logs the others
	local cmd=$1 p n=0
	shift
	for p in "$@"; do
		if spawned_ok "$cmd" "$p"; then n=$((n + 1)); else log "$cmd $p: $(spawned_out "$cmd" "$p")"; fi
	done
	echo "$n"
}
ids_of_aliased() { aliased_veths | awk '{split($2, a, ":"); print a[3]}' | sort | paste -sd,; }

start=$SECONDS
spawn_cni ADD "${OLD[@]}"
wait_jobs
log "$N concurrent ADDs took $((SECONDS - start)) s"
check_eq "$N ADDs succeed" "$N" "$(count_ok ADD "${OLD[@]}")"

# --- the churn: N DELs and N ADDs at once ---------------------------------------------
rm -f "$WORK"/ADD.*
start=$SECONDS
spawn_cni DEL "${OLD[@]}"
spawn_cni ADD "${NEW[@]}"
wait_jobs
log "$N DELs and $N ADDs at once took $((SECONDS - start)) s"
check_eq "$N DELs under churn succeed" "$N" "$(count_ok DEL "${OLD[@]}")"
check_eq "$N ADDs under churn succeed" "$N" "$(count_ok ADD "${NEW[@]}")"
check_eq "aliased veths: exactly the new pods" "$(printf '%s\n' "${NEW[@]}" | sort | paste -sd,)" \
	"$(ids_of_aliased)"
check_eq "no other veth" "$N" "$(all_veths | wc -l)"
WANT_IDS=$(printf '%s\n' "${NEW[@]}" | sort | paste -sd,)
check_eq "allocation records: exactly the new pods" "$WANT_IDS" "$(settled_allocation_ids "$WANT_IDS")"
check_eq "$N IPv4 routes in table 116" "$N" "$(table_routes 4 116 | wc -l)"
check_eq "$N IPv6 routes in table 116" "$N" "$(table_routes 6 116 | wc -l)"
check_eq "$((2 * N)) distinct addresses on the new pods" "$((2 * N))" \
	"$(pod_addresses "${NEW[@]}" | awk '{print $1}' | sort -u | wc -l)"
check_eq "the old pods hold no address" "" "$(pod_addresses "${OLD[@]}")"
check_no_double_use "after the churn"

# CHECK of every new pod at once, and of the deleted ones (which must fail).
spawn_cni CHECK "${NEW[@]}" "${OLD[@]}"
wait_jobs
check_eq "CHECK of the $N new pods succeeds" "$N" "$(count_ok CHECK "${NEW[@]}" 2>/dev/null)"
check_eq "CHECK of the $N deleted pods fails" 0 "$(count_ok CHECK "${OLD[@]}" 2>/dev/null)"

spawn_cni DEL "${NEW[@]}"
wait_jobs
check_eq "$N concurrent DELs succeed" "$N" "$(count_ok DEL "${NEW[@]}")"
check_node_empty "after all DELs"
check_eq "no veth left" "" "$(all_veths)"
finish
