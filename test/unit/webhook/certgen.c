#include "certgen.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int certgen_write(const char *dir, unsigned serial, bool rsa)
{
	char crt[512], key[512], serial_text[16];
	snprintf(crt, sizeof(crt), "%s/tls.crt", dir);
	snprintf(key, sizeof(key), "%s/tls.key", dir);
	snprintf(serial_text, sizeof(serial_text), "%u", serial);
	if (rsa) {
		char *genrsa[] = {"openssl", "genrsa", "-traditional", "-out", key, "2048", NULL};
		if (run(genrsa) < 0)
			return -1;
		char *req[] = {"openssl", "req",	   "-x509",	  "-new",      "-key",
			       key,	  "-out",	   crt,		  "-days",     "1",
			       "-subj",	  "/CN=coil-test", "-set_serial", serial_text, NULL};
		return run(req);
	}
	char *req[] = {"openssl",
		       "req",
		       "-x509",
		       "-newkey",
		       "ec",
		       "-pkeyopt",
		       "ec_paramgen_curve:prime256v1",
		       "-nodes",
		       "-keyout",
		       key,
		       "-out",
		       crt,
		       "-days",
		       "1",
		       "-subj",
		       "/CN=coil-test",
		       "-set_serial",
		       serial_text,
		       NULL};
	return run(req);
}

char *certgen_tempdir(void)
{
	char *dir = strdup("/tmp/coil-webhook-test-XXXXXX");
	if (dir && !mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void certgen_remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void certgen_touch_later(const char *path, int seconds)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += seconds;
	struct timespec times[2] = {now, now};
	utimensat(AT_FDCWD, path, times, 0);
}

char *certgen_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = (*len + 4096 + 1) * 2;
			char *bigger = realloc(data, cap);
			if (!bigger) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = bigger;
		}
		size_t n = fread(data + *len, 1, 4096, f);
		*len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	data[*len] = '\0';
	return data;
}
