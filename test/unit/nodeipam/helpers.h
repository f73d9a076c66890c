#ifndef COIL_TEST_NODEIPAM_HELPERS_H
#define COIL_TEST_NODEIPAM_HELPERS_H

#include <check.h>

#include "fake_source.h"
#include "nodeipam/nodeipam.h"

Suite *sequence_suite(void);
Suite *concurrency_suite(void);
Suite *persistence_suite(void);

/* The blocks of upstream's node IPAM tests: default-0, default-1 (B=1 dual stack) and v4-0. */
void add_spec_blocks(struct fake_source *fake);

/* A node IPAM over fake; state_dir/boot_id_path may be NULL. */
struct node_ipam *new_ipam(struct fake_source *fake, const char *state_dir,
			   const char *boot_id_path);

/* Allocates and checks the addresses ("" = none). */
void expect_allocate(struct node_ipam *ipam, const char *pool, const char *id, const char *ifname,
		     const char *ipv4, const char *ipv6);

/* Checks the owned CIDRs equal the NULL-terminated list, in any order. */
void expect_owned(struct node_ipam *ipam, const char *const *cidrs);

size_t record_count(struct node_ipam *ipam);

#endif
