/* The suites of test_coilapi (lib/coilapi and lib/yamljson), one per file. */
#ifndef COIL_TEST_COILAPI_SUITES_H
#define COIL_TEST_COILAPI_SUITES_H

#include <check.h>

Suite *coilapi_suite(void);
Suite *yamljson_suite(void);

#endif
