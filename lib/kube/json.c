/* Reading Kubernetes objects: dotted paths, metadata shortcuts, cache keys and times. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

json_t *kube_json_path(const json_t *obj, const char *path)
{
	json_t *cur = (json_t *)obj;
	const char *seg = path;
	while (cur && seg) {
		const char *dot = strchr(seg, '.');
		size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
		if (!json_is_object(cur))
			return NULL;
		cur = json_object_getn(cur, seg, n);
		seg = dot ? dot + 1 : NULL;
	}
	return cur;
}

const char *kube_json_string(const json_t *obj, const char *path)
{
	return json_string_value(kube_json_path(obj, path));
}

const char *kube_obj_name(const json_t *obj)
{
	return kube_json_string(obj, "metadata.name");
}

const char *kube_obj_namespace(const json_t *obj)
{
	return kube_json_string(obj, "metadata.namespace");
}

const char *kube_obj_resource_version(const json_t *obj)
{
	return kube_json_string(obj, "metadata.resourceVersion");
}

const char *kube_obj_uid(const json_t *obj)
{
	return kube_json_string(obj, "metadata.uid");
}

const char *kube_obj_label(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(kube_json_path(obj, "metadata.labels"), key));
}

int kube_obj_key(const char *ns, const char *name, char *buf, size_t len)
{
	int n;
	if (!name)
		return -EINVAL;
	if (ns && *ns)
		n = snprintf(buf, len, "%s/%s", ns, name);
	else
		n = snprintf(buf, len, "%s", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void kube_time_format(const struct timespec *ts, char buf[KUBE_TIME_LEN])
{
	struct tm tm;
	time_t secs = ts->tv_sec;
	gmtime_r(&secs, &tm);
	strftime(buf, KUBE_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void kube_time_format_micro(const struct timespec *ts, char buf[KUBE_TIME_LEN])
{
	struct tm tm;
	time_t secs = ts->tv_sec;
	char date[24];
	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	int micros = (int)((ts->tv_nsec / 1000) % 1000000);
	if (snprintf(buf, KUBE_TIME_LEN, "%s.%06dZ", date, micros) >= KUBE_TIME_LEN)
		buf[KUBE_TIME_LEN - 1] = '\0'; /* only for years beyond 9999 */
}

/* Reads exactly n digits. */
static bool read_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool parse_fraction(const char **p, long *nsec)
{
	*nsec = 0;
	if (**p != '.')
		return true;
	(*p)++;
	int digits = 0;
	long scale = 100000000L;
	while (isdigit((unsigned char)**p)) {
		if (digits < 9)
			*nsec += (**p - '0') * scale;
		scale /= 10;
		digits++;
		(*p)++;
	}
	return digits > 0;
}

static bool parse_offset(const char **p, long *offset_s)
{
	int hh, mm;
	*offset_s = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	int sign = **p == '+' ? 1 : **p == '-' ? -1 : 0;
	if (!sign)
		return false;
	(*p)++;
	if (!read_digits(p, 2, &hh) || !expect(p, ':') || !read_digits(p, 2, &mm) || hh > 23 ||
	    mm > 59)
		return false;
	*offset_s = sign * (hh * 3600L + mm * 60L);
	return true;
}

int kube_time_parse(const char *text, struct timespec *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, s;
	long nsec, offset;
	const char *p = text;
	if (!read_digits(&p, 4, &y) || !expect(&p, '-') || !read_digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !read_digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return -EINVAL;
	p++;
	if (!read_digits(&p, 2, &h) || !expect(&p, ':') || !read_digits(&p, 2, &mi) ||
	    !expect(&p, ':') || !read_digits(&p, 2, &s) || !parse_fraction(&p, &nsec) ||
	    !parse_offset(&p, &offset) || *p != '\0')
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	out->tv_sec = timegm(&tm) - offset;
	out->tv_nsec = nsec;
	return 0;
}
