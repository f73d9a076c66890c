/* The old config lists: by default every other entry whose name contains "conflist" goes
 * (as upstream); with keep_others only coil's own old lists do. */
#include "suites.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/install.h"

#define COIL_LIST   "{\"name\":\"k8s-pod-network\",\"plugins\":[{\"type\":\"coil\"}]}"
#define CHAINED	    "{\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"coil\"}]}"
#define CALICO_LIST "{\"name\":\"k8s-pod-network\",\"plugins\":[{\"type\":\"calico\"}]}"

enum kind { REGULAR, DIRECTORY, SYMLINK };

/* Every entry upstream would delete (name contains "conflist", not a directory) and more. */
static const struct {
	const char *name;
	enum kind kind;
	const char *content;  /* REGULAR: the text; SYMLINK: the link target */
	bool removed;	      /* by default */
	bool removed_keeping; /* with keep_others */
} entries[] = {
    {"10-coil.conflist", REGULAR, COIL_LIST, false, false}, /* the one being installed */
    {"05-coil.conflist", REGULAR, COIL_LIST, true, true},
    {"20-chained.conflist", REGULAR, CHAINED, true, true},
    {"10-coil.conflist.bak", REGULAR, COIL_LIST, true, true},
    {"10-calico.conflist", REGULAR, CALICO_LIST, true, false},
    {"99-broken.conflist", REGULAR, "{\"plugins\":[{\"type\":\"coil\"", true, false},
    {"empty.conflist", REGULAR, "", true, false},
    {"10-coil.conf", REGULAR, "{\"name\":\"n\",\"type\":\"coil\"}", false, false},
    {"coil-list.json", REGULAR, COIL_LIST, false, false}, /* no "conflist" in the name */
    {"README", REGULAR, "notes", false, false},
    {".coil-install-abcdef", REGULAR, COIL_LIST, false, false},
    {"dir.conflist", DIRECTORY, NULL, false, false},
    {"link.conflist", SYMLINK, "coil-list.json", true, false}, /* the link, not its target */
    {"dangling.conflist", SYMLINK, "nowhere", true, false},
};

static void create_entry(const char *dir, size_t i)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, entries[i].name);
	if (entries[i].kind == REGULAR)
		file_put(dir, entries[i].name, entries[i].content, 0644);
	else if (entries[i].kind == DIRECTORY)
		ck_assert_int_eq(mkdir(path, 0755), 0);
	else
		ck_assert_int_eq(symlink(entries[i].content, path), 0);
}

static bool expected_removed(size_t i, bool keep_others)
{
	return keep_others ? entries[i].removed_keeping : entries[i].removed;
}

/* Looped over both policies: _i == 0 the default, _i == 1 keep_others. */
START_TEST(test_removes_old_lists)
{
	bool keep_others = _i == 1;
	char dir[PATH_MAX], err[512];
	tmpdir_make(dir);
	int want_removed = 0;
	for (size_t i = 0; i < N(entries); i++) {
		create_entry(dir, i);
		want_removed += expected_removed(i, keep_others);
	}
	ck_assert_int_eq(
	    install_remove_old_conflists(dir, "10-coil.conflist", keep_others, err, sizeof(err)),
	    want_removed);
	for (size_t i = 0; i < N(entries); i++) {
		bool present = file_mode(dir, entries[i].name) >= 0;
		ck_assert_msg(present != expected_removed(i, keep_others), "%s: present=%d",
			      entries[i].name, present);
	}
	/* Kept files keep their content; a removed symlink's target stays. */
	char *kept = file_get(dir, keep_others ? "10-calico.conflist" : "coil-list.json", NULL);
	ck_assert_str_eq(kept, keep_others ? CALICO_LIST : COIL_LIST);
	free(kept);
	/* Nothing left to do the second time. */
	ck_assert_int_eq(
	    install_remove_old_conflists(dir, "10-coil.conflist", keep_others, err, sizeof(err)),
	    0);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_missing_dir)
{
	char err[512];
	ck_assert_int_eq(
	    install_remove_old_conflists("/nonexistent/coil-test", "x", false, err, sizeof(err)),
	    -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/coil-test"));
}
END_TEST

Suite *cleanup_suite(void)
{
	Suite *s = suite_create("cleanup");
	TCase *tc = tcase_create("cleanup");
	tcase_add_loop_test(tc, test_removes_old_lists, 0, 2);
	tcase_add_test(tc, test_missing_dir);
	suite_add_tcase(s, tc);
	return s;
}
