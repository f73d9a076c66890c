#ifndef COIL_TEST_UNIT_IPAMCTL_SUITES_H
#define COIL_TEST_UNIT_IPAMCTL_SUITES_H

#include <check.h>

TCase *objects_tcase(void);
TCase *indexset_tcase(void);

#endif
