/* install_run: the whole procedure against temp directories. */
#include "suites.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/install.h"

#define NETCONF                                                                                    \
	"{\n  \"cniVersion\": \"0.4.0\",\n  \"name\": \"k8s-pod-network\",\n  \"plugins\": [\n"    \
	"    {\"type\": \"coil\", \"socket\": \"/run/coild.sock\"},\n"                             \
	"    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}\n  ]\n}\n"

static char root[PATH_MAX], etc[PATH_MAX + 16], bin[PATH_MAX + 16], src[PATH_MAX + 16];
static struct install_config cfg;

static void setup(void)
{
	tmpdir_make(root);
	snprintf(etc, sizeof(etc), "%s/etc/cni/net.d", root);
	snprintf(bin, sizeof(bin), "%s/opt/cni/bin", root);
	snprintf(src, sizeof(src), "%s/coil-src", root);
	file_put(root, "coil-src", "#!/bin/sh\necho coil\n", 0600);
	cfg = (struct install_config){.netconf = NETCONF,
				      .conf_name = INSTALL_DEFAULT_CONF_NAME,
				      .etc_dir = etc,
				      .bin_dir = bin,
				      .coil_path = src};
}

static void teardown(void)
{
	tmpdir_remove(root);
}

static void assert_installed(const char *conf_text)
{
	char *conf = file_get(etc, cfg.conf_name, NULL);
	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(conf, conf_text); /* byte for byte, not re-serialised */
	free(conf);
	ck_assert_int_eq(file_mode(etc, cfg.conf_name), 0644);
	char *plugin = file_get(bin, "coil", NULL);
	ck_assert_ptr_nonnull(plugin);
	ck_assert_str_eq(plugin, "#!/bin/sh\necho coil\n");
	free(plugin);
	ck_assert_int_eq(file_mode(bin, "coil"), 0755);
}

START_TEST(test_fresh_install)
{
	char err[512];
	ck_assert_msg(install_run(&cfg, err, sizeof(err)) == 0, "%s", err);
	assert_installed(NETCONF);
	ck_assert_int_eq(file_mode(root, "etc/cni/net.d") & 0777, 0755);
	ck_assert_int_eq(dir_count(etc), 1);
	ck_assert_int_eq(dir_count(bin), 1);
}
END_TEST

START_TEST(test_idempotent)
{
	char err[512];
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(install_run(&cfg, err, sizeof(err)) == 0, "run %d: %s", i, err);
		assert_installed(NETCONF);
		ck_assert_int_eq(dir_count(etc), 1);
		ck_assert_int_eq(dir_count(bin), 1);
	}
}
END_TEST

START_TEST(test_from_file_and_other_names)
{
	char err[512], file[PATH_MAX + 16];
	file_put(root, "netconf.json", NETCONF, 0644);
	snprintf(file, sizeof(file), "%s/netconf.json", root);
	cfg.netconf = NULL;
	cfg.netconf_file = file;
	cfg.conf_name = "00-mine.conflist";
	ck_assert_msg(install_run(&cfg, err, sizeof(err)) == 0, "%s", err);
	assert_installed(NETCONF);
}
END_TEST

/* Looped: _i == 0 the default (every other list goes, as upstream), _i == 1
 * keep_other_conflists (only coil's own old list goes). Other files stay either way. */
START_TEST(test_other_files)
{
	char err[512];
	cfg.keep_other_conflists = _i == 1;
	ck_assert_int_eq(install_mkdir_p(etc, 0755, err, sizeof(err)), 0);
	ck_assert_int_eq(install_mkdir_p(bin, 0755, err, sizeof(err)), 0);
	file_put(etc, "05-calico.conflist", "{\"name\":\"k\",\"plugins\":[{\"type\":\"calico\"}]}",
		 0644);
	file_put(etc, "99-loopback.conf", "{\"type\":\"loopback\"}", 0600);
	file_put(etc, "old-coil.conflist", NETCONF, 0644); /* coil's own: removed */
	file_put(bin, "portmap", "binary", 0755);
	file_put(bin, "coil", "old coil", 0755);
	ck_assert_msg(install_run(&cfg, err, sizeof(err)) == 0, "%s", err);
	assert_installed(NETCONF);
	ck_assert_int_eq(file_mode(etc, "05-calico.conflist"),
			 cfg.keep_other_conflists ? 0644 : -1);
	ck_assert_int_eq(file_mode(etc, "99-loopback.conf"), 0600);
	ck_assert_int_eq(file_mode(etc, "old-coil.conflist"), -1);
	ck_assert_int_eq(dir_count(etc), cfg.keep_other_conflists ? 3 : 2);
	ck_assert_int_eq(file_mode(bin, "portmap"), 0755);
	ck_assert_int_eq(dir_count(bin), 2);
}
END_TEST

/* Standalone: one copy at standalone_path, bin_dir/coil a symlink to it; re-runs replace
 * both in place. */
START_TEST(test_standalone_link)
{
	char err[512], once[PATH_MAX + 32], link[PATH_MAX + 32], target[PATH_MAX + 32];
	snprintf(once, sizeof(once), "%s/usr/local/bin/coil", root);
	snprintf(link, sizeof(link), "%s/coil", bin);
	cfg.standalone_path = once;
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(install_run(&cfg, err, sizeof(err)) == 0, "run %d: %s", i, err);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		ck_assert_str_eq(target, once);
		char *copy = file_get(root, "usr/local/bin/coil", NULL);
		ck_assert_str_eq(copy, "#!/bin/sh\necho coil\n");
		free(copy);
		ck_assert_int_eq(file_mode(root, "usr/local/bin/coil"), 0755);
		ck_assert_int_eq(dir_count(bin), 1); /* no temp link left */
	}
	/* A relative or directory path is refused before anything is written. */
	const char *bad[] = {"usr/local/bin/coil", "/usr/local/bin/", ""};
	for (size_t i = 0; i < N(bad); i++) {
		tmpdir_remove(root);
		setup();
		cfg.standalone_path = bad[i];
		ck_assert_int_eq(install_run(&cfg, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, "absolute file path"), "%s", err);
		ck_assert_int_eq(file_mode(root, "etc"), -1);
	}
}
END_TEST

/* Failures found before writing leave the host exactly as it was. */
START_TEST(test_nothing_written_on_early_failure)
{
	char err[512];
	const struct {
		const char *netconf, *conf_name, *coil_path, *err_has;
	} cases[] = {
	    {"{not json", INSTALL_DEFAULT_CONF_NAME, src, "not valid JSON"},
	    {"", INSTALL_DEFAULT_CONF_NAME, src, "CNI_NETCONF"},
	    {"{\"name\":\"n\"}", INSTALL_DEFAULT_CONF_NAME, src, "\"plugins\""},
	    {NETCONF, "../escape.conflist", src, "CNI_CONF_NAME"},
	    {NETCONF, INSTALL_DEFAULT_CONF_NAME, "/nonexistent/coil", "/nonexistent/coil"},
	    {NETCONF, INSTALL_DEFAULT_CONF_NAME, "/tmp", "not a regular file"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		cfg.netconf = cases[i].netconf;
		cfg.conf_name = cases[i].conf_name;
		cfg.coil_path = cases[i].coil_path;
		ck_assert_int_lt(install_run(&cfg, err, sizeof(err)), 0);
		ck_assert_msg(strstr(err, cases[i].err_has), "case %zu: \"%s\"", i, err);
		ck_assert_int_eq(dir_count(root), 1); /* only coil-src: no etc/, no opt/ */
	}
}
END_TEST

START_TEST(test_invalid_config_keeps_existing)
{
	char err[512];
	ck_assert_int_eq(install_run(&cfg, err, sizeof(err)), 0);
	cfg.netconf = "{\"name\": \"half";
	ck_assert_int_eq(install_run(&cfg, err, sizeof(err)), -EINVAL);
	assert_installed(NETCONF);
	ck_assert_int_eq(dir_count(etc), 1);
}
END_TEST

START_TEST(test_write_failures)
{
	char err[512];
	/* CNI_ETC_DIR is a file. */
	file_put(root, "etc", "not a dir", 0644);
	ck_assert_int_eq(install_run(&cfg, err, sizeof(err)), -ENOTDIR);
	ck_assert_msg(strstr(err, "/etc"), "%s", err);
	ck_assert_int_eq(file_mode(root, "opt"), -1); /* config first: no binary either */
	/* The config target is a directory: the config fails, nothing else happens. */
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/etc", root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(install_mkdir_p(etc, 0755, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%s", etc, cfg.conf_name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_lt(install_run(&cfg, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "rename"), "%s", err);
	ck_assert_int_eq(dir_count(etc), 1);
	ck_assert_int_eq(file_mode(root, "opt"), -1);
}
END_TEST

Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fresh_install);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_from_file_and_other_names);
	tcase_add_loop_test(tc, test_other_files, 0, 2);
	tcase_add_test(tc, test_standalone_link);
	tcase_add_test(tc, test_nothing_written_on_early_failure);
	tcase_add_test(tc, test_invalid_config_keeps_existing);
	tcase_add_test(tc, test_write_failures);
	suite_add_tcase(s, tc);
	return s;
}
