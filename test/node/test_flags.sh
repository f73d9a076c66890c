#!/bin/bash
# The command line every long-running program shares, as upstream's programs take it:
# --version on every program and alias, flag errors (exit 1 with the error and the usage),
# klog and zap flags accepted, --zap-log-level=debug giving debug lines, the args lists of
# upstream's manifests, and the process_* metrics of a running daemon.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
init_test

VERSION_LINE_RE='^[a-z-]+ version [0-9]+\.[0-9]+\.[0-9]+$'

# Upstream program names as symlinks, as the images install them.
for alias in coild coil-ipam-controller coil-router coil-egress coil-egress-controller \
	coil-migrator coil-installer; do
	ln -s "$COIL" "$WORK/$alias" || die "cannot make the $alias symlink"
done

# --version prints "<program> version <v>" on stdout and exits 0, on every program.
for pair in daemon:coild ipam-controller:coil-ipam-controller router:coil-router \
	egress:coil-egress egress-controller:coil-egress-controller migrate:coil-migrator \
	install:coil-installer; do
	applet=${pair%%:*} alias=${pair#*:}
	out=$("$COIL" "$applet" --version 2>/dev/null)
	check_eq "coil $applet --version exits 0" 0 $?
	check_eq "coil $applet --version names $alias" "$alias" "${out%% *}"
	check "coil $applet --version prints one version line" grep -Eq "$VERSION_LINE_RE" <<<"$out"
	check_eq "$alias --version is the same line" "$out" "$("$WORK/$alias" --version 2>/dev/null)"
done

# A flag error prints the error and the usage on stderr and exits 1, like cobra programs.
for alias in coild coil-ipam-controller coil-router; do
	err=$(COIL_NODE_NAME=n "$WORK/$alias" --no-such-flag 2>&1 >/dev/null)
	check_eq "$alias: an unknown flag exits 1" 1 $?
	check "$alias: the error names the flag" grep -q '^Error: unknown flag: --no-such-flag$' <<<"$err"
	check "$alias: the usage follows" grep -q '^Usage:' <<<"$err"
	err=$("$WORK/$alias" --zap-log-level=loud 2>&1 >/dev/null)
	check_eq "$alias: a bad --zap-log-level exits 1" 1 $?
	check "$alias: the error names the value" grep -q 'invalid argument "loud" for "--zap-log-level" flag' <<<"$err"
	err=$("$WORK/$alias" -v 2>&1 >/dev/null)
	check_eq "$alias: -v without its number exits 1" 1 $?
done

# Without a cluster the controller and the router stop after their flags: the failure must
# be a configuration one (a JSON log line), never a flag error. These are the args of
# upstream's Deployment and DaemonSet, plus the klog flags a cluster operator may add.
no_flag_error() { # no_flag_error NAME ARGS...: runs, expects a logged startup failure
	local name=$1 out
	shift
	out=$(COIL_NODE_NAME=n KUBECONFIG=$WORK/none timeout 10 "$WORK/$name" "$@" 2>&1)
	check_eq "$name $*: exits 1 (no cluster here)" 1 $?
	check "$name $*: no flag error" bash -c '! grep -q "^Error:\|^Usage:" <<<"$1"' _ "$out"
	check "$name $*: got past the flags" grep -q '^{"level":"error"' <<<"$out"
}
# manifest_args FILE: the `args:` list of the manifest's container, one per line.
manifest_args() {
	awk '/^ *args:/ { on = 1; next } on && /^ *- / { sub(/^ *- */, ""); print; next } { on = 0 }' "$1"
}
DEPLOY=$TEST_DIR/../../deploy
mapfile -t controller_args < <(manifest_args "$DEPLOY/pod/coil-ipam-controller.yaml")
mapfile -t router_args < <(manifest_args "$DEPLOY/router/coil-router.yaml")
mapfile -t daemon_args < <(manifest_args "$DEPLOY/pod/coild.yaml")
check "the manifests have args lists" test "${#controller_args[@]}" -gt 0 -a \
	"${#router_args[@]}" -gt 0 -a "${#daemon_args[@]}" -gt 0
no_flag_error coil-ipam-controller "${controller_args[@]}"
no_flag_error coil-router "${router_args[@]}"
# Upstream's standalone-egress DaemonSet (egress only, which this build does not do yet).
no_flag_error coild --enable-ipam=false --enable-egress=true --pod-table-id=0 --protocol-id=2
no_flag_error coil-ipam-controller --zap-stacktrace-level=panic -v=2 --logtostderr \
	--zap-encoder=json --zap-time-encoding=epoch --vmodule=x=1 --stderrthreshold=INFO
no_flag_error coil-router -v 4 --alsologtostderr --log_file_max_size 10 --skip_headers \
	--zap-devel --add_dir_header --one_output --log_backtrace_at=x.go:1 --log_dir=/tmp

make_netns "$NODE"

# The DaemonSet's args, with the flags that make the test's daemon standalone.
start_daemon "${daemon_args[@]}"
check "coild starts with the DaemonSet's args" kill -0 "$DAEMON_PID"
stop_daemon
check_eq "it stops with status 0" 0 "$DAEMON_STATUS"

: >"$WORK/coild.log"
start_daemon -v=2 --logtostderr
check "coild -v=2 --logtostderr starts" kill -0 "$DAEMON_PID"
check_not "no debug lines at the default level" grep -q '"level":"debug"' "$WORK/coild.log"
stop_daemon

: >"$WORK/coild.log"
start_daemon --zap-log-level=debug
check "--zap-log-level=debug gives debug lines" grep -q '^{"level":"debug"' "$WORK/coild.log"
check "the debug line is the runtime's" grep -q '"msg":"runtime started"' "$WORK/coild.log"

# The process_* metrics, as Prometheus' Go client names and types them.
metrics=$(http_get "$METRICS_PORT" /metrics)
check_eq "/metrics answers 200" 200 "$(head -n1 <<<"$metrics" | awk '{print $2}')"
for pair in process_cpu_seconds_total:counter process_resident_memory_bytes:gauge \
	process_virtual_memory_bytes:gauge process_virtual_memory_max_bytes:gauge \
	process_open_fds:gauge process_max_fds:gauge process_start_time_seconds:gauge; do
	name=${pair%%:*} type=${pair#*:}
	check "TYPE $name $type" grep -qx "# TYPE $name $type" <<<"$metrics"
done
value() { awk -v n="$1" '$1 == n { print $2 }' <<<"$metrics"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
now=$(date +%s)
pid_fds=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
check "process_start_time_seconds is within the last minute" \
	ge "$(value process_start_time_seconds)" "$((now - 60))"
check "process_start_time_seconds is not in the future" \
	ge "$((now + 1))" "$(value process_start_time_seconds)"
check "process_resident_memory_bytes is above 1 MB" \
	ge "$(value process_resident_memory_bytes)" 1000000
check "process_virtual_memory_bytes >= resident" \
	ge "$(value process_virtual_memory_bytes)" "$(value process_resident_memory_bytes)"
check "process_cpu_seconds_total >= 0" ge "$(value process_cpu_seconds_total)" 0
check "process_open_fds is near the daemon's /proc count ($pid_fds)" \
	ge "$(value process_open_fds)" "$((pid_fds - 3))"
check "process_max_fds is the soft limit ($(in_node bash -c 'ulimit -n'))" \
	ge "$(value process_max_fds)" "$(value process_open_fds)"

finish
