#ifndef COIL_TEST_KUBE_IT_SUITES_H
#define COIL_TEST_KUBE_IT_SUITES_H

#include "apiserver.h"

#include <check.h>

Suite *crud_suite(void);
Suite *stream_suite(void);
Suite *leader_suite(void);
Suite *tls_suite(void);

/* configmap JSON for name in ns with one label; new reference. */
json_t *test_configmap(const char *ns, const char *name, const char *app);

/* Creates namespace name unless it exists. */
void test_namespace(struct kube_client *client, const char *name);

#endif
