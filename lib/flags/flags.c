#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int flags_parse_duration(const char *text, double *seconds)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
		     {"s", 1},	   {"m", 60},	 {"h", 3600}};
	const char *p = text;
	double total = 0;
	if (*p == '\0')
		return -EINVAL;
	if (strcmp(p, "0") == 0) {
		*seconds = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double number = strtod(p, &end);
		if (end == p || number < 0)
			return -EINVAL;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, len) == 0 && len > best_len) {
				best = i;
				best_len = len;
			}
		}
		if (best_len == 0)
			return -EINVAL;
		total += number * units[best].scale;
		p = end + best_len;
	}
	*seconds = total;
	return 0;
}

static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_int(const char *text, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 0);
	if (errno || end == text || *end || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_uint(const char *text, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (*text == '-')
		return -EINVAL;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || end == text || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_value(const struct flag *f, const char *text)
{
	switch (f->type) {
	case FLAG_STRING:
		*(const char **)f->value = text;
		return 0;
	case FLAG_INT:
		return parse_int(text, f->value);
	case FLAG_UINT:
		return parse_uint(text, f->value);
	case FLAG_BOOL:
		return parse_bool(text, f->value);
	case FLAG_DURATION:
		return flags_parse_duration(text, f->value);
	}
	return -EINVAL;
}

/* A flag table; a program's own table comes first, then the common flags. */
struct flag_set {
	const struct flag *flags;
	size_t n;
};

static const struct flag *find_flag(const struct flag_set *sets, size_t nsets, const char *name,
				    size_t len)
{
	for (size_t s = 0; s < nsets; s++) {
		for (size_t i = 0; i < sets[s].n; i++) {
			const struct flag *f = &sets[s].flags[i];
			if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
				return f;
		}
	}
	return NULL;
}

static const char *format_default(const struct flag *f, char *buf, size_t len)
{
	switch (f->type) {
	case FLAG_STRING:
		snprintf(buf, len, "\"%s\"",
			 *(const char **)f->value ? *(const char **)f->value : "");
		break;
	case FLAG_INT:
		snprintf(buf, len, "%d", *(int *)f->value);
		break;
	case FLAG_UINT:
		snprintf(buf, len, "%llu", *(unsigned long long *)f->value);
		break;
	case FLAG_BOOL:
		snprintf(buf, len, "%s", *(bool *)f->value ? "true" : "false");
		break;
	case FLAG_DURATION:
		snprintf(buf, len, "%gs", *(double *)f->value);
		break;
	}
	return buf;
}

static void print_table(FILE *out, const struct flag *flags, size_t n)
{
	char buf[64], name[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%s", strlen(flags[i].name) == 1 ? "-" : "--",
			 flags[i].name);
		fprintf(out, "      %-34s %s (default %s)\n", name, flags[i].help,
			format_default(&flags[i], buf, sizeof(buf)));
	}
}

static void print_usage(FILE *out, const struct flag_set *sets, size_t nsets, const char *usage)
{
	fputs(usage, out);
	fprintf(out, "\nFlags:\n");
	print_table(out, sets[0].flags, sets[0].n);
	fprintf(out, "  -h, --help                             help\n");
	if (nsets > 1) {
		fprintf(out, "\nLogging and common flags (as upstream's programs take them):\n");
		print_table(out, sets[1].flags, sets[1].n);
	}
}

void flags_print_usage(const struct flag *flags, size_t n, const char *usage)
{
	flags_print_usage_to(stdout, flags, n, usage);
}

void flags_print_usage_to(FILE *out, const struct flag *flags, size_t n, const char *usage)
{
	struct flag_set set = {flags, n};
	print_usage(out, &set, 1, usage);
}

static int parse_one(const struct flag_set *sets, size_t nsets, int argc, char **argv, int *i,
		     char *err, size_t errlen)
{
	const char *arg = argv[*i];
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const char *value = eq ? eq + 1 : NULL;
	const struct flag *f = find_flag(sets, nsets, name, len);

	if (!f) {
		snprintf(err, errlen, "unknown flag: %s", arg);
		return -EINVAL;
	}
	if (!value && f->type == FLAG_BOOL)
		value = "true";
	if (!value) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "flag needs an argument: %s", arg);
			return -EINVAL;
		}
		value = argv[++(*i)];
	}
	if (set_value(f, value) < 0) {
		snprintf(err, errlen, "invalid argument \"%s\" for \"--%s\" flag", value, f->name);
		return -EINVAL;
	}
	return 0;
}

static int parse_sets(const struct flag_set *sets, size_t nsets, int argc, char **argv,
		      const char *usage, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_usage(stdout, sets, nsets, usage);
			return 1;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			snprintf(err, errlen, "unexpected argument: %s", arg);
			return -EINVAL;
		}
		int rc = parse_one(sets, nsets, argc, argv, &i, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int flags_parse(const struct flag *flags, size_t n, int argc, char **argv, const char *usage,
		char *err, size_t errlen)
{
	struct flag_set set = {flags, n};
	return parse_sets(&set, 1, argc, argv, usage, err, errlen);
}

int flags_parse_sets_internal(const struct flag *own, size_t n, const struct flag *common,
			      size_t ncommon, int argc, char **argv, const char *usage, char *err,
			      size_t errlen)
{
	struct flag_set sets[2] = {{own, n}, {common, ncommon}};
	return parse_sets(sets, 2, argc, argv, usage, err, errlen);
}
