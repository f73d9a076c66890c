/* A mock pool manager that counts calls: allocate carves `<pool>-<n>` for n = 0, 1
 * and answers ErrNoBlock afterwards; pool "broken" always fails with -EIO. */
#ifndef COIL_TEST_IPAMCTL_MOCKPOOLS_H
#define COIL_TEST_IPAMCTL_MOCKPOOLS_H

#include "ipamctl/ipamctl.h"

void mock_reset(void);
struct ipamctl_pools mock_pools(void);
int mock_syncs(const char *pool);
int mock_drops(const char *pool);
int mock_allocations(void);		   /* successful ones */
int mock_allocate_calls(const char *pool); /* all calls for a pool */
void mock_set_used(bool used);

#endif
