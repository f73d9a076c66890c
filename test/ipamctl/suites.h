#ifndef COIL_TEST_IPAMCTL_SUITES_H
#define COIL_TEST_IPAMCTL_SUITES_H

#include <check.h>

TCase *poolmgr_tcase(void);
TCase *reconcile_tcase(void);
TCase *gc_tcase(void);

#endif
