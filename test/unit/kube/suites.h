#ifndef COIL_TEST_KUBE_SUITES_H
#define COIL_TEST_KUBE_SUITES_H

#include <check.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

Suite *config_suite(void);
Suite *path_suite(void);
Suite *selector_suite(void);
Suite *json_suite(void);
Suite *client_suite(void);
Suite *watch_suite(void);

#endif
