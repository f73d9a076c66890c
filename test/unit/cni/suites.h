#ifndef COIL_TEST_CNI_SUITES_H
#define COIL_TEST_CNI_SUITES_H

#include <check.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

Suite *env_suite(void);
Suite *args_suite(void);
Suite *version_suite(void);
Suite *netconf_suite(void);
Suite *result_suite(void);
Suite *rpc_suite(void);

#endif
