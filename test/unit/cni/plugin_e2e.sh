#!/bin/sh
# End-to-end checks of the built coil binary as the CNI plugin: the runtime's
# view (environment, stdin, stdout, exit status), with a one-shot fake coild.
# Usage: plugin_e2e.sh COIL FAKE_COILD_PY
set -u
COIL=$1
FAKE=$2
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/coil-cni-e2e-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect NAME WANT_STATUS WANT_SUBSTRING: compares $status and $out of the last run.
expect() {
	if [ "$status" != "$2" ]; then
		fail "$1: exit status $status, want $2 (stdout: $out)"
	elif [ -n "$3" ] && ! printf '%s' "$out" | grep -qF -- "$3"; then
		fail "$1: stdout lacks '$3': $out"
	else
		echo "ok: $1"
	fi
}

# run STDIN VAR=VALUE...: runs the plugin with exactly these CNI variables.
run() {
	input=$1
	shift
	out=$(printf '%s' "$input" | env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_NETNS \
		-u CNI_IFNAME -u CNI_ARGS -u CNI_PATH -u CNI_NETNS_OVERRIDE "$@" "$COIL" 2>"$WORK/stderr")
	status=$?
}

ADD_ENV="CNI_COMMAND=ADD CNI_CONTAINERID=pod1 CNI_NETNS=/run/netns/e2e-none CNI_IFNAME=eth0
CNI_PATH=/opt/cni/bin CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=foo;K8S_POD_UID=u1"
SOCK=$WORK/coild.sock
conf() { # conf VERSION [EXTRA]
	printf '{"cniVersion":"%s","name":"k8s-pod-network","type":"coil","socket":"%s"%s}' \
		"$1" "$SOCK" "${2:-}"
}

# VERSION
run "" CNI_COMMAND=VERSION
expect "VERSION" 0 '{"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}'

# CNI_COMMAND unset: the about lines on stderr, exit 0, nothing on stdout
run ""
expect "unset CNI_COMMAND" 0 ""
[ -z "$out" ] || fail "unset CNI_COMMAND printed on stdout: $out"
grep -qx "coil 2.15.0" "$WORK/stderr" || fail "about line 1 missing: $(cat "$WORK/stderr")"
grep -qx "CNI protocol versions supported: 0.3.1, 0.4.0, 1.0.0, 1.1.0" "$WORK/stderr" ||
	fail "about line 2 missing: $(cat "$WORK/stderr")"

# --help (cmd/coil.c routes to the plugin when CNI_COMMAND is set)
out=$(CNI_COMMAND=ADD "$COIL" --help 2>&1)
status=$?
expect "--help" 0 "Usage: CNI_COMMAND="

# missing env
run "$(conf 0.4.0)" CNI_COMMAND=ADD CNI_PATH=/opt/cni/bin
expect "missing env" 1 '"code":4,"msg":"required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"'

# bad JSON, bad name, bad version, unknown command
# shellcheck disable=SC2086
run '{"cniVersion":' $ADD_ENV
expect "bad JSON" 1 '"code":6,"msg":"error unmarshall network config: '
# shellcheck disable=SC2086
run '{"cniVersion":"0.4.0","name":"bad name"}' $ADD_ENV
expect "bad name" 1 '"code":7,"msg":"invalid characters found in network name","details":"bad name"'
# shellcheck disable=SC2086
run "$(conf 0.2.0)" $ADD_ENV
expect "bad version" 1 '"code":1,"msg":"incompatible CNI versions","details":"config is \"0.2.0\"'
# shellcheck disable=SC2086
run '{"name":"k"}' $ADD_ENV
expect "missing version" 1 '"code":1,"msg":"incompatible CNI versions","details":"config is \"0.1.0\"'
run "$(conf 1.0.0)" CNI_COMMAND=FROB
expect "unknown command" 1 '"code":4,"msg":"unknown CNI_COMMAND: FROB"'

# daemon unreachable: code 11 at once
start=$(date +%s)
# shellcheck disable=SC2086
run "$(conf 0.4.0)" $ADD_ENV
expect "daemon unreachable" 1 "\"code\":11,\"msg\":\"failed to connect to $SOCK\""
[ $(($(date +%s) - start)) -le 2 ] || fail "daemon unreachable took too long"

# fake daemon: start it, wait for its socket
fake() { # fake REPLY
	rm -f "$WORK/request"
	"$PY" "$FAKE" "$SOCK" "$1" "$WORK/request" &
	fake_pid=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

RESULT='{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"5a:2c:00:00:00:01","sandbox":"/run/netns/e2e-none"},{"name":"veth1a2b3c4d","mac":"e6:01:00:00:00:02"}],"ips":[{"address":"10.1.2.3/32","interface":0},{"address":"fd02::1/128","interface":0}]}'

fake "{\"result\":$RESULT}"
# shellcheck disable=SC2086
run "$(conf 0.4.0)" $ADD_ENV
wait "$fake_pid"
expect "ADD 0.4.0" 0 '{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"5a:2c:00:00:00:01","sandbox":"/run/netns/e2e-none"},{"name":"veth1a2b3c4d","mac":"e6:01:00:00:00:02"}],"ips":[{"version":"4","interface":0,"address":"10.1.2.3/32"},{"version":"6","interface":0,"address":"fd02::1/128"}],"dns":{}}'
for field in '"command":"ADD"' '"container_id":"pod1"' '"netns":"/run/netns/e2e-none"' \
	'"ifname":"eth0"' '"K8S_POD_NAMESPACE":"ns1"' '"K8S_POD_NAME":"foo"' '"K8S_POD_UID":"u1"' \
	'"IS_CHAINED":"false"'; do
	grep -qF -- "$field" "$WORK/request" || fail "request lacks $field: $(cat "$WORK/request")"
done
# compact: no empty lists, no copy of the netconf
for field in '"ips"' '"interfaces"' '"valid_attachments"' '"stdin_data"'; do
	! grep -qF -- "$field" "$WORK/request" || fail "request has $field: $(cat "$WORK/request")"
done

fake "{\"result\":$RESULT}"
# shellcheck disable=SC2086
run "$(conf 1.0.0)" $ADD_ENV
wait "$fake_pid"
expect "ADD 1.0.0" 0 '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"5a:2c:00:00:00:01","sandbox":"/run/netns/e2e-none"},{"name":"veth1a2b3c4d","mac":"e6:01:00:00:00:02"}],"ips":[{"interface":0,"address":"10.1.2.3/32"},{"interface":0,"address":"fd02::1/128"}]}'
printf '%s' "$out" | grep -q '"dns"' && fail "ADD 1.0.0 printed dns: $out"

# chained: prevResult is re-emitted, coild told about its addresses
PREV=',"prevResult":{"cniVersion":"0.4.0","interfaces":[{"name":"veth9"},{"name":"eth0","sandbox":"/run/netns/e2e-none"}],"ips":[{"version":"4","address":"10.9.0.5/24","interface":1}]}'
fake '{"result":{"cniVersion":"1.1.0"}}'
# shellcheck disable=SC2086
run "$(conf 0.4.0 "$PREV")" $ADD_ENV
wait "$fake_pid"
expect "ADD chained" 0 '"ips":[{"version":"4","interface":1,"address":"10.9.0.5/24"}],"dns":{}}'
for field in '"IS_CHAINED":"true"' '"ips":["10.9.0.5"]' '"veth9":false' '"eth0":true'; do
	grep -qF -- "$field" "$WORK/request" || fail "chained request lacks $field: $(cat "$WORK/request")"
done

# an error reply is passed through
fake '{"error":{"code":999,"msg":"failed to get pod","details":"pod not found"},"status":"Internal"}'
# shellcheck disable=SC2086
run "$(conf 1.0.0)" $ADD_ENV
wait "$fake_pid"
expect "ADD error reply" 1 '{"cniVersion":"1.0.0","code":999,"msg":"failed to get pod","details":"pod not found"}'

# DEL and STATUS print nothing on success
fake '{}'
run "$(conf 1.1.0)" CNI_COMMAND=DEL CNI_CONTAINERID=pod1 CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin
wait "$fake_pid"
expect "DEL" 0 ""
[ -z "$out" ] || fail "DEL printed: $out"

fake '{"error":{"code":50,"msg":"The plugin is not available"},"status":"Unavailable"}'
run "$(conf 1.1.0)" CNI_COMMAND=STATUS CNI_PATH=/opt/cni/bin
wait "$fake_pid"
expect "STATUS unavailable" 1 '"code":50,"msg":"The plugin is not available"'

fake '{}'
run "$(conf 1.1.0 ',"cni.dev/valid-attachments":[{"containerID":"pod1","ifname":"eth0"}]')" \
	CNI_COMMAND=GC CNI_PATH=/opt/cni/bin
wait "$fake_pid"
expect "GC" 0 ""
grep -qF '"valid_attachments":[{"containerID":"pod1","ifname":"eth0"}]' "$WORK/request" ||
	fail "GC request lacks the attachments: $(cat "$WORK/request")"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "all plugin e2e checks passed"
