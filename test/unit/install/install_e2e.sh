#!/bin/sh
# End-to-end checks of the built coil binary as `coil install` (the coild DaemonSet's init
# container): environment variables, defaults (in a private mount namespace and chroot, so
# the host's /host and /usr/local are not touched), invalid input, re-runs, other files.
# Usage: install_e2e.sh COIL   (needs root for the defaults check)
set -u
COIL=$(readlink -f "$1")
WORK=$(mktemp -d /tmp/coil-install-e2e-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

NETCONF='{
  "cniVersion": "0.4.0",
  "name": "k8s-pod-network",
  "plugins": [
    { "type": "coil", "socket": "/run/coild.sock" },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}'
printf '%s' "$NETCONF" >"$WORK/netconf.json"
printf '#!/bin/sh\necho fake coil\n' >"$WORK/fake-coil"

# inst ETC BIN VAR=VALUE...: runs the installer with only these installer variables, and
# the flags in INST_FLAGS (split on spaces: the paths of this test have none).
INST_FLAGS=
inst() {
	etc=$1 bin=$2
	shift 2
	# shellcheck disable=SC2086 # INST_FLAGS is a list of words
	env -u CNI_NETCONF -u CNI_NETCONF_FILE -u CNI_CONF_NAME -u COIL_PATH \
		CNI_ETC_DIR="$etc" CNI_BIN_DIR="$bin" "$@" "$COIL" install --sleep=0 $INST_FLAGS \
		>"$WORK/stdout" 2>"$WORK/stderr"
	status=$?
}

# same FILE TEXT: FILE holds exactly TEXT.
same() { printf '%s' "$2" | cmp -s - "$1"; }
mode() { stat -c %a "$1"; }
listing() { ls -A "$1" | tr '\n' ' '; }

# --- every variable ---------------------------------------------------------------------
D=$WORK/vars
inst "$D/etc" "$D/bin" CNI_NETCONF="$NETCONF" CNI_CONF_NAME=05-test.conflist \
	COIL_PATH="$WORK/fake-coil"
if [ $status -eq 0 ] && same "$D/etc/05-test.conflist" "$NETCONF" &&
	[ "$(mode "$D/etc/05-test.conflist")" = 644 ] &&
	cmp -s "$D/bin/coil" "$WORK/fake-coil" && [ "$(mode "$D/bin/coil")" = 755 ] &&
	[ "$(listing "$D/etc")" = "05-test.conflist " ] && [ "$(listing "$D/bin")" = "coil " ]; then
	ok "CNI_NETCONF CNI_CONF_NAME CNI_ETC_DIR CNI_BIN_DIR COIL_PATH"
else
	fail "variables: status $status, etc: $(listing "$D/etc"), bin: $(listing "$D/bin"): $(cat "$WORK/stderr")"
fi

D=$WORK/file
inst "$D/etc" "$D/bin" CNI_NETCONF_FILE="$WORK/netconf.json" COIL_PATH="$WORK/fake-coil"
if [ $status -eq 0 ] && cmp -s "$D/etc/10-coil.conflist" "$WORK/netconf.json"; then
	ok "CNI_NETCONF_FILE, default CNI_CONF_NAME"
else
	fail "CNI_NETCONF_FILE: status $status: $(cat "$WORK/stderr")"
fi

D=$WORK/precedence
OTHER='{"name":"env-wins","plugins":[{"type":"coil"}]}'
inst "$D/etc" "$D/bin" CNI_NETCONF="$OTHER" CNI_NETCONF_FILE="$WORK/netconf.json" \
	COIL_PATH="$WORK/fake-coil"
if [ $status -eq 0 ] && same "$D/etc/10-coil.conflist" "$OTHER"; then
	ok "CNI_NETCONF wins over CNI_NETCONF_FILE"
else
	fail "precedence: status $status: $(cat "$D/etc/10-coil.conflist" 2>&1)"
fi

D=$WORK/emptyenv
inst "$D/etc" "$D/bin" CNI_NETCONF= CNI_NETCONF_FILE="$WORK/netconf.json" COIL_PATH="$WORK/fake-coil"
if [ $status -eq 0 ] && cmp -s "$D/etc/10-coil.conflist" "$WORK/netconf.json"; then
	ok "empty CNI_NETCONF falls back to CNI_NETCONF_FILE"
else
	fail "empty CNI_NETCONF: status $status: $(cat "$WORK/stderr")"
fi

# --- errors: exit 1, a clear message, nothing written ------------------------------------
# expect_error NAME WANT_IN_STDERR VAR=VALUE...
expect_error() {
	name=$1 want=$2
	shift 2
	D=$WORK/err
	rm -rf "$D"
	inst "$D/etc" "$D/bin" "$@"
	if [ $status -ne 1 ]; then
		fail "$name: exit status $status, want 1"
	elif ! grep -qF -- "$want" "$WORK/stderr"; then
		fail "$name: stderr lacks '$want': $(cat "$WORK/stderr")"
	elif [ -e "$D" ]; then
		fail "$name: wrote $(find "$D")"
	else
		ok "$name"
	fi
}
expect_error "invalid JSON rejected" "not valid JSON" CNI_NETCONF='{"name": "x",' \
	COIL_PATH="$WORK/fake-coil"
expect_error "non-object rejected" "must be a JSON object" CNI_NETCONF='[1]' \
	COIL_PATH="$WORK/fake-coil"
expect_error "list without plugins rejected" '\"plugins\"' CNI_NETCONF='{"name":"x"}' \
	COIL_PATH="$WORK/fake-coil"
printf '{broken' >"$WORK/broken.json"
expect_error "invalid CNI_NETCONF_FILE rejected" "not valid JSON" \
	CNI_NETCONF_FILE="$WORK/broken.json" COIL_PATH="$WORK/fake-coil"
expect_error "no config" "set CNI_NETCONF or CNI_NETCONF_FILE" COIL_PATH="$WORK/fake-coil"
expect_error "missing CNI_NETCONF_FILE" "$WORK/none.json" CNI_NETCONF_FILE="$WORK/none.json" \
	COIL_PATH="$WORK/fake-coil"
expect_error "missing COIL_PATH" "$WORK/no-coil" CNI_NETCONF="$NETCONF" COIL_PATH="$WORK/no-coil"
expect_error "bad CNI_CONF_NAME" "CNI_CONF_NAME" CNI_NETCONF="$NETCONF" CNI_CONF_NAME=a/b \
	COIL_PATH="$WORK/fake-coil"

"$COIL" install --sleep=0 extra >/dev/null 2>&1
[ $? -eq 2 ] && ok "positional argument: exit 2" || fail "positional argument not rejected"
"$COIL" install --no-such-flag >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown flag: exit 2" || fail "unknown flag not rejected"
"$COIL" install --help | grep -q CNI_NETCONF_FILE && ok "--help" || fail "--help"

# --- re-runs and other files: the default (as upstream) and --keep-other-conflists -------
# other_files DIR WANT-LISTING [FLAGS]: three runs over a config dir holding other CNIs'
# files.
other_files() {
	D=$1 want=$2 INST_FLAGS=${3:-}
	mkdir -p "$D/etc" "$D/bin"
	printf '%s' "$CALICO" >"$D/etc/05-calico.conflist"
	printf '%s' '{"type":"loopback"}' >"$D/etc/99-loopback.conf"
	printf '%s' "$NETCONF" >"$D/etc/00-coil-old.conflist"
	printf 'junk' >"$D/etc/notes.conflist.txt"
	printf 'plugin' >"$D/bin/portmap"
	chmod 0600 "$D/etc/99-loopback.conf"
	for run in 1 2 3; do
		inst "$D/etc" "$D/bin" CNI_NETCONF="$NETCONF" COIL_PATH="$WORK/fake-coil"
		[ $status -eq 0 ] || fail "${INST_FLAGS:-default}: re-run $run: status $status: $(cat "$WORK/stderr")"
		[ "$(listing "$D/etc")" = "$want" ] ||
			fail "${INST_FLAGS:-default}: re-run $run: config dir holds $(listing "$D/etc")"
		[ "$(listing "$D/bin")" = "coil portmap " ] ||
			fail "${INST_FLAGS:-default}: re-run $run: bin dir holds $(listing "$D/bin")"
		same "$D/etc/10-coil.conflist" "$NETCONF" || fail "${INST_FLAGS:-default}: re-run $run: config content"
		cmp -s "$D/bin/coil" "$WORK/fake-coil" || fail "${INST_FLAGS:-default}: re-run $run: binary content"
	done
	[ "$(mode "$D/etc/99-loopback.conf")" = 600 ] && same "$D/bin/portmap" plugin ||
		fail "${INST_FLAGS:-default}: other files changed"
	INST_FLAGS=
}
CALICO='{"name":"k8s-pod-network","plugins":[{"type":"calico"}]}'
other_files "$WORK/upstream" "10-coil.conflist 99-loopback.conf "
ok "default: every other *conflist* entry removed, other files kept, idempotent"
other_files "$WORK/keep" \
	"05-calico.conflist 10-coil.conflist 99-loopback.conf notes.conflist.txt " \
	--keep-other-conflists
same "$WORK/keep/etc/05-calico.conflist" "$CALICO" && same "$WORK/keep/etc/notes.conflist.txt" junk &&
	ok "--keep-other-conflists: other CNIs' lists untouched; old coil list removed" ||
	fail "--keep-other-conflists: other lists changed"
grep -q 'sorts before coil' "$WORK/stderr" && ok "warning about 05-calico.conflist" ||
	fail "no warning about a config sorting first: $(cat "$WORK/stderr")"

# --- standalone: coil installed once, CNI_BIN_DIR/coil a symlink to it -------------------
D=$WORK/standalone
for run in 1 2; do
	INST_FLAGS="--standalone --standalone-path $D/usr/local/bin/coil"
	inst "$D/etc" "$D/bin" CNI_NETCONF="$NETCONF"
	[ $status -eq 0 ] || fail "standalone run $run: status $status: $(cat "$WORK/stderr")"
done
out=$(CNI_COMMAND=VERSION "$D/bin/coil" 2>&1)
if [ "$(readlink "$D/bin/coil")" = "$D/usr/local/bin/coil" ] &&
	cmp -s "$D/usr/local/bin/coil" "$COIL" && [ "$(mode "$D/usr/local/bin/coil")" = 755 ] &&
	[ "$(listing "$D/bin")" = "coil " ] && echo "$out" | grep -q supportedVersions &&
	"$D/usr/local/bin/coil" version >/dev/null; then
	ok "standalone: this executable installed once, bin dir links to it, re-run in place"
else
	fail "standalone: link $(readlink "$D/bin/coil"), bin: $(listing "$D/bin"), VERSION: $out"
fi
INST_FLAGS="--standalone --standalone-path relative/coil"
inst "$D/etc2" "$D/bin2" CNI_NETCONF="$NETCONF"
INST_FLAGS=
[ $status -eq 1 ] && [ ! -e "$D/etc2" ] && grep -q "absolute file path" "$WORK/stderr" &&
	ok "standalone: a relative path is refused, nothing written" ||
	fail "standalone relative path: status $status: $(cat "$WORK/stderr")"

# --- the installed binary is a working plugin; the upstream alias works ------------------
D=$WORK/self
ln -s "$COIL" "$WORK/coil-installer"
env -u CNI_NETCONF_FILE -u CNI_CONF_NAME CNI_ETC_DIR="$D/etc" CNI_BIN_DIR="$D/bin" \
	CNI_NETCONF="$NETCONF" COIL_PATH="$COIL" "$WORK/coil-installer" --sleep=0 2>"$WORK/stderr"
status=$?
out=$(CNI_COMMAND=VERSION "$D/bin/coil" 2>&1)
if [ $status -eq 0 ] && cmp -s "$D/bin/coil" "$COIL" && echo "$out" | grep -q supportedVersions; then
	ok "coil-installer alias; installed plugin answers VERSION"
else
	fail "alias/plugin: status $status, VERSION said: $out"
fi

# --- atomicity seen from outside: a reader loop while installs alternate ------------------
D=$WORK/race
mkdir -p "$D"
printf '%s' "$NETCONF" >"$D/a"
{ printf '{"name":"b","plugins":[{"type":"coil"}],"pad":"'; head -c 200000 /dev/zero | tr '\0' b; printf '"}'; } >"$D/b"
inst "$D/etc" "$D/bin" CNI_NETCONF_FILE="$D/a" COIL_PATH="$WORK/fake-coil"
(
	while [ ! -e "$D/stop" ]; do
		cat "$D/etc/10-coil.conflist" >"$D/snap" 2>/dev/null || echo missing >>"$D/bad"
		cmp -s "$D/snap" "$D/a" || cmp -s "$D/snap" "$D/b" || echo torn >>"$D/bad"
		echo >>"$D/reads"
	done
) &
reader=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	src=$D/a
	[ $((i % 2)) -eq 1 ] && src=$D/b
	inst "$D/etc" "$D/bin" CNI_NETCONF_FILE="$src" COIL_PATH="$WORK/fake-coil"
	[ $status -eq 0 ] || fail "race install $i: $(cat "$WORK/stderr")"
done
touch "$D/stop"
wait $reader
reads=$(wc -l <"$D/reads")
if [ -e "$D/bad" ]; then
	fail "reader saw $(sort "$D/bad" | uniq -c | tr '\n' ' ') in $reads reads"
elif [ "$reads" -lt 5 ]; then
	fail "reader only managed $reads reads"
else
	ok "config never missing or torn ($reads concurrent reads)"
fi

# --- defaults: /host/... paths, COIL_PATH default, 6 s sleep, standalone paths --------------------------
# A private mount namespace with a chroot whose /usr is the host's (for the libraries)
# and whose /host and /usr/local are fresh tmpfs contents.
defaults_check() {
	R=$WORK/root
	mkdir -p "$R"
	unshare -m /bin/sh -c '
		set -e
		R=$1 COIL=$2 NETCONF=$3 FAKE=$4
		mount --make-rprivate /
		mount -t tmpfs tmpfs "$R"
		mkdir -p "$R/usr" "$R/etc" "$R/proc" "$R/dev" "$R/tmp"
		for d in bin sbin lib lib32 lib64 libx32; do
			[ -L "/$d" ] && ln -s "$(readlink "/$d")" "$R/$d"
		done
		mount --rbind /usr "$R/usr"
		mount --rbind /etc "$R/etc"
		mount --rbind /dev "$R/dev"
		mount -t proc proc "$R/proc"
		mount -t tmpfs tmpfs "$R/usr/local"
		cp "$COIL" "$R/coil-under-test"
		# 1: COIL_PATH unset and no coil-static next to it: this executable; timed.
		start=$(date +%s%N)
		chroot "$R" env -i CNI_NETCONF="$NETCONF" /coil-under-test install
		end=$(date +%s%N)
		echo "elapsed_ms=$(( (end - start) / 1000000 ))"
		cmp -s "$R/host/opt/cni/bin/coil" "$R/coil-under-test" && echo "self_copied=yes"
		[ "$(stat -c %a "$R/host/opt/cni/bin/coil")" = 755 ] && echo "bin_mode=yes"
		printf "%s" "$NETCONF" | cmp -s - "$R/host/etc/cni/net.d/10-coil.conflist" &&
			echo "conf_default=yes"
		# 2: the static build next to this executable is the default source.
		cp "$FAKE" "$R/coil-static"
		chroot "$R" env -i CNI_NETCONF="$NETCONF" /coil-under-test install --sleep=0
		cmp -s "$R/host/opt/cni/bin/coil" "$FAKE" && echo "default_path=yes"
		# 3: --standalone: the host dirs /opt/cni/bin and /usr/local/bin/coil (the config
		# dir is redirected: /etc here is the real one), this executable as the source.
		chroot "$R" env -i CNI_NETCONF="$NETCONF" CNI_ETC_DIR=/tmp/etc \
			/coil-under-test install --standalone --sleep=0
		cmp -s "$R/usr/local/bin/coil" "$R/coil-under-test" &&
			[ "$(readlink "$R/opt/cni/bin/coil")" = /usr/local/bin/coil ] &&
			echo "standalone_default=yes"
	' sh "$R" "$COIL" "$NETCONF" "$WORK/fake-coil" >"$WORK/defaults.out" 2>"$WORK/defaults.err"
	echo $?
}
if [ "$(id -u)" -ne 0 ]; then
	fail "defaults check needs root (unshare -m, chroot); run the test as root"
else
	host_before=$(ls -d /host 2>/dev/null)
	rc=$(defaults_check)
	res=$(cat "$WORK/defaults.out")
	ms=$(sed -n 's/^elapsed_ms=//p' "$WORK/defaults.out")
	if [ "$rc" != 0 ]; then
		fail "defaults: exit $rc: $res $(cat "$WORK/defaults.err")"
	else
		for key in self_copied bin_mode conf_default default_path standalone_default; do
			echo "$res" | grep -qx "$key=yes" && ok "defaults: $key" ||
				fail "defaults: $key missing: $res $(cat "$WORK/defaults.err")"
		done
		[ -n "$ms" ] && [ "$ms" -ge 6000 ] && [ "$ms" -lt 9000 ] &&
			ok "defaults: waits 6 s ($ms ms)" || fail "defaults: ran $ms ms, want 6 s"
	fi
	[ "$(ls -d /host 2>/dev/null)" = "$host_before" ] && ok "defaults: the real /host untouched" ||
		fail "defaults: /host appeared on the real root"
fi

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "all install e2e checks passed"
