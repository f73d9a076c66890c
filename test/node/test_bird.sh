#!/bin/bash
# BIRD advertises the node's blocks: docs/examples/bird.conf, as shipped, runs on the node
# next to coild and peers over eBGP (IPv4 and IPv6) with a "router" netns running BIRD too.
# The router learns each block coild exports to table 119 while it has pods, reaches the
# pods through the node, and loses the route when the block is released; the node installs
# what the router announces in its main table, and nothing of its own.
source "$(dirname "$0")/lib.sh"
init_test bird birdc
setup_node

TOR="${PREFIX}-tor"
NODE_CONF="$WORK/bird-node.conf"
TOR_CONF="$WORK/bird-tor.conf"
BIRD_PIDS=()

# The node's uplink: NODE_IPV4/NODE_IPV6 (the addresses coild was given) towards the router.
make_netns "$TOR"
ip -n "$NODE" link add up0 type veth peer name down0 netns "$TOR" || die "uplink veth"
ip -n "$NODE" addr add "$NODE_IPV4/24" dev up0
ip -n "$NODE" addr add "$NODE_IPV6/64" dev up0 nodad
ip -n "$TOR" addr add 10.20.30.1/24 dev down0
ip -n "$TOR" addr add fd10::1/64 dev down0 nodad
ip -n "$NODE" link set up0 up
ip -n "$TOR" link set down0 up

# The shipped file with this rig's numbers, logging to a file.
sed -e 's/^define NODE_AS = .*/define NODE_AS = 64601;/' \
	-e 's/^define TOR_AS = .*/define TOR_AS = 64512;/' \
	-e 's/^define TOR_IPV4 = .*/define TOR_IPV4 = 10.20.30.1;/' \
	-e 's/^define TOR_IPV6 = .*/define TOR_IPV6 = fd10::1;/' \
	-e "s|^log syslog all;|log \"$WORK/bird-node.log\" all;|" \
	"$TEST_DIR/../../docs/examples/bird.conf" >"$NODE_CONF"
check_eq "the rig changed the four definitions and the log" 5 \
	"$(diff "$TEST_DIR/../../docs/examples/bird.conf" "$NODE_CONF" | grep -c '^>')"

cat >"$TOR_CONF" <<CONF
log "$WORK/bird-tor.log" all;
router id 10.20.30.1;
protocol device {}
protocol static { ipv4; route 10.99.0.0/24 blackhole; }
protocol static { ipv6; route fd99::/64 blackhole; }
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel { ipv6 { import none; export where source = RTS_BGP; }; }
protocol bgp node4 {
	local as 64512; neighbor $NODE_IPV4 as 64601; connect delay time 1;
	ipv4 { import all; export where source = RTS_STATIC; };
}
protocol bgp node6 {
	local as 64512; neighbor $NODE_IPV6 as 64601; connect delay time 1;
	ipv6 { import all; export where source = RTS_STATIC; };
}
CONF

start_bird() { # start_bird NETNS CONF NAME
	nsenter --net="/var/run/netns/$1" bird -f -c "$2" -s "$WORK/$3.ctl" \
		>>"$WORK/bird-$3.out" 2>&1 &
	BIRD_PIDS+=($!)
}
birdc_in() { birdc -s "$WORK/$1.ctl" "${@:2}"; }
established() { birdc_in "$1" show protocols "$2" 2>/dev/null | grep -q Established; }
stop_birds() {
	local pid
	for pid in "${BIRD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${BIRD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	BIRD_PIDS=()
}

start_bird "$NODE" "$NODE_CONF" node
start_bird "$TOR" "$TOR_CONF" tor
# The router connects 1 s after its start (connect delay time, default 5 s) and the
# node's BIRD takes the session.
check "IPv4 session established" wait_for 30 established node tor4
check "IPv6 session established" wait_for 30 established node tor6

# What the router announces lands in the node's main table.
route_of() { ip -n "$1" -"$2" route show "$3" ${4:+table "$4"}; }
learned() { route_of "$NODE" "$1" "$2" | grep -q "via $3 .*proto bird"; }
check "node installs the router's IPv4 route" wait_for 10 learned 4 10.99.0.0/24 10.20.30.1
check "node installs the router's IPv6 route" wait_for 10 learned 6 fd99::/64 fd10::1

# A pod: its block appears in table 119, and at the router via the node.
add_pod p1
check_eq "ADD p1 [$OUT]" 0 "$RC"
IP4=$(ips_of "$OUT" 4)
IP6=$(ips_of "$OUT" 6)
BLOCK4=$(table_routes 4 119 | awk '{print $1}')
BLOCK6=$(table_routes 6 119 | awk '{print $1}')
check_eq "table 119 holds p1's IPv4 block" "10.100.0.0/27" "$BLOCK4"
check_eq "table 119 holds p1's IPv6 block" "fd00:100::/123" "$BLOCK6"
at_tor() { route_of "$TOR" "$1" "$2" | grep -q "via $3 .*proto bird"; }
check "router learns the IPv4 block via the node" wait_for 10 at_tor 4 "$BLOCK4" "$NODE_IPV4"
check "router learns the IPv6 block via the node" wait_for 10 at_tor 6 "$BLOCK6" "$NODE_IPV6"
check "router reaches the pod over IPv4" ip netns exec "$TOR" ping -c 1 -W 2 "$IP4"
check "router reaches the pod over IPv6" ip netns exec "$TOR" ping -6 -c 1 -W 2 "$IP6"
check_eq "BIRD wrote nothing to table 119" "" "$(route_of "$NODE" 4 all 119 | grep -v 'proto 30')"
check_eq "the node's own block is not in its main table" "" "$(route_of "$NODE" 4 "$BLOCK4")"
check_eq "nor its IPv6 block" "" "$(route_of "$NODE" 6 "$BLOCK6")"

# The pod goes, the block is released (--empty-block-grace 0), the router forgets it.
del_pod p1 >/dev/null
gone_at_tor() { [ -z "$(route_of "$TOR" "$1" "$2")" ]; }
check "router withdraws the IPv4 block" wait_for 10 gone_at_tor 4 "$BLOCK4"
check "router withdraws the IPv6 block" wait_for 10 gone_at_tor 6 "$BLOCK6"

stop_birds
[ "$FAILURES" -eq 0 ] || tail -n 20 "$WORK"/bird-*.log "$WORK"/bird-*.out >&2
finish
