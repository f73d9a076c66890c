#ifndef COIL_TEST_WEBHOOK_SUITES_H
#define COIL_TEST_WEBHOOK_SUITES_H

#include <check.h>

Suite *review_suite(void);
Suite *egress_review_suite(void);
Suite *certreload_suite(void);
Suite *server_suite(void);

#endif
