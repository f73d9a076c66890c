# lib/founat and coil egress's NAT server on a kernel that has FoU: the C test program
# test_founat_kernel (test/guest/programs) makes its own network namespaces (fds only, so
# nothing is left behind) and checks links, listeners, rules, routes, counters and a 1 MiB
# upload through the tunnel for IPv4 and IPv6 with both NAT backends and source-port modes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need ip iptables ip6tables nft modprobe
[ -x /opt/bin/test_founat_kernel ] || die "test_founat_kernel is not staged"
check "test_founat_kernel" env CK_FORK=no /opt/bin/test_founat_kernel
finish
