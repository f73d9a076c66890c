#ifndef COIL_TEST_INSTALL_SUITES_H
#define COIL_TEST_INSTALL_SUITES_H

#include <check.h>
#include <stddef.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

Suite *env_suite(void);
Suite *netconf_suite(void);
Suite *files_suite(void);
Suite *cleanup_suite(void);
Suite *run_suite(void);
Suite *atomic_suite(void);

/* Test helpers (helpers.c). Paths are written into caller buffers of PATH_MAX. */
void tmpdir_make(char *out);	     /* a fresh directory under /tmp */
void tmpdir_remove(const char *dir); /* rm -rf */
void file_put(const char *dir, const char *name, const char *content, int mode);
/* The file's content, malloc'd (caller frees), or NULL when it cannot be read. */
char *file_get(const char *dir, const char *name, size_t *len);
int file_mode(const char *dir, const char *name); /* permission bits, or -1 */
int dir_count(const char *dir);			  /* entries besides . and .. */

#endif
