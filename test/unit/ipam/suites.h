#ifndef COIL_TEST_IPAM_SUITES_H
#define COIL_TEST_IPAM_SUITES_H

#include <check.h>

Suite *addr_suite(void);
Suite *subnet_suite(void);
Suite *pool_suite(void);
Suite *alloc_suite(void);

#endif
