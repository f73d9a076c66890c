/* CNI spec versions: the supported list and libcni's dotted-number comparison. */
#include "cni/cni.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

const char *const cni_supported_versions[CNI_N_SUPPORTED] = {"0.3.1", "0.4.0", "1.0.0", "1.1.0"};

const char cni_version_info_json[] =
    "{\"cniVersion\":\"" CNI_VERSION_LATEST "\",\"supportedVersions\":"
    "[\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n";

bool cni_version_is_supported(const char *version)
{
	for (size_t i = 0; i < CNI_N_SUPPORTED; i++) {
		if (strcmp(version, cni_supported_versions[i]) == 0)
			return true;
	}
	return false;
}

bool cni_version_is_0x(const char *version)
{
	return strcmp(version, "0.3.0") == 0 || strcmp(version, "0.3.1") == 0 ||
	       strcmp(version, "0.4.0") == 0;
}

/* Go's strconv.Atoi: optional sign, decimal digits, no overflow. */
static int parse_part(const char *text, size_t len, int *out, const char **why)
{
	size_t i = 0;
	bool negative = false;
	if (len > 0 && (text[0] == '+' || text[0] == '-')) {
		negative = text[0] == '-';
		i = 1;
	}
	if (i == len) {
		*why = "invalid syntax";
		return -EINVAL;
	}
	long long value = 0;
	for (; i < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			*why = "invalid syntax";
			return -EINVAL;
		}
		value = value * 10 + (text[i] - '0');
		if (value > INT_MAX) {
			*why = "value out of range";
			return -ERANGE;
		}
	}
	*out = negative ? (int)-value : (int)value;
	return 0;
}

int cni_version_parse(const char *version, int parts[3], struct cni_error *err)
{
	static const char *const names[] = {"major", "minor", "micro"};
	parts[0] = 0;
	parts[1] = version[0] ? 0 : 1; /* "" means 0.1.0 */
	parts[2] = 0;
	if (!version[0])
		return 0;
	int dots = 0;
	for (const char *c = version; *c; c++)
		dots += *c == '.';
	if (dots >= 3)
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "invalid version \"%s\": too many parts", version);
	const char *p = version;
	for (int i = 0;; i++) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		const char *why = NULL;
		if (parse_part(p, len, &parts[i], &why) < 0)
			return cni_error_set(err, CNI_ERR_DECODING, NULL,
					     "failed to convert %s version part \"%.*s\": "
					     "strconv.Atoi: parsing \"%.*s\": %s",
					     names[i], (int)len, p, (int)len, p, why);
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

int cni_version_compare(const char *a, const char *b, int *cmp, struct cni_error *err)
{
	int pa[3], pb[3];
	int rc = cni_version_parse(a, pa, err);
	if (rc == 0)
		rc = cni_version_parse(b, pb, err);
	if (rc < 0)
		return rc;
	*cmp = 0;
	for (int i = 0; i < 3 && *cmp == 0; i++)
		*cmp = (pa[i] > pb[i]) - (pa[i] < pb[i]);
	return 0;
}
