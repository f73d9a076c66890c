#include "suites.h"

#include "cni/cni.h"

/* A failing case: only the details matter. */
#define FAILS(in, details)                                                                         \
	{                                                                                          \
		in, details, NULL, NULL, NULL, NULL                                                \
	}

#define INFRA "c8f4a9c50c85b36eff718aab2ac39209e541a4551420488c33d9216cf1795b3a"

static const struct {
	const char *in;
	const char *details; /* NULL = parses */
	const char *ns, *name, *infra, *uid;
} cases[] = {
    {"", NULL, "", "", "", ""},
    /* the upstream test vector */
    {"IgnoreUnknown=1;K8S_POD_NAMESPACE=test;K8S_POD_NAME=testhttpd-host1;"
     "K8S_POD_INFRA_CONTAINER_ID=" INFRA,
     NULL, "test", "testhttpd-host1", INFRA, ""},
    {"K8S_POD_NAME=a", NULL, "", "a", "", ""},
    {"K8S_POD_NAME=", NULL, "", "", "", ""},
    {"K8S_POD_NAME=a;K8S_POD_NAME=b", NULL, "", "b", "", ""},
    {"IgnoreUnknown=TRUE;X=1", NULL, "", "", "", ""},
    {"X=1;IgnoreUnknown=1", NULL, "", "", "", ""}, /* position does not matter */
    {"IgnoreUnknown=False", NULL, "", "", "", ""},
    {"K8S_POD_UID=u-1;IgnoreUnknown=true;K8S_POD_NAMESPACE=ns", NULL, "ns", "", "", "u-1"},
    FAILS("foo", "ARGS: invalid pair \"foo\""),
    FAILS("a=b=c", "ARGS: invalid pair \"a=b=c\""),
    FAILS("K8S_POD_NAME=a;", "ARGS: invalid pair \"\""),
    FAILS(";", "ARGS: invalid pair \"\""),
    FAILS("K8S_POD_NAME=a;x\"y", "ARGS: invalid pair \"x\\\"y\""),
    FAILS("IgnoreUnknown=maybe",
	  "ARGS: error parsing value of pair \"IgnoreUnknown=maybe\": boolean unmarshal error: "
	  "invalid input maybe"),
    FAILS("IgnoreUnknown=Yes",
	  "ARGS: error parsing value of pair \"IgnoreUnknown=Yes\": boolean unmarshal error: "
	  "invalid input yes"),
    FAILS("X=1", "ARGS: unknown args [\"X=1\"]"),
    FAILS("X=1;K8S_POD_UID=u", "ARGS: unknown args [\"X=1\" \"K8S_POD_UID=u\"]"),
    FAILS("IgnoreUnknown=0;X=1", "ARGS: unknown args [\"X=1\"]"),
    FAILS("k8s_pod_name=a", "ARGS: unknown args [\"k8s_pod_name=a\"]"), /* case-sensitive */
    FAILS("=x", "ARGS: unknown args [\"=x\"]"),
};

START_TEST(test_args)
{
	struct cni_args args;
	struct cni_error err = {0};
	int rc = cni_args_parse(cases[_i].in, &args, &err);
	if (cases[_i].details) {
		ck_assert_int_lt(rc, 0);
		ck_assert_int_eq(err.code, CNI_ERR_INVALID_ENV);
		ck_assert_str_eq(err.msg, "failed to load CNI_ARGS");
		ck_assert_str_eq(err.details, cases[_i].details);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(args.pod_namespace, cases[_i].ns);
		ck_assert_str_eq(args.pod_name, cases[_i].name);
		ck_assert_str_eq(args.pod_infra_container_id, cases[_i].infra);
		ck_assert_str_eq(args.pod_uid, cases[_i].uid);
	}
	cni_args_free(&args);
}
END_TEST

Suite *args_suite(void)
{
	Suite *s = suite_create("args");
	TCase *tc = tcase_create("args");
	tcase_add_loop_test(tc, test_args, 0, N(cases));
	suite_add_tcase(s, tc);
	return s;
}
