#include "helpers.h"

#include <stdlib.h>
#include <string.h>

void add_spec_blocks(struct fake_source *fake)
{
	fake_source_add(fake, "default", "default-0", 0, "10.2.0.0/31", "fd02::200/127");
	fake_source_add(fake, "default", "default-1", 1, "10.2.0.2/31", "fd02::202/127");
	fake_source_add(fake, "v4", "v4-0", 2, "10.4.0.0/30", "");
}

struct node_ipam *new_ipam(struct fake_source *fake, const char *state_dir,
			   const char *boot_id_path)
{
	struct node_ipam_config config = {
	    .source = &fake->source,
	    .state_dir = state_dir,
	    .boot_id_path = boot_id_path,
	};
	struct node_ipam *ipam = NULL;
	char err[512] = "";
	int ret = node_ipam_new(&config, &ipam, err, sizeof(err));
	ck_assert_msg(ret == 0, "node_ipam_new: %d %s", ret, err);
	return ipam;
}

void expect_allocate(struct node_ipam *ipam, const char *pool, const char *id, const char *ifname,
		     const char *ipv4, const char *ipv6)
{
	char got4[IP_ADDR_STRLEN], got6[IP_ADDR_STRLEN], err[512] = "";
	int ret = node_ipam_allocate(ipam, pool, id, ifname, got4, got6, err, sizeof(err));
	ck_assert_msg(ret == 0, "allocate %s %s: %d %s", id, ifname, ret, err);
	ck_assert_str_eq(got4, ipv4);
	ck_assert_str_eq(got6, ipv6);
}

void expect_owned(struct node_ipam *ipam, const char *const *cidrs)
{
	struct node_ipam_cidr *owned;
	size_t n, want = 0;
	ck_assert_int_eq(node_ipam_owned_cidrs(ipam, &owned, &n), 0);
	for (; cidrs[want]; want++) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(owned[i].text, cidrs[want]) == 0;
		ck_assert_msg(found, "%s not owned", cidrs[want]);
	}
	ck_assert_uint_eq(n, want);
	free(owned);
}

size_t record_count(struct node_ipam *ipam)
{
	struct node_ipam_record *records;
	size_t n;
	ck_assert_int_eq(node_ipam_list_records(ipam, &records, &n), 0);
	free(records);
	return n;
}
