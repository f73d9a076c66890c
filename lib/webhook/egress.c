/* The Egress rules of the webhooks (docs/behaviour/egress-controller.md, 'Admission webhooks'):
 * destinations are CIDRs, a strategy names a known type, template labels and annotation keys
 * are valid Kubernetes names, a PodDisruptionBudget sets one of its two fields with a
 * non-negative count or a percentage up to 100 %. The texts are those of Kubernetes'
 * apimachinery validation, so that clients see the messages they know. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUALIFIED_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QUALIFIED_MSG                                                                              \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "   \
	"an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for "    \
	"validation is '" QUALIFIED_FMT "')"
#define LABEL_VALUE_MSG                                                                            \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "   \
	"or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "       \
	"'my_value', or '12345', regex used for validation is '(" QUALIFIED_FMT ")?')"
#define DNS1123_MSG                                                                                \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "  \
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "      \
	"regex used for validation is "                                                            \
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define PERCENT_MSG                                                                                \
	"a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', "   \
	"or '93%', regex used for validation is '[0-9]+%')"

/* Go's net.ParseCIDR: an IPv4 or IPv6 address, '/', a decimal prefix length that fits the
 * family. Host bits may be set. */
static bool is_cidr(const char *text)
{
	const char *slash = strrchr(text, '/');
	if (!slash || slash == text || !slash[1] || strlen(text) >= INET6_ADDRSTRLEN + 4)
		return false;
	char addr[INET6_ADDRSTRLEN + 4];
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	unsigned char buf[16];
	int bits;
	if (inet_pton(AF_INET, addr, buf) == 1)
		bits = 32;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		bits = 128;
	else
		return false;
	long len = 0;
	for (const char *p = slash + 1; *p; p++) {
		if (!isdigit((unsigned char)*p) || (len = len * 10 + (*p - '0')) > bits)
			return false;
	}
	return true;
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? over len bytes (len > 0). */
static bool is_qualified_part(const char *text, size_t len)
{
	if (!isalnum((unsigned char)text[0]) || !isalnum((unsigned char)text[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

/* An RFC 1123 subdomain: dot-separated labels of [a-z0-9-], alphanumeric at both ends. */
static bool is_dns1123_subdomain(const char *text, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.') {
			unsigned char c = (unsigned char)text[i];
			if (!(islower(c) || isdigit(c) || c == '-'))
				return false;
			continue;
		}
		if (i == start || text[start] == '-' || text[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

struct name_check {
	struct field_errors *errs;
	const char *field;
	const json_t *value;
	int rc;
};

static void report(struct name_check *c, const char *detail)
{
	if (c->rc == 0)
		c->rc = field_errors_add_value(c->errs, FIELD_INVALID, c->field, c->value, detail);
}

/* validation.ValidateLabelName: a qualified name with an optional DNS subdomain prefix. */
static int check_qualified_name(struct field_errors *errs, const char *field, const char *key)
{
	json_t *value = json_string(key);
	struct name_check c = {errs, field, value, value ? 0 : -ENOMEM};
	const char *slash = strchr(key, '/');
	const char *name = slash ? slash + 1 : key;
	if (slash && strchr(name, '/')) {
		report(
		    &c,
		    "a qualified name " QUALIFIED_MSG
		    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
		json_decref(value);
		return c.rc;
	}
	size_t prefix_len = slash ? (size_t)(slash - key) : 0;
	if (slash && prefix_len == 0)
		report(&c, "prefix part must be non-empty");
	else if (slash && prefix_len > 253)
		report(&c, "prefix part must be no more than 253 characters");
	else if (slash && !is_dns1123_subdomain(key, prefix_len))
		report(&c, "prefix part " DNS1123_MSG);
	size_t len = strlen(name);
	if (len == 0)
		report(&c, "name part must be non-empty");
	else if (len > 63)
		report(&c, "name part must be no more than 63 characters");
	if (len == 0 || !is_qualified_part(name, len))
		report(&c, "name part " QUALIFIED_MSG);
	json_decref(value);
	return c.rc;
}

static int check_label_value(struct field_errors *errs, const char *field, const json_t *value)
{
	const char *text = json_string_value(value);
	size_t len = strlen(text);
	int rc = 0;
	if (len > 63)
		rc = field_errors_add_value(errs, FIELD_INVALID, field, value,
					    "must be no more than 63 characters");
	if (rc == 0 && len > 0 && !is_qualified_part(text, len))
		rc = field_errors_add_value(errs, FIELD_INVALID, field, value, LABEL_VALUE_MSG);
	return rc;
}

static int check_template_metadata(const json_t *tmpl, struct field_errors *errs)
{
	const json_t *meta = json_object_get(tmpl, "metadata");
	const json_t *labels = json_object_get(meta, "labels");
	const json_t *annotations = json_object_get(meta, "annotations");
	const char *key;
	const json_t *value;
	int rc = 0;
	json_object_foreach((json_t *)labels, key, value)
	{
		rc = check_qualified_name(errs, "spec.template.metadata.labels", key);
		if (rc == 0)
			rc = check_label_value(errs, "spec.template.metadata.labels", value);
		if (rc)
			return rc;
	}
	json_object_foreach((json_t *)annotations, key, value)
	{
		rc = check_qualified_name(errs, "spec.template.metadata.annotations", key);
		if (rc)
			return rc;
	}
	return 0;
}

/* One of minAvailable / maxUnavailable: an integer >= 0 or "<digits>%" up to 100 %. */
static int check_int_or_percent(const json_t *value, const char *field, struct field_errors *errs)
{
	if (json_is_integer(value))
		return json_integer_value(value) < 0
			   ? field_errors_add_value(errs, FIELD_INVALID, field, value,
						    "must be greater than or equal to 0")
			   : 0;
	const char *text = json_string_value(value);
	size_t len = text ? strlen(text) : 0;
	bool percent = len >= 2 && text[len - 1] == '%';
	for (size_t i = 0; percent && i + 1 < len; i++)
		percent = isdigit((unsigned char)text[i]);
	if (!percent)
		return field_errors_add_value(errs, FIELD_INVALID, field, value, PERCENT_MSG);
	if (strtol(text, NULL, 10) > 100 || len > 5)
		return field_errors_add_value(errs, FIELD_INVALID, field, value,
					      "must not be greater than 100%");
	return 0;
}

static int check_pdb(const json_t *pdb, struct field_errors *errs)
{
	const json_t *min = json_object_get(pdb, "minAvailable");
	const json_t *max = json_object_get(pdb, "maxUnavailable");
	int rc = 0;
	if (min && max)
		rc = field_errors_add_value(errs, FIELD_INVALID, "spec.podDisruptionBudget", pdb,
					    "minAvailable and maxUnavailable cannot be both set");
	if (rc == 0 && min)
		rc = check_int_or_percent(min, "spec.podDisruptionBudget.minAvailable", errs);
	if (rc == 0 && max)
		rc = check_int_or_percent(max, "spec.podDisruptionBudget.maxUnavailable", errs);
	return rc;
}

static int check_strategy(const json_t *strategy, struct field_errors *errs)
{
	const char *type = json_string_value(json_object_get(strategy, "type"));
	if (type && (strcmp(type, "Recreate") == 0 || strcmp(type, "RollingUpdate") == 0))
		return 0;
	json_t *value = json_string(type ? type : "");
	int rc =
	    value ? field_errors_add_value(errs, FIELD_NOT_SUPPORTED, "spec.strategy.type", value,
					   "supported values: \"Recreate\", \"RollingUpdate\"")
		  : -ENOMEM;
	json_decref(value);
	return rc;
}

static int check_destinations(const struct coilapi_egress *egress, struct field_errors *errs)
{
	for (size_t i = 0; i < egress->n_destinations; i++) {
		const char *dest = egress->destinations[i];
		if (is_cidr(dest))
			continue;
		char field[48], detail[128];
		snprintf(field, sizeof(field), "spec.destinations[%zu]", i);
		snprintf(detail, sizeof(detail), "invalid CIDR address: %.80s", dest);
		json_t *value = json_string(dest);
		int rc = value ? field_errors_add_value(errs, FIELD_INVALID, field, value, detail)
			       : -ENOMEM;
		json_decref(value);
		if (rc)
			return rc;
	}
	return 0;
}

int egress_validate(const struct coilapi_egress *egress, struct field_errors *errs)
{
	int rc = check_destinations(egress, errs);
	if (rc == 0 && egress->strategy)
		rc = check_strategy(egress->strategy, errs);
	if (rc == 0 && egress->template)
		rc = check_template_metadata(egress->template, errs);
	if (rc == 0 && egress->pod_disruption_budget)
		rc = check_pdb(egress->pod_disruption_budget, errs);
	return rc;
}

/* Where the default container goes, and what is added there. */
static json_t *default_op(const json_t *pod)
{
	json_t *containers = json_pack("[{s:s}]", "name", COILAPI_EGRESS_COMPONENT);
	if (!pod)
		return json_pack("{s:s, s:s, s:{s:o}}", "op", "add", "path", "/spec/template/spec",
				 "value", "containers", containers);
	bool present = json_object_get(pod, "containers") != NULL;
	return json_pack("{s:s, s:s, s:o}", "op", present ? "replace" : "add", "path",
			 "/spec/template/spec/containers", "value", containers);
}

int egress_default_patch(const json_t *obj, json_t **patch, json_t **defaulted, char *err,
			 size_t errlen)
{
	*patch = NULL;
	if (defaulted)
		*defaulted = NULL;
	const json_t *tmpl = json_object_get(json_object_get(obj, "spec"), "template");
	const json_t *pod = tmpl ? json_object_get(tmpl, "spec") : NULL;
	const json_t *containers = pod ? json_object_get(pod, "containers") : NULL;
	if ((tmpl && !json_is_object(tmpl) && !json_is_null(tmpl)) ||
	    (pod && !json_is_object(pod) && !json_is_null(pod)) ||
	    (containers && !json_is_array(containers) && !json_is_null(containers))) {
		snprintf(err, errlen, "spec.template: expected objects and a containers array");
		return -EINVAL;
	}
	bool needed = json_is_object(tmpl) && json_array_size(containers) == 0;
	if (needed && !(*patch = json_array())) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (needed && json_array_append_new(*patch, default_op(json_is_object(pod) ? pod : NULL))) {
		json_decref(*patch);
		*patch = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!defaulted)
		return 0;
	*defaulted = json_deep_copy(obj);
	json_t *copy_tmpl = json_object_get(json_object_get(*defaulted, "spec"), "template");
	json_t *copy_pod = needed ? json_object_get(copy_tmpl, "spec") : NULL;
	if (needed && !json_is_object(copy_pod))
		json_object_set_new(copy_tmpl, "spec", copy_pod = json_object());
	if (needed)
		json_object_set_new(copy_pod, "containers",
				    json_pack("[{s:s}]", "name", COILAPI_EGRESS_COMPONENT));
	return 0;
}
