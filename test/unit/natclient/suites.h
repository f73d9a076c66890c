/* The suites of test_natclient, one per file. */
#ifndef COIL_TEST_NATCLIENT_SUITES_H
#define COIL_TEST_NATCLIENT_SUITES_H

#include <check.h>

Suite *annotation_suite(void);
Suite *gateway_suite(void);
Suite *plan_suite(void);

#endif
