/* Fuzzes the small parsers of outside text in lib/kube: label selectors, RFC 3339 times (which
 * must survive a format/parse round trip), Warning header values (the text stays inside its
 * buffer and NUL-terminated) and path building from arbitrary names. */
#include "kube/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_time(const char *text)
{
	struct timespec ts, again;
	char printed[KUBE_TIME_LEN];
	if (kube_time_parse(text, &ts) < 0)
		return;
	if (ts.tv_nsec < 0 || ts.tv_nsec > 999999999 || ts.tv_sec < 0 || ts.tv_sec > 253402300799)
		return; /* outside what the formatter promises to print */
	kube_time_format_micro(&ts, printed);
	if (kube_time_parse(printed, &again) < 0 || again.tv_sec != ts.tv_sec ||
	    again.tv_nsec != ts.tv_nsec / 1000 * 1000)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[256], path[512];
	memcpy(text, data, size);
	text[size] = '\0';
	json_t *obj =
	    json_pack("{s:{s:{s:s,s:s}}}", "metadata", "labels", "app", "coil", "a.b/c", "");
	int ret = kube_label_selector_match(text, obj, err, sizeof(err));
	if (ret < -EINVAL || ret > 1 || (ret < 0 && ret != -EINVAL))
		abort();
	json_decref(obj);
	check_time(text);
	char warning[16];
	if (kube_parse_warning(text, size, warning, sizeof(warning)) == 0 &&
	    strlen(warning) >= sizeof(warning))
		abort();
	char *escaped = kube_query_escape(text);
	free(escaped);
	kube_path(&KUBE_RES_PODS, text, text, "status", path, sizeof(path));
	free(text);
	return 0;
}
