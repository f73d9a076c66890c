#!/bin/bash
# coil's container image under the rig's private containerd, used the way the coild
# DaemonSet uses it: the init container runs `coil-installer`, which puts the plugin and the
# CNI configuration into the node's CNI dirs, then the main container runs `coild` (both by
# their upstream names, found on the image's PATH) with host networking in the node netns;
# finally pod sandboxes made through CRI get their addresses from that coild.
#
# Usage: test/containerd/test_image.sh IMAGE_TAR COIL
# IMAGE_TAR is what scripts/image.sh wrote from the binary COIL (the installed plugin must be
# that file); the image reference comes from scripts/image.sh --ref. A missing archive, containerd or runc fails the test: nothing here skips.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=rig.sh
source "$HERE/rig.sh"

IMAGE_TAR=${1:-}
COIL_BIN=${2:-}
PASSED=0
PODS=3

say() { printf '%s %s\n' "$(date +%T.%N | cut -c1-12)" "$*"; }
pass() {
	PASSED=$((PASSED + 1))
	say "ok: $*"
}
fail() {
	say "FAIL: $*"
	echo "test_image: $PASSED passed, 1 failed"
	exit 1
}

[[ -n $IMAGE_TAR && -s $IMAGE_TAR ]] ||
	fail "no image archive ${IMAGE_TAR:-(none given)}: build it with scripts/image.sh"
[[ -n $COIL_BIN && -x $COIL_BIN ]] || fail "no coil binary ${COIL_BIN:-(none given)}"
for tool in containerd ctr runc; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps.sh test)"
done
IMAGE=$("$REPO/scripts/image.sh" --ref)

ctr_() { ctr --address "$RIG_SOCKET" --namespace k8s.io "$@"; }

# run_image --rm|-d ID CMD...: a container of the image as the DaemonSet runs it: privileged, host
# network (the node netns containerd lives in), host dirs bind-mounted; under the rig's cgroup
# parent and runc root so that the rig's cleanup finds whatever we leave.
run_image() {
	local mode=$1 id=$2
	shift 2
	ctr_ run "$mode" --privileged --net-host --cgroup "$RIG_CGROUP_PARENT/$id" \
		--runc-root "$RIG_DIR/runc/k8s.io" "${MOUNTS[@]}" "${ENVS[@]}" "$IMAGE" "$id" "$@"
}

# The coild container is ours to remove before the rig stops containerd.
remove_coild() {
	ctr_ task kill -s KILL coild >/dev/null 2>&1 || true
	for _ in $(seq 50); do
		ctr_ task ls 2>/dev/null | grep -q '^coild ' || break
		sleep 0.1
	done
	ctr_ task delete coild >/dev/null 2>&1 || true
	ctr_ container delete coild >/dev/null 2>&1 || true
}

on_exit() {
	local rc=$?
	set +e # cleanup runs to the end, whatever fails in it
	if [[ -n ${RIG_DIR:-} && -S ${RIG_SOCKET:-} ]]; then
		[[ $rc -eq 0 ]] || ctr_ task ls >&2 || true
		# Pods first (their DELs need coild), then coild.
		rig_cri --timeout 30 rmall >>"$RIG_DIR/netns-ours" || true
		remove_coild
	fi
	(exit "$rc")
	rig__on_exit
}

# The upstream CNI configuration from deploy/, with the socket where this test's coild
# listens (the node's /run is $RIG_DIR/run here, not the machine's).
netconf() {
	sed -n '/cni_netconf: |/,$p' "$REPO/deploy/default/coil-config.yaml" | tail -n +2 | sed 's/^    //' |
		sed "s|\"/run/coild.sock\"|\"$RIG_DIR/run/coild.sock\"|"
}

check_installed() {
	local conf=$RIG_CNI_CONF/10-coil.conflist
	[[ -f $conf ]] || fail "coil-installer wrote no $conf"
	[[ $(stat -c %a "$conf") == 644 ]] || fail "$conf has mode $(stat -c %a "$conf"), not 644"
	# (Compared as strings: $(netconf) drops the trailing newline the ConfigMap value has.)
	[[ $(netconf) == "$(cat "$conf")" ]] || fail "$conf differs from the ConfigMap's cni_netconf"
	[[ -f $RIG_CNI_BIN/coil && ! -L $RIG_CNI_BIN/coil ]] || fail "no plugin file $RIG_CNI_BIN/coil"
	[[ $(stat -c %a "$RIG_CNI_BIN/coil") == 755 ]] || fail "the plugin is not mode 755"
	# The installer copies the image's /usr/local/coil/coil-static, the host plugin built into it.
	cmp -s "$(dirname "$COIL_BIN")/coil-static" "$RIG_CNI_BIN/coil" ||
		fail "the installed plugin is not the image's coil-static"
	ldd "$RIG_CNI_BIN/coil" >/dev/null 2>&1 && fail "the installed plugin links shared libraries"
	[[ -z $(find "$RIG_CNI_BIN" "$RIG_CNI_CONF" -name '.*') ]] || fail "temp files left"
	[[ ! -e $RIG_CNI_CONF/05-other.conflist ]] || fail "coil-installer kept another CNI's conflist"
	pass "coil-installer: 10-coil.conflist (0644, the ConfigMap's netconf), bin/coil (0755, static), other conflists gone"
}

start_coild() {
	run_image -d coild coild --standalone --config /etc/coil/pools.yaml \
		--state-dir /run/coild-state --socket /run/coild.sock --empty-block-grace 0 \
		--node-ipv4 10.20.30.41 --node-ipv6 fd10::41 >/dev/null || fail "ctr run coild failed"
	for _ in $(seq 100); do
		[[ -S $RIG_DIR/run/coild.sock ]] && break
		ctr_ task ls | grep -q '^coild .*RUNNING' || fail "coild exited: $(ctr_ task ls)"
		sleep 0.1
	done
	[[ -S $RIG_DIR/run/coild.sock ]] || fail "coild made no socket within 10 s"
	# The health server may come up a moment after the socket.
	for _ in $(seq 50); do
		rig_node bash -c 'exec 3<>/dev/tcp/127.0.0.1/9385 &&
			printf "GET /readyz HTTP/1.0\r\n\r\n" >&3 && head -1 <&3' 2>/dev/null |
			grep -q ' 200 ' && break
		sleep 0.1
	done || true
	rig_node bash -c 'exec 3<>/dev/tcp/127.0.0.1/9385 && printf "GET /readyz HTTP/1.0\r\n\r\n" >&3 && head -1 <&3' |
		grep -q ' 200 ' || fail "coild's /readyz on 9385 does not answer 200 within 5 s"
	pass "coild runs from the image in the node netns (socket, /readyz 200)"
}

# docker_format: no Docker engine here, so check what `docker load` reads from the archive:
# manifest.json with the reference as RepoTags, the config blob it names, and layers whose
# uncompressed digests are the config's diff_ids.
docker_format() {
	"$RIG_PYTHON" - "$IMAGE_TAR" "$IMAGE" <<'PY'
import gzip, hashlib, json, sys, tarfile
tar = tarfile.open(sys.argv[1])
read = lambda name: tar.extractfile("./" + name).read()
[entry] = json.loads(read("manifest.json"))
config = json.loads(read(entry["Config"]))
diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(read(layer))).hexdigest()
            for layer in entry["Layers"]]
index = json.loads(read("index.json"))
ok = (entry["RepoTags"] == [sys.argv[2]] and diff_ids == config["rootfs"]["diff_ids"] and
      index["manifests"][0]["annotations"]["io.containerd.image.name"] == sys.argv[2])
if not ok:
    print("manifest.json %s, diff_ids %s, index %s" % (entry, diff_ids, index), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

main() {
	local start=$SECONDS i id ips
	rig_start --plugin portmap=/usr/lib/cni/portmap
	trap on_exit EXIT
	mkdir -p "$RIG_DIR/run" "$RIG_DIR/test"
	docker_format || fail "the archive is not what docker load reads (see above)"
	pass "archive: manifest.json names $IMAGE, its config and layers match (docker load's format)"
	ctr_ images import "$IMAGE_TAR" >/dev/null || fail "ctr images import $IMAGE_TAR failed"
	ctr_ images ls -q | grep -qx "$IMAGE" || fail "$IMAGE not listed after the import"
	pass "ctr images import: $IMAGE"

	# What upstream's image carries, found the way its manifests find it: on PATH.
	MOUNTS=() ENVS=()
	run_image --rm content sh -c 'set -e
		for p in coild coil-installer coil-ipam-controller coil-router coil-egress \
			coil-egress-controller coil-migrator; do
			[ "$(command -v $p)" = /usr/local/coil/$p ] && [ -L /usr/local/coil/$p ]; done
		[ -x /usr/local/coil/coil ] && [ ! -L /usr/local/coil/coil ]
		case "$(iptables --version)" in *nf_tables*) ;; *) exit 1 ;; esac; ip6tables-save -V; nft --version; ip -V
		conntrack --version; modprobe --version
		# Loaded with dlopen at run time by the daemons: ldd of coil does not list them.
		# libcurl: coil'"'"'s own lean build beside it, or Debian'"'"'s (COIL_CURL=system).
		[ -e /usr/local/lib/coil/libcoil-curl.so.4 ] || [ -e /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4 ]
		for l in libmicrohttpd.so.12 libgnutls.so.30; do
			[ -e /usr/lib/x86_64-linux-gnu/$l ]; done' >"$RIG_DIR/test/content.log" 2>&1 ||
		fail "image content: $(cat "$RIG_DIR/test/content.log")"
	pass "image content: the upstream program names on PATH, iptables-nft, nft, ip, conntrack, kmod, the dlopen libraries"

	# The HTTP client the daemons load works in the image: a request to a closed port gets
	# libcurl's own connect error, not "cannot load" (a library or one it needs missing).
	run_image --rm http sh -c 'printf "%s\n" "apiVersion: v1" "kind: Config" "current-context: x" \
		"clusters:" "- name: c" "  cluster: {server: \"https://127.0.0.1:1\"}" \
		"users:" "- name: u" "  user: {token: t}" \
		"contexts:" "- name: x" "  context: {cluster: c, user: u}" >/tmp/kubeconfig
		coil-migrator dump --kubeconfig /tmp/kubeconfig 2>&1' >"$RIG_DIR/test/http.log" 2>&1 ||
		true # it fails by design; what it says is the verdict
	grep -q "Failed to connect to 127.0.0.1 port 1" "$RIG_DIR/test/http.log" ||
		fail "libcurl in the image: $(cat "$RIG_DIR/test/http.log")"
	pass "image libcurl: loads and connects (refused by a closed port, as it should be)"

	# The DaemonSet's volumes: the node's CNI dirs for the installer; /run (HostToContainer:
	# the runtime's netns files under /run/netns must show up while coild runs), /lib/modules
	# read-only and the pools for coild.
	MOUNTS=(--mount "type=bind,src=$RIG_CNI_BIN,dst=/host/opt/cni/bin,options=rbind:rw"
		--mount "type=bind,src=$RIG_CNI_CONF,dst=/host/etc/cni/net.d,options=rbind:rw")
	ENVS=(--env "CNI_NETCONF=$(netconf)")
	# Another CNI's list, as a node that ran something else before has: upstream's installer
	# removes it, so that it cannot sort before coil's and win.
	echo '{"cniVersion":"0.4.0","name":"other","plugins":[{"type":"ptp"}]}' >"$RIG_CNI_CONF/05-other.conflist"
	run_image --rm installer coil-installer >"$RIG_DIR/test/installer.log" 2>&1 ||
		fail "coil-installer failed: $(cat "$RIG_DIR/test/installer.log")"
	check_installed

	mkdir -p /run/netns
	MOUNTS=(--mount "type=bind,src=$RIG_DIR/run,dst=/run,options=rbind:rw"
		--mount "type=bind,src=/run/netns,dst=/run/netns,options=rbind:rslave"
		--mount "type=bind,src=$REPO/test/node/pools.yaml,dst=/etc/coil/pools.yaml,options=rbind:ro")
	# A kernel without loadable modules (this project's machines) has no /lib/modules.
	if [[ -d /lib/modules ]]; then
		MOUNTS+=(--mount "type=bind,src=/lib/modules,dst=/lib/modules,options=rbind:ro")
	fi
	ENVS=()
	start_coild

	for i in $(seq "$PODS"); do
		read -r id ips < <(rig_cri run "pod-$i" test-ns) || fail "RunPodSandbox pod-$i failed"
		[[ $ips == 10.100.* ]] || fail "pod-$i got '$ips', not an address of the default pool"
		[[ $ips == *fd00:100::* ]] || fail "pod-$i got no IPv6 address of the default pool: $ips"
		say "pod-$i ${id:0:12} $ips"
	done
	[[ $(ls "$RIG_DIR/run/coild-state/allocations" | wc -l) -eq $PODS ]] ||
		fail "coild's state does not hold $PODS allocations"
	pass "$PODS pod sandboxes through CRI got their addresses from the image's coild"

	rig_cri --timeout 30 rmall >>"$RIG_DIR/netns-ours" || fail "removing the pods failed"
	# coild frees an address once its reaper has deleted the veth, a moment after the DEL.
	for _ in $(seq 50); do
		[[ -z $(ls -A "$RIG_DIR/run/coild-state/allocations") ]] && break
		sleep 0.1
	done
	[[ -z $(ls -A "$RIG_DIR/run/coild-state/allocations") ]] || fail "addresses still allocated"
	pass "pods removed, every address given back"
	remove_coild
	rig_stop || fail "the rig's cleanup found leftovers"
	pass "rig cleaned up, nothing left behind"
	say "done in $((SECONDS - start)) s"
	echo "test_image: $PASSED passed, 0 failed"
}

main
