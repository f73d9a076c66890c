#!/bin/bash
# /init of the test guest (PID 1, see initramfs.sh). It prepares the guest (mounts, modules,
# the 9p share at /share, user networking on eth0), copies the staged programs from
# /share/stage to /opt, writes /share/ready and then serves commands from the second
# serial port (/dev/ttyS1), one a line:
#   run ID TIMEOUT SCENARIO [ARG...]   runs /share/scenarios/SCENARIO.sh ARG... in the
#                                      background (at most TIMEOUT s), its output in
#                                      /share/results/ID.log, its exit status in ID.rc
#   restage                            copies /share/stage to /opt again (after a rebuild)
#   exit                               ends the guest: qemu exits 33 (and only then 33)
# Results go through the share, never back over the serial port: the host polls for ID.rc.
export PATH=/opt/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/opt/lib
export HOME=/root
umask 022

say() { echo "guest-init: $*" >/dev/console; }
# Anything that stops /init before the command loop ends the guest with a panic (qemu then
# exits 0, which the host reads as a failure), after the reason is on the console.
fatal() {
	say "FATAL: $*"
	[ -d /share/results ] && echo "FATAL: $*" >>/share/boot.log
	sync
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /run/netns /root /var && ln -sfn /run /var/run
mkdir -p /sys/fs/bpf 2>/dev/null

for m in virtio_pci 9pnet_virtio 9p; do modprobe "$m" || fatal "modprobe $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /share || fatal "mount of the 9p share"
mkdir -p /share/results
: >/share/boot.log
exec 2>>/share/boot.log

while read -r m; do
	modprobe "$m" || fatal "modprobe $m"
done </etc/boot-modules
# The data path's sysctls as a node would have them.
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

ip link set lo up
ip link set eth0 up || fatal "no eth0 (virtio_net)"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

restage() {
	rm -rf /opt/bin /opt/lib
	mkdir -p /opt/bin /opt/lib
	[ -d /share/stage ] || return 0
	cp -a /share/stage/bin/. /opt/bin/ 2>/dev/null
	cp -a /share/stage/lib/. /opt/lib/ 2>/dev/null
	return 0
}
restage || fatal "restage"

# run_scenario ID TIMEOUT SCENARIO ARG...: one scenario, then the netns it left behind
# (a leak: reported and made a failure) are removed so that the next one starts clean.
run_scenario() {
	local id=$1 limit=$2 name=$3 rc leaked
	shift 3
	local log=/share/results/$id.log script=/share/scenarios/$name.sh
	{
		echo "== scenario $name $* (guest kernel $(uname -r))"
		if [ ! -f "$script" ]; then
			echo "no such scenario: $script"
			rc=127
		else
			RESULTS=/share/results/$id.d SCENARIO=$name \
				timeout -s TERM -k 20 "$limit" bash "$script" "$@"
			rc=$?
			[ "$rc" -ne 143 ] || echo "scenario $name: stopped after ${limit}s"
		fi
		leaked=$(ip netns list 2>/dev/null | awk '{ print $1 }')
		if [ -n "$leaked" ]; then
			echo "scenario $name left network namespaces behind: $leaked"
			for ns in $leaked; do ip netns delete "$ns"; done
			[ "$rc" -ne 0 ] || rc=98
		fi
		echo "== scenario $name: exit $rc"
	} >"$log" 2>&1 </dev/null
	echo "$rc" >"/share/results/$id.rc.tmp"
	mv "/share/results/$id.rc.tmp" "/share/results/$id.rc"
}

stty -F /dev/ttyS1 raw -echo || fatal "stty on ttyS1 (the command channel)"
exec 3</dev/ttyS1
printf 'kernel %s\nboot %s\n' "$(uname -r)" "$(cut -d' ' -f1 /proc/uptime)" >/share/ready.tmp
mv /share/ready.tmp /share/ready
say "ready"
while read -r -u 3 cmd id limit name args; do
	case "$cmd" in
	run)
		# shellcheck disable=SC2086 # the arguments are words by design
		run_scenario "$id" "$limit" "$name" $args &
		;;
	restage) restage ;;
	exit)
		wait
		sync
		umount /share
		# isa-debug-exit: qemu exits (0x10 << 1) | 1 = 33.
		printf '\x10' | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
		fatal "isa-debug-exit did not end the guest"
		;;
	"") ;;
	*) say "unknown command: $cmd" ;;
	esac
done
fatal "the command channel closed"
