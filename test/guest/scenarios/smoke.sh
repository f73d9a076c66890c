# The rig itself: the guest kernel has what the egress data path needs and the staged
# coil runs. Loads fou/fou6 explicitly (the kernel never autoloads them), makes a FoU
# listener, an ipip tunnel with FoU encapsulation, a dummy link, and counts a masquerade rule.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need ip nft iptables curl jq modprobe

check "coil runs in the guest" "$COIL" --version
check "modprobe fou" modprobe fou
check "modprobe fou6" modprobe fou6
new_netns smoke-a
check "FoU listener on UDP 5555" ip -n smoke-a fou add port 5555 ipproto 4
check_eq "the FoU listener is listed" "port 5555 ipproto 4" "$(ip -n smoke-a fou show)"
ip -n smoke-a link add dum0 type dummy && ip -n smoke-a addr add 192.0.2.1/24 dev dum0 &&
	ip -n smoke-a link set dum0 up
check "a dummy link" ip -n smoke-a link show dum0
check "an ipip tunnel with FoU encapsulation" ip -n smoke-a link add tun1 type ipip \
	remote 192.0.2.2 local 192.0.2.1 encap fou encap-sport auto encap-dport 5555
check "the tunnel carries the FoU encapsulation" \
	bash -c "ip -n smoke-a -d link show tun1 | grep -q 'encap fou'"
check "an ip6tnl tunnel" ip -n smoke-a link add tun6 type ip6tnl mode any remote fd00::2 local fd00::1
check "iptables-nft masquerade" ip netns exec smoke-a iptables -t nat -A POSTROUTING -o dum0 -j MASQUERADE
check "native nftables masquerade" ip netns exec smoke-a nft -f - <<NFT
table ip smoke {
	chain post {
		type nat hook postrouting priority 100;
		oifname "dum0" counter masquerade
	}
}
NFT
check_eq "nft lists the masquerade" 1 "$(ip netns exec smoke-a nft list table ip smoke | grep -c masquerade)"
finish
