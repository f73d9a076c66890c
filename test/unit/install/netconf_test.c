/* Config text: where it comes from, validation, and recognising coil's own config lists. */
#include "suites.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "install/install.h"

#define UPSTREAM_DEFAULT                                                                           \
	"{\"cniVersion\":\"0.4.0\",\"name\":\"k8s-pod-network\",\"plugins\":["                     \
	"{\"type\":\"coil\",\"socket\":\"/run/coild.sock\"},"                                      \
	"{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}"

static const struct {
	const char *text, *conf_name;
	int want;	     /* 0 or -EINVAL */
	const char *err_has; /* substring of the message when invalid */
} validate_cases[] = {
    {UPSTREAM_DEFAULT, "10-coil.conflist", 0, NULL},
    {"{\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"coil\"}]}", "x.conflist", 0,
     NULL},
    {"", "10-coil.conflist", -EINVAL, "not valid JSON"},
    {"   ", "10-coil.conflist", -EINVAL, "not valid JSON"},
    {"{", "10-coil.conflist", -EINVAL, "not valid JSON"},
    {"{\"name\":\"n\",\"plugins\":[{\"type\":\"coil\"}]} trailing", "a.conflist", -EINVAL,
     "not valid JSON"},
    {"{'name':'n'}", "a.conflist", -EINVAL, "not valid JSON"},
    {"[1,2]", "a.conflist", -EINVAL, "must be a JSON object"},
    {"[1,2]", "a.json", -EINVAL, "must be a JSON object"},
    {"\"str\"", "a.conflist", -EINVAL, "must be a JSON object"},
    {"null", "a.conflist", -EINVAL, "must be a JSON object"},
    {"{\"plugins\":[{\"type\":\"coil\"}]}", "a.conflist", -EINVAL, "\"name\""},
    {"{\"name\":\"\",\"plugins\":[{\"type\":\"coil\"}]}", "a.conflist", -EINVAL, "\"name\""},
    {"{\"name\":7,\"plugins\":[{\"type\":\"coil\"}]}", "a.conflist", -EINVAL, "\"name\""},
    {"{\"name\":\"n\"}", "a.conflist", -EINVAL, "\"plugins\""},
    {"{\"name\":\"n\",\"plugins\":[]}", "a.conflist", -EINVAL, "\"plugins\""},
    {"{\"name\":\"n\",\"plugins\":{}}", "a.conflist", -EINVAL, "\"plugins\""},
    {"{\"name\":\"n\",\"plugins\":[1]}", "a.conflist", -EINVAL, "plugins[0]"},
    {"{\"name\":\"n\",\"plugins\":[{\"type\":\"coil\"},{}]}", "a.conflist", -EINVAL, "plugins[1]"},
    {"{\"name\":\"n\",\"plugins\":[{\"type\":\"\"}]}", "a.conflist", -EINVAL, "plugins[0]"},
    /* A single-plugin .conf needs a type; other names only need an object. */
    {"{\"name\":\"n\",\"type\":\"coil\"}", "10-coil.conf", 0, NULL},
    {"{\"name\":\"n\"}", "10-coil.conf", -EINVAL, "\"type\""},
    {"{\"anything\":true}", "10-coil.json", 0, NULL},
    {"{\"anything\":true}", "coil-config", 0, NULL},
};

START_TEST(test_validate)
{
	char err[256] = "";
	const char *text = validate_cases[_i].text;
	int rc = install_validate_netconf(text, strlen(text), validate_cases[_i].conf_name, err,
					  sizeof(err));
	ck_assert_msg(rc == validate_cases[_i].want, "case %d (%s): rc %d, want %d (%s)", _i, text,
		      rc, validate_cases[_i].want, err);
	if (validate_cases[_i].err_has)
		ck_assert_msg(strstr(err, validate_cases[_i].err_has), "case %d: message \"%s\"",
			      _i, err);
}
END_TEST

START_TEST(test_validate_embedded_nul)
{
	char err[256];
	static const char text[] = "{\"name\":\"n\",\"plugins\":[{\"type\":\"coil\"}]}\0junk";
	ck_assert_int_eq(
	    install_validate_netconf(text, sizeof(text) - 1, "a.conflist", err, sizeof(err)),
	    -EINVAL);
}
END_TEST

static const struct {
	const char *text;
	bool want;
} coil_cases[] = {
    {UPSTREAM_DEFAULT, true},
    {"{\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"coil\"}]}", true},
    {"{\"plugins\":[{\"type\":\"calico\"}]}", false},
    {"{\"plugins\":[{\"type\":\"coil2\"}]}", false},
    {"{\"plugins\":[{\"type\":\"coi\"}]}", false},
    {"{\"plugins\":[{\"type\":\"coil\\u0000x\"}]}", false},
    {"{\"type\":\"coil\"}", false}, /* a single .conf is not a config list */
    {"{\"plugins\":\"coil\"}", false},
    {"{\"plugins\":[\"coil\"]}", false},
    {"{\"plugins\":[{\"type\":7}]}", false},
    {"[{\"type\":\"coil\"}]", false},
    {"", false},
    {"{\"plugins\":[{\"type\":\"coil\"}", false}, /* truncated */
    {"coil", false},
};

START_TEST(test_is_coil_conflist)
{
	const char *text = coil_cases[_i].text;
	ck_assert_msg(install_is_coil_conflist(text, strlen(text)) == coil_cases[_i].want,
		      "case %d: %s", _i, text);
}
END_TEST

static const struct {
	const char *name;
	int want;
} name_cases[] = {
    {"10-coil.conflist", 0}, {"x", 0},		{".hidden.conflist", 0},
    {"", -EINVAL},	     {".", -EINVAL},	{"..", -EINVAL},
    {"a/b", -EINVAL},	     {"/abs", -EINVAL}, {"../10-coil.conflist", -EINVAL},
};

START_TEST(test_conf_name)
{
	char err[256] = "";
	ck_assert_msg(install_check_conf_name(name_cases[_i].name, err, sizeof(err)) ==
			  name_cases[_i].want,
		      "name \"%s\"", name_cases[_i].name);
	if (name_cases[_i].want)
		ck_assert_ptr_nonnull(strstr(err, "CNI_CONF_NAME"));
}
END_TEST

/* CNI_NETCONF wins when non-empty; CNI_NETCONF_FILE otherwise; neither is an error. */
START_TEST(test_load_netconf)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], missing[PATH_MAX + 16], err[512];
	tmpdir_make(dir);
	file_put(dir, "net.json", "{\"from\":\"file\"}", 0644);
	file_put(dir, "empty.json", "", 0644);
	snprintf(file, sizeof(file), "%s/net.json", dir);
	snprintf(missing, sizeof(missing), "%s/missing.json", dir);
	const struct {
		const char *netconf, *file, *want, *err_has;
	} cases[] = {
	    {"{\"from\":\"env\"}", file, "{\"from\":\"env\"}", NULL},
	    {"{\"from\":\"env\"}", NULL, "{\"from\":\"env\"}", NULL},
	    {"", file, "{\"from\":\"file\"}", NULL},
	    {NULL, file, "{\"from\":\"file\"}", NULL},
	    {NULL, NULL, NULL, "set CNI_NETCONF or CNI_NETCONF_FILE"},
	    {"", "", NULL, "set CNI_NETCONF or CNI_NETCONF_FILE"},
	    {NULL, missing, NULL, "missing.json"},
	    {NULL, dir, NULL, "cannot read CNI_NETCONF_FILE"}, /* a directory */
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct install_config cfg = {.netconf = cases[i].netconf,
					     .netconf_file = cases[i].file};
		char *out = NULL;
		size_t len = 0;
		int rc = install_load_netconf(&cfg, &out, &len, err, sizeof(err));
		if (cases[i].want) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
			ck_assert_str_eq(out, cases[i].want);
			ck_assert_uint_eq(len, strlen(cases[i].want));
		} else {
			ck_assert_msg(rc < 0 && out == NULL, "case %zu: rc %d", i, rc);
			ck_assert_msg(strstr(err, cases[i].err_has), "case %zu: \"%s\"", i, err);
		}
		free(out);
	}
	/* An empty file is read as empty text, which validation then rejects. */
	snprintf(file, sizeof(file), "%s/empty.json", dir);
	struct install_config cfg = {.netconf_file = file};
	char *out = NULL;
	size_t len = 1;
	ck_assert_int_eq(install_load_netconf(&cfg, &out, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, 0);
	free(out);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_load_netconf_too_big)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], err[512];
	tmpdir_make(dir);
	char *big = malloc(INSTALL_MAX_CONFIG + 2);
	memset(big, ' ', INSTALL_MAX_CONFIG + 1);
	big[INSTALL_MAX_CONFIG + 1] = '\0';
	file_put(dir, "big.json", big, 0644);
	free(big);
	snprintf(file, sizeof(file), "%s/big.json", dir);
	struct install_config cfg = {.netconf_file = file};
	char *out = NULL;
	size_t len;
	ck_assert_int_eq(install_load_netconf(&cfg, &out, &len, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_null(out);
	tmpdir_remove(dir);
}
END_TEST

Suite *netconf_suite(void)
{
	Suite *s = suite_create("netconf");
	TCase *tc = tcase_create("netconf");
	tcase_add_loop_test(tc, test_validate, 0, (int)N(validate_cases));
	tcase_add_test(tc, test_validate_embedded_nul);
	tcase_add_loop_test(tc, test_is_coil_conflist, 0, (int)N(coil_cases));
	tcase_add_loop_test(tc, test_conf_name, 0, (int)N(name_cases));
	tcase_add_test(tc, test_load_netconf);
	tcase_add_test(tc, test_load_netconf_too_big);
	suite_add_tcase(s, tc);
	return s;
}
