/* install_config_from_env and install_pick_source: every variable, defaults, empty values. */
#include "suites.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "install/install.h"

static const char *const vars[] = {"CNI_NETCONF", "CNI_NETCONF_FILE", "CNI_CONF_NAME",
				   "CNI_ETC_DIR", "CNI_BIN_DIR",      "COIL_PATH"};

static void clear_env(void)
{
	for (size_t i = 0; i < N(vars); i++)
		unsetenv(vars[i]);
}

/* On a Kubernetes node: the static build next to this executable, else this executable. */
static const char *default_source(char *buf, size_t len)
{
	const char *twin = install_static_twin(buf, len);
	return twin && access(twin, F_OK) == 0 ? twin : INSTALL_SELF_EXE;
}

static void assert_str(const char *got, const char *want, const char *what)
{
	if (!want)
		ck_assert_msg(got == NULL, "%s: got \"%s\", want NULL", what, got);
	else
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", what,
			      got ? got : "(null)", want);
}

START_TEST(test_defaults)
{
	clear_env();
	struct install_config cfg;
	char twin[PATH_MAX];
	install_config_from_env(&cfg, false);
	assert_str(cfg.netconf, NULL, "netconf");
	assert_str(cfg.netconf_file, NULL, "netconf_file");
	assert_str(cfg.conf_name, "10-coil.conflist", "conf_name");
	assert_str(cfg.etc_dir, "/host/etc/cni/net.d", "etc_dir");
	assert_str(cfg.bin_dir, "/host/opt/cni/bin", "bin_dir");
	assert_str(cfg.coil_path, default_source(twin, sizeof(twin)), "coil_path");
	ck_assert(!cfg.keep_other_conflists);
	ck_assert_ptr_null(cfg.standalone_path);
}
END_TEST

/* A host without Kubernetes: its own CNI dirs, and the source is this executable (the host
 * runs the daemon from the installed copy too). The variables still win. */
START_TEST(test_standalone_defaults)
{
	clear_env();
	struct install_config cfg;
	install_config_from_env(&cfg, true);
	assert_str(cfg.etc_dir, "/etc/cni/net.d", "etc_dir");
	assert_str(cfg.bin_dir, "/opt/cni/bin", "bin_dir");
	assert_str(cfg.coil_path, INSTALL_SELF_EXE, "coil_path");
	setenv("CNI_BIN_DIR", "/b", 1);
	setenv("COIL_PATH", "/c", 1);
	install_config_from_env(&cfg, true);
	assert_str(cfg.bin_dir, "/b", "bin_dir");
	assert_str(cfg.coil_path, "/c", "coil_path");
	clear_env();
}
END_TEST

/* The static build is looked for next to the running executable (the test binary). */
START_TEST(test_static_twin)
{
	char self[PATH_MAX], want[PATH_MAX + 32], buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(want, sizeof(want), "%s/coil-static", self);
	assert_str(install_static_twin(buf, sizeof(buf)), want, "twin");
	ck_assert_ptr_null(install_static_twin(buf, 4)); /* does not fit */
}
END_TEST

/* Each variable set alone changes exactly its field; set to "" it is the default. */
static const struct {
	const char *var, *value;
	size_t field; /* offsetof(struct install_config, ...) */
	const char *want;
} one_var[] = {
    {"CNI_NETCONF", "{\"a\":1}", offsetof(struct install_config, netconf), "{\"a\":1}"},
    {"CNI_NETCONF", "", offsetof(struct install_config, netconf), NULL},
    {"CNI_NETCONF_FILE", "/x/net.json", offsetof(struct install_config, netconf_file),
     "/x/net.json"},
    {"CNI_NETCONF_FILE", "", offsetof(struct install_config, netconf_file), NULL},
    {"CNI_CONF_NAME", "99-x.conflist", offsetof(struct install_config, conf_name), "99-x.conflist"},
    {"CNI_CONF_NAME", "", offsetof(struct install_config, conf_name), "10-coil.conflist"},
    {"CNI_ETC_DIR", "/e", offsetof(struct install_config, etc_dir), "/e"},
    {"CNI_ETC_DIR", "", offsetof(struct install_config, etc_dir), "/host/etc/cni/net.d"},
    {"CNI_BIN_DIR", "/b", offsetof(struct install_config, bin_dir), "/b"},
    {"CNI_BIN_DIR", "", offsetof(struct install_config, bin_dir), "/host/opt/cni/bin"},
    {"COIL_PATH", "/does/not/matter", offsetof(struct install_config, coil_path),
     "/does/not/matter"},
};

START_TEST(test_one_var)
{
	clear_env();
	struct install_config defaults, cfg;
	install_config_from_env(&defaults, false);
	setenv(one_var[_i].var, one_var[_i].value, 1);
	install_config_from_env(&cfg, false);
	/* The walk below relies on the struct starting with one string per variable. */
	size_t strings = N(vars) * sizeof(const char *);
	ck_assert_uint_eq(offsetof(struct install_config, keep_other_conflists), strings);
	for (size_t off = 0; off < strings; off += sizeof(const char *)) {
		const char *got = *(const char **)((char *)&cfg + off);
		const char *want = off == one_var[_i].field
				       ? one_var[_i].want
				       : *(const char **)((char *)&defaults + off);
		assert_str(got, want, one_var[_i].var);
	}
	clear_env();
}
END_TEST

START_TEST(test_pick_source)
{
	char dir[PATH_MAX], present[PATH_MAX + 16], absent[PATH_MAX + 16];
	tmpdir_make(dir);
	file_put(dir, "coil", "binary", 0755);
	snprintf(present, sizeof(present), "%s/coil", dir);
	snprintf(absent, sizeof(absent), "%s/absent", dir);
	assert_str(install_pick_source("/given", present), "/given", "COIL_PATH set");
	assert_str(install_pick_source("", present), present, "default exists");
	assert_str(install_pick_source(NULL, present), present, "default exists, unset");
	assert_str(install_pick_source(NULL, absent), INSTALL_SELF_EXE, "default absent");
	assert_str(install_pick_source("", NULL), INSTALL_SELF_EXE, "no default");
	tmpdir_remove(dir);
}
END_TEST

Suite *env_suite(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_one_var, 0, (int)N(one_var));
	tcase_add_test(tc, test_pick_source);
	tcase_add_test(tc, test_standalone_defaults);
	tcase_add_test(tc, test_static_twin);
	suite_add_tcase(s, tc);
	return s;
}
