#!/usr/bin/env bash
# The guest-kernel test rig: one QEMU guest (Debian's kernel, TCG, one core) that has the
# modules this host lacks (fou, fou6, ipip, ip6_tunnel, dummy), driven from the host.
#   guest.sh up STATE             fetch/cache the kernel, build/cache the initramfs, stage
#                                 $COIL and $GUEST_STAGE programs and the scenarios, boot
#   guest.sh run STATE SCENARIO [ARG...]
#                                 run test/guest/scenarios/SCENARIO.sh in the guest, print its
#                                 log, exit with its status (timeout: $GUEST_TIMEOUT s, 150)
#   guest.sh restage STATE        copy programs and scenarios again into a running guest
#   guest.sh down STATE           shut the guest down; fails unless it ended cleanly
#   guest.sh all STATE [SCENARIO...]
#                                 up, run each (default: every scenario), down
# STATE is a directory of this run (created; its share/ is the guest's /share over 9p:
# stage/, scenarios/, results/). Every failure is loud: nothing here skips.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
log() { printf 'guest: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

qemu_alive() { [ -s "$STATE/qemu.pid" ] && kill -0 "$(cat "$STATE/qemu.pid")" 2>/dev/null; }
console_tail() {
	log "last lines of the guest console ($STATE/console.log):"
	tail -n 30 "$STATE/console.log" >&2 2>/dev/null || true
	[ ! -s "$STATE/share/boot.log" ] || { log "boot log:"; tail -n 30 "$STATE/share/boot.log" >&2; }
}

# stage: the programs under test and their shared libraries, and the scenario scripts (the
# suite's, plus the files GUEST_SCENARIOS_EXTRA names: scenarios kept outside the suite, such
# as the benchmark bench/guest/egress_bench.sh).
stage() {
	local share=$STATE/share bin lib extra
	: "${COIL:?set COIL to the coil binary to test}"
	[ -x "$COIL" ] || die "COIL=$COIL is not an executable"
	rm -rf "$share/stage" "$share/scenarios"
	mkdir -p "$share/stage/bin" "$share/stage/lib" "$share/scenarios" "$share/results"
	# shellcheck disable=SC2086 # GUEST_STAGE is a list of paths
	for bin in "$COIL" ${GUEST_STAGE:-}; do
		[ -x "$bin" ] || die "staged program $bin is not an executable"
		cp -L "$bin" "$share/stage/bin/"
		# glibc itself comes with the initramfs; everything else the program links to is copied.
		for lib in $(ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
			case "$(basename "$lib")" in libc.so.* | libm.so.* | ld-linux*) continue ;; esac
			cp -L "$lib" "$share/stage/lib/"
		done
	done
	# coil's private libraries (its lean libcurl) sit at ../lib/coil beside it: /opt/lib/coil.
	if [ -d "$(dirname "$COIL")/../lib/coil" ]; then
		cp -a "$(dirname "$COIL")/../lib/coil" "$share/stage/lib/"
	fi
	cp -a "$HERE/scenarios/." "$share/scenarios/"
	# shellcheck disable=SC2086 # GUEST_SCENARIOS_EXTRA is a list of paths
	for extra in ${GUEST_SCENARIOS_EXTRA:-}; do
		[ -f "$extra" ] || die "extra scenario $extra is not a file"
		cp "$extra" "$share/scenarios/"
	done
	cp "$HERE/../shell/checks.sh" "$share/scenarios/"
}

send() { # send LINE: one command to the guest over the command channel
	qemu_alive || die "the guest is not running (see $STATE/console.log)"
	# qemu holds the FIFO open for reading, so this open does not block; timeout guards anyway.
	timeout 10 bash -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$STATE/ctl.in" ||
		die "cannot write to the command channel $STATE/ctl.in"
}

cmd_up() {
	[ "$(id -u)" -eq 0 ] || die "needs root"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (scripts/deps.sh test)"
	if qemu_alive; then
		log "a guest of an earlier run is still up in $STATE: stopping it"
		kill "$(cat "$STATE/qemu.pid")" 2>/dev/null || true
		sleep 1
	fi
	local kdir initrd t0 wrapper
	t0=$(date +%s)
	kdir=$("$HERE/kernel.sh")
	initrd=$("$HERE/initramfs.sh" "$kdir")
	mkdir -p "$STATE"
	rm -rf "$STATE/share" "$STATE/ctl.in" "$STATE/ctl.out" "$STATE/qemu.rc" "$STATE/qemu.pid"
	stage
	mkfifo "$STATE/ctl.in" "$STATE/ctl.out"
	local qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot -nodefaults
		-display none -monitor none
		-serial "file:$STATE/console.log"
		-chardev "pipe,id=ctl,path=$STATE/ctl" -serial chardev:ctl
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0
		-virtfs "local,path=$STATE/share,mount_tag=share,security_model=none,id=share"
		-pidfile "$STATE/qemu.pid"
		-kernel "$kdir/vmlinuz" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init")
	# The wrapper outlives this command (a ctest fixture boots, later tests use the guest)
	# and records qemu's exit status: 33 only when the guest asked to end (see guest-init.sh).
	setsid bash -c '"$@" >"$0/qemu.log" 2>&1; echo $? >"$0/qemu.rc"' "$STATE" "${qemu[@]}" \
		</dev/null >/dev/null 2>&1 &
	wrapper=$!
	echo "$wrapper" >"$STATE/wrapper.pid"
	local deadline=$(($(date +%s) + ${GUEST_BOOT_TIMEOUT:-120}))
	until [ -e "$STATE/share/ready" ]; do
		if [ -e "$STATE/qemu.rc" ] || ! kill -0 "$wrapper" 2>/dev/null; then
			cat "$STATE/qemu.log" >&2 2>/dev/null || true
			console_tail
			die "the guest ended during boot (qemu exit $(cat "$STATE/qemu.rc" 2>/dev/null))"
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			console_tail
			die "the guest was not ready after ${GUEST_BOOT_TIMEOUT:-120}s"
		fi
		sleep 0.2
	done
	log "guest up in $(($(date +%s) - t0))s: $(tr '\n' ' ' <"$STATE/share/ready")($STATE)"
}

cmd_run() {
	local name=${1:?usage: guest.sh run STATE SCENARIO [ARG...]}
	shift
	local limit=${GUEST_TIMEOUT:-150} id rcfile rc t0
	id="$name-$(date +%s%N)-$$"
	rcfile=$STATE/share/results/$id.rc
	t0=$(date +%s)
	send "run $id $limit $name $*"
	# The guest stops the scenario at the limit; 40 s more for its cleanup and the report.
	local deadline=$((t0 + limit + 40))
	while [ ! -e "$rcfile" ]; do
		if ! qemu_alive; then
			cat "$STATE/share/results/$id.log" 2>/dev/null || true
			console_tail
			die "the guest ended while $name ran"
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			cat "$STATE/share/results/$id.log" 2>/dev/null || true
			console_tail
			die "no result from $name after $((limit + 40))s: the guest is stuck"
		fi
		sleep 0.1
	done
	rc=$(cat "$rcfile")
	cat "$STATE/share/results/$id.log"
	log "$name: exit $rc in $(($(date +%s) - t0))s (log: $STATE/share/results/$id.log)"
	return "$rc"
}

cmd_restage() {
	stage
	send restage
}

cmd_down() {
	local rc=
	if qemu_alive; then
		send exit
		for _ in $(seq 300); do
			[ -e "$STATE/qemu.rc" ] && break
			sleep 0.1
		done
	fi
	if qemu_alive; then
		kill "$(cat "$STATE/qemu.pid")" 2>/dev/null || true
		console_tail
		die "the guest did not shut down; killed"
	fi
	# The wrapper writes qemu.rc just after qemu exits.
	for _ in $(seq 50); do
		[ -e "$STATE/qemu.rc" ] && break
		sleep 0.1
	done
	rc=$(cat "$STATE/qemu.rc" 2>/dev/null || echo none)
	rm -f "$STATE/ctl.in" "$STATE/ctl.out"
	if [ "$rc" != 33 ]; then
		console_tail
		die "the guest did not end cleanly (qemu exit $rc; 33 means a clean end)"
	fi
	log "guest down"
}

cmd_all() {
	local names=("$@") failed=() name
	if [ ${#names[@]} -eq 0 ]; then
		for f in "$HERE"/scenarios/*.sh; do
			name=$(basename "$f" .sh)
			[ "$name" = lib ] || names+=("$name")
		done
	fi
	cmd_up
	for name in "${names[@]}"; do
		cmd_run "$name" || failed+=("$name")
	done
	cmd_down || failed+=("(shutdown)")
	if [ ${#failed[@]} -ne 0 ]; then
		die "FAILED: ${failed[*]}"
	fi
	log "all passed: ${names[*]}"
}

sub=${1:-}
STATE=${2:-}
[ -n "$sub" ] && [ -n "$STATE" ] || die "usage: guest.sh up|run|restage|down|all STATE [...]"
STATE=$(mkdir -p "$STATE" && cd "$STATE" && pwd)
shift 2
case "$sub" in
up) cmd_up ;;
run) cmd_run "$@" ;;
restage) cmd_restage ;;
down) cmd_down ;;
all) cmd_all "$@" ;;
*) die "unknown subcommand $sub" ;;
esac
