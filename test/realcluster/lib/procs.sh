# Long-running processes of the test cluster: started detached inside a
# netns (and, for the nodes, a mount namespace), recorded by PID and start
# time so that teardown kills exactly them and never a process that reused
# the PID. Sourced by cluster.sh; needs RC_DIR.

rc_log() { printf 'cluster: %s\n' "$*" >&2; }
rc_die() {
	rc_log "error: $*"
	exit 1
}

# proc__start_time PID: field 22 of /proc/PID/stat (after the command name,
# which may hold spaces, hence the strip up to the last ')').
proc__start_time() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	set -- $stat
	echo "${20}"
}

# proc_spawn NAME NETNS MNTNS CMD...: run CMD detached in netns NETNS (and the
# mount namespace bound at MNTNS unless empty), niced so the cluster only takes
# idle CPU, output in RC_DIR/logs/NAME.log, identity in RC_DIR/pids/NAME.
proc_spawn() {
	local name=$1 netns=$2 mntns=$3 pid
	shift 3
	local -a enter=(--net="/run/netns/$netns")
	[[ -z $mntns ]] || enter+=(--mount="$mntns")
	mkdir -p "$RC_DIR/logs" "$RC_DIR/pids"
	# setsid: the process outlives the shell that ran `up`; the chain of execs
	# (setsid, nice, ionice, nsenter) keeps one PID, the program's.
	setsid nice -n 19 ionice -c3 nsenter "${enter[@]}" -- "$@" \
		</dev/null >>"$RC_DIR/logs/$name.log" 2>&1 &
	pid=$!
	echo "$pid $(proc__start_time "$pid")" >"$RC_DIR/pids/$name"
}

# proc_alive NAME: the recorded process still runs (same PID, same start).
proc_alive() {
	local pid start
	[[ -r $RC_DIR/pids/$1 ]] || return 1
	read -r pid start <"$RC_DIR/pids/$1"
	[[ -n $pid && $(proc__start_time "$pid") == "$start" ]]
}

proc_pid() {
	local pid start
	read -r pid start <"$RC_DIR/pids/$1"
	echo "$pid"
}

# proc_stop NAME...: TERM to all of them at once (each takes a second or two
# to shut down gracefully), up to 10 s for all, then KILL; forget them.
proc_stop() {
	local name left
	for name in "$@"; do
		proc_alive "$name" && kill -TERM "$(proc_pid "$name")" 2>/dev/null
	done
	for _ in $(seq 100); do
		left=""
		for name in "$@"; do
			proc_alive "$name" && left+=" $name"
		done
		[[ -n $left ]] || break
		sleep 0.1
	done
	for name in $left; do
		rc_log "$name ($(proc_pid "$name")) ignored TERM: killing"
		kill -KILL "$(proc_pid "$name")" 2>/dev/null || true
	done
	for name in "$@"; do
		rm -f "$RC_DIR/pids/$name"
	done
}

# rc_wait SECONDS WHAT CMD...: poll CMD every 0.5 s until it succeeds.
rc_wait() {
	local seconds=$1 what=$2 i
	shift 2
	for ((i = 0; i < seconds * 2; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	rc_log "timed out after ${seconds}s waiting for $what"
	return 1
}

# rc_tail NAME: the end of a component's log, for error messages.
rc_tail() {
	[[ -r $RC_DIR/logs/$1.log ]] || return 0
	rc_log "---- last lines of $1.log"
	tail -n 25 "$RC_DIR/logs/$1.log" >&2
}
