/* The command line of a long-running program: its own flags plus the common ones. */
#include "runtime/runtime.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static struct flags_common common; /* written once by runtime_parse, before any thread */

const struct flags_common *runtime_common_flags(void)
{
	return &common;
}

/* --zap-log-level wins; else --zap-devel means debug; else the program's own flag. zap's
 * integer levels (more verbose than debug) are debug here. */
static int apply_log_level(const struct runtime_program *p, char *err, size_t errlen)
{
	const char *text = common.zap_log_level;
	enum log_level level = common.zap_devel ? LOG_DEBUG : LOG_INFO;
	if (text && text[0] >= '1' && text[0] <= '9')
		text = "debug";
	if (!text && p->log_level && *p->log_level) {
		text = *p->log_level;
		if (log_level_parse(text, &level) < 0 || level == LOG_PANIC) {
			snprintf(err, errlen, "invalid --log-level: %s", text);
			return -1;
		}
	} else if (text) {
		log_level_parse(text, &level); /* checked by flags_parse_program */
	}
	log_set_level(level);
	return 0;
}

/* Every thread started after this inherits the mask, so only the signal thread (sigwait)
 * takes SIGTERM, SIGINT and SIGHUP. */
static void block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* glibc gives each thread that allocates under contention an arena of its own (up to 8 per
 * CPU), each keeping its freed pages. A daemon's threads mostly wait; their allocations are
 * small and rare, so one arena per CPU-ish pair is plenty and keeps the resident set flat.
 * MALLOC_ARENA_MAX in the environment still wins (glibc reads it before main). */
#define RUNTIME_ARENA_MAX 2

static void bound_malloc_arenas(void)
{
	if (!getenv("MALLOC_ARENA_MAX") && !getenv("GLIBC_TUNABLES"))
		mallopt(M_ARENA_MAX, RUNTIME_ARENA_MAX);
}

int runtime_parse(const struct runtime_program *p, int argc, char **argv)
{
	char err[512];
	flags_common_init(&common);
	int rc = flags_parse_program(p->flags, p->nflags, &common, argc, argv, p->usage, err,
				     sizeof(err));
	if (rc > 0)
		return 0; /* --help */
	if (rc < 0) {
		fprintf(stderr, "Error: %s\n", err);
		flags_print_usage_to(stderr, p->flags, p->nflags, p->usage);
		return 1;
	}
	if (common.version) {
		printf("%s version %s\n", p->name, COIL_COMPAT_VERSION);
		return 0;
	}
	if (apply_log_level(p, err, sizeof(err)) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	block_signals();
	bound_malloc_arenas();
	return RUNTIME_CONTINUE;
}
