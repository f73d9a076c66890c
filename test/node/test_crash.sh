#!/bin/bash
# The daemon killed (SIGKILL) while ADDs are in flight, then restarted over the same state
# dir: finished pods keep their addresses and connectivity, no address is ever held twice,
# CNI GC reclaims the half-made attachments, and DEL of everything leaves nothing. Then a
# graceful restart (SIGTERM) with running pods, also one that must rebuild the allocations
# from the kernel alone (host veth aliases and table 116).
source "$(dirname "$0")/lib.sh"
init_test
setup_node

N=20
FIRST=()
for i in $(seq "$N"); do
	FIRST+=("c$i")
	make_netns "$(pod_ns "c$i")"
done

# --- crash in the middle of 20 concurrent ADDs ---------------------------------------------
# The daemon is frozen while the plugins connect, so that all 20 requests are in flight when
# it resumes; it is killed as soon as a few ADDs have finished (about 50 ms for all 20).
kill -STOP "$DAEMON_PID"
spawn_cni ADD "${FIRST[@]}"
sleep 0.3
kill -CONT "$DAEMON_PID"
shopt -s nullglob
for ((i = 0; i < 1000000; i++)); do # builtins only: fast enough to catch the daemon at work
	finished=("$WORK"/ADD.*.rc)
	[ "${#finished[@]}" -lt 5 ] || break
done
shopt -u nullglob
kill_daemon
wait_jobs

OK_PODS=() FAILED_PODS=()
for p in "${FIRST[@]}"; do
	if spawned_ok ADD "$p"; then OK_PODS+=("$p"); else FAILED_PODS+=("$p"); fi
done
log "killed the daemon: ${#OK_PODS[@]} ADDs succeeded, ${#FAILED_PODS[@]} failed," \
	"$(allocation_count) allocation records, $(aliased_veths | wc -l) aliased veths"
[ "${#FAILED_PODS[@]}" -gt 0 ] || log "note: every ADD finished before the kill"
for p in "${FAILED_PODS[@]}"; do
	out=$(spawned_out ADD "$p")
	check "$p: the interrupted ADD reports a CNI error [$out]" [ -n "$(err_code "$out")" ]
done

start_daemon || die "daemon did not restart after SIGKILL"

pod_works() { # pod_works LABEL NAME: its addresses as in its ADD result, pings, CHECK
	local p=$2 r want got
	r=$(spawned_out ADD "$p")
	want=$( (ips_of "$r" 4; ips_of "$r" 6) | sort | paste -sd,)
	got=$(ip -n "$(pod_ns "$p")" -j addr show dev eth0 2>/dev/null |
		jq -r '.[0].addr_info[] | select(.scope=="global") | .local' | sort | paste -sd,)
	check_eq "$1: $p keeps its addresses" "$want" "$got"
	check "$1: $p pings the node (IPv4)" in_pod "$p" ping -c1 -W2 -q "$NODE_IPV4" >/dev/null
	check "$1: $p pings the node (IPv6)" in_pod "$p" ping -c1 -W2 -q "$NODE_IPV6" >/dev/null
	check "$1: CHECK of $p" cni CHECK "$p" "$(pod_ns "$p")"
}

for p in "${OK_PODS[@]}"; do pod_works "after the crash" "$p"; done
check_no_double_use "after the crash"

# New pods never get an address in use, whatever the crash left behind.
before=$(used_addresses | sort -u)
NEW=()
for i in $(seq 10); do
	NEW+=("n$i")
	make_netns "$(pod_ns "n$i")"
done
spawn_cni ADD "${NEW[@]}"
wait_jobs
for p in "${NEW[@]}"; do
	check "$p: ADD after the restart [$(spawned_out ADD "$p")]" spawned_ok ADD "$p"
	for ip in $(ips_of "$(spawned_out ADD "$p")" 4) $(ips_of "$(spawned_out ADD "$p")" 6); do
		check_not "$p: new address $ip was not in use" grep -qx "$ip" <<<"$before"
	done
done
check_no_double_use "after new ADDs"

# --- CNI GC keeps exactly the attachments whose ADD succeeded -------------------------------
VALID=("${OK_PODS[@]}" "${NEW[@]}")
check_eq "GC (1.1.0)" "0:" "$(o=$(gc_cni "${VALID[@]}"); echo "$?:$o")"
WANT_IDS=$(printf '%s\n' "${VALID[@]}" | sort | paste -sd,)
check_eq "after GC: allocation records = the valid attachments" \
	"$WANT_IDS" "$(settled_allocation_ids "$WANT_IDS")"
check_eq "after GC: aliased veths = the valid attachments" \
	"$(printf '%s\n' "${VALID[@]}" | sort | paste -sd,)" \
	"$(aliased_veths | awk '{split($2, a, ":"); print a[3]}' | sort | paste -sd,)"
check_eq "after GC: table 116 IPv4 routes = the valid attachments" "${#VALID[@]}" \
	"$(table_routes 4 116 | wc -l)"
check_eq "after GC: table 116 IPv6 routes = the valid attachments" "${#VALID[@]}" \
	"$(table_routes 6 116 | wc -l)"
unaliased=$(($(all_veths | wc -l) - $(aliased_veths | wc -l)))
[ "$unaliased" -eq 0 ] || log "note: $unaliased veth(s) without alias (killed before the" \
	"alias was set); they go with their pod netns"
for p in "${VALID[@]}"; do pod_works "after GC" "$p"; done

# --- graceful restart with running pods -----------------------------------------------------
records_before=$(sorted_allocation_ids)
stop_daemon
check_eq "SIGTERM: daemon exit status" 0 "$DAEMON_STATUS"
start_daemon || die "daemon did not restart after SIGTERM"
check_eq "after SIGTERM restart: records unchanged" "$records_before" \
	"$(sorted_allocation_ids)"
for p in "${VALID[@]}"; do pod_works "after SIGTERM restart" "$p"; done

# Rebuild from the kernel alone: the allocation records are lost, the pods' veths, aliases
# and table-116 routes tell the daemon which addresses are in use.
stop_daemon
rm -f "$STATE"/allocations/*
start_daemon || die "daemon did not restart without allocation records"
for p in "${VALID[@]}"; do pod_works "after rebuild from the kernel" "$p"; done
before=$(used_addresses | sort -u)
add_pod rebuilt
check_eq "ADD after the rebuild [$OUT]" 0 "$RC"
for ip in $(ips_of "$OUT" 4) $(ips_of "$OUT" 6); do
	check_not "rebuilt: new address $ip was not in use" grep -qx "$ip" <<<"$before"
done
VALID+=(rebuilt)
# The pods the GC gave up on are not looked at any more: a runtime deletes their netns, and a
# veth killed before it got its alias may still hold an address there (as upstream).
check_no_double_use "after rebuild from the kernel" "${VALID[@]}"

# --- DEL of every pod (also the failed ones, as a runtime would) leaves nothing ----------
ALL=("${FIRST[@]}" "${NEW[@]}" rebuilt)
spawn_cni DEL "${ALL[@]}"
wait_jobs
for p in "${ALL[@]}"; do
	check "DEL $p [$(spawned_out DEL "$p")]" spawned_ok DEL "$p"
done
check_node_empty "after DEL of every pod"
for p in "${ALL[@]}"; do del_netns "$(pod_ns "$p")"; done
no_veths() { [ -z "$(all_veths)" ]; }
check "no veth left once the pod netns are gone" wait_for 5 no_veths

finish
