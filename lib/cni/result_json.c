/* CNI results as JSON: decoding with a version's schema, and rendering in the
 * 0.3.x/0.4.0 shape (ip "version" fields, "dns" always present) or the 1.x shape
 * (1.1 fields, empty dns omitted), which is what libcni's converters produce. */
#include "cni/cni.h"
#include "err/err.h"
#include "cni/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cni_result_version_known(const char *version)
{
	return cni_version_is_0x(version) || strcmp(version, "1.0.0") == 0 ||
	       strcmp(version, "1.1.0") == 0;
}

/* Optional string member: absent or null → *out = NULL. */
static int get_string(const json_t *obj, const char *key, const char **out, const char *where,
		      char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errorf(err, errlen, -EINVAL, "%s.%s: not a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* Optional integer member that fits an int. */
static int get_int(const json_t *obj, const char *key, int *out, bool *present, const char *where,
		   char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < -2147483647 - 1 ||
	    json_integer_value(v) > 2147483647)
		return errorf(err, errlen, -EINVAL, "%s.%s: not an integer", where, key);
	*out = (int)json_integer_value(v);
	*present = true;
	return 0;
}

/* Optional array member: absent or null → NULL. */
static int get_array(const json_t *obj, const char *key, const json_t **out, const char *where,
		     char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return errorf(err, errlen, -EINVAL, "%s.%s: not an array", where, key);
	*out = v;
	return 0;
}

static int dup_member(const json_t *obj, const char *key, char **out, const char *where, char *err,
		      size_t errlen)
{
	const char *text;
	int rc = get_string(obj, key, &text, where, err, errlen);
	if (rc < 0 || !text)
		return rc;
	*out = strdup(text);
	return *out ? 0 : errorf(err, errlen, -EINVAL, "out of memory");
}

static int parse_interface(const json_t *obj, bool v1, struct cni_interface *intf,
			   const char *where, char *err, size_t errlen)
{
	if (!json_is_object(obj))
		return errorf(err, errlen, -EINVAL, "%s: not an object", where);
	int rc = dup_member(obj, "name", &intf->name, where, err, errlen);
	if (rc == 0)
		rc = dup_member(obj, "mac", &intf->mac, where, err, errlen);
	if (rc == 0)
		rc = dup_member(obj, "sandbox", &intf->sandbox, where, err, errlen);
	if (rc < 0 || !v1)
		return rc;
	bool present;
	rc = get_int(obj, "mtu", &intf->mtu, &present, where, err, errlen);
	if (rc == 0)
		rc = dup_member(obj, "socketPath", &intf->socket_path, where, err, errlen);
	if (rc == 0)
		rc = dup_member(obj, "pciID", &intf->pci_id, where, err, errlen);
	return rc;
}

/* A CIDR member that must be present ("address", "dst"). */
static int get_cidr(const json_t *obj, const char *key, char out[CNI_CIDR_MAX], int *family,
		    const char *where, char *err, size_t errlen)
{
	const char *text;
	int rc = get_string(obj, key, &text, where, err, errlen);
	if (rc < 0)
		return rc;
	if (!text)
		return errorf(err, errlen, -EINVAL, "%s.%s: missing", where, key);
	if (cni_canonical_cidr(text, out, family) < 0)
		return errorf(err, errlen, -EINVAL, "%s.%s: invalid CIDR address: %s", where, key,
			      text);
	return 0;
}

/* An optional IP member; "" counts as absent, as Go's net.IP. */
static int get_ip(const json_t *obj, const char *key, char out[INET6_ADDRSTRLEN], const char *where,
		  char *err, size_t errlen)
{
	const char *text;
	int rc = get_string(obj, key, &text, where, err, errlen);
	out[0] = '\0';
	if (rc < 0 || !text || !text[0])
		return rc;
	if (cni_canonical_ip(text, out, NULL) < 0)
		return errorf(err, errlen, -EINVAL, "%s.%s: invalid IP address: %s", where, key,
			      text);
	return 0;
}

static int parse_ip(const json_t *obj, bool v1, struct cni_ip *ip, const char *where, char *err,
		    size_t errlen)
{
	if (!json_is_object(obj))
		return errorf(err, errlen, -EINVAL, "%s: not an object", where);
	int rc = get_cidr(obj, "address", ip->address, &ip->family, where, err, errlen);
	if (rc == 0)
		rc = get_ip(obj, "gateway", ip->gateway, where, err, errlen);
	if (rc == 0)
		rc = get_int(obj, "interface", &ip->interface, &ip->has_interface, where, err,
			     errlen);
	const char *version;
	if (rc == 0 && !v1) /* decoded for its type only: the family decides on output */
		rc = get_string(obj, "version", &version, where, err, errlen);
	return rc;
}

static int parse_route(const json_t *obj, bool v1, struct cni_route *route, const char *where,
		       char *err, size_t errlen)
{
	if (!json_is_object(obj))
		return errorf(err, errlen, -EINVAL, "%s: not an object", where);
	int rc = get_cidr(obj, "dst", route->dst, NULL, where, err, errlen);
	if (rc == 0)
		rc = get_ip(obj, "gw", route->gw, where, err, errlen);
	if (rc < 0 || !v1)
		return rc;
	bool present;
	rc = get_int(obj, "mtu", &route->mtu, &present, where, err, errlen);
	if (rc == 0)
		rc = get_int(obj, "advmss", &route->advmss, &present, where, err, errlen);
	if (rc == 0)
		rc = get_int(obj, "priority", &route->priority, &present, where, err, errlen);
	if (rc == 0)
		rc = get_int(obj, "table", &route->table, &route->has_table, where, err, errlen);
	if (rc == 0)
		rc = get_int(obj, "scope", &route->scope, &route->has_scope, where, err, errlen);
	return rc;
}

static int parse_string_list(const json_t *obj, const char *key, char ***out, size_t *n, char *err,
			     size_t errlen)
{
	const json_t *list;
	int rc = get_array(obj, key, &list, "dns", err, errlen);
	if (rc < 0 || !list)
		return rc;
	size_t count = json_array_size(list);
	if (count == 0)
		return 0;
	*out = calloc(count, sizeof(**out));
	if (!*out)
		return errorf(err, errlen, -EINVAL, "out of memory");
	for (size_t i = 0; i < count; i++) {
		const json_t *item = json_array_get(list, i);
		if (!json_is_string(item))
			return errorf(err, errlen, -EINVAL, "dns.%s[%zu]: not a string", key, i);
		(*out)[i] = strdup(json_string_value(item));
		if (!(*out)[i])
			return errorf(err, errlen, -EINVAL, "out of memory");
		*n = i + 1;
	}
	return 0;
}

static int parse_dns(const json_t *doc, struct cni_dns *dns, char *err, size_t errlen)
{
	const json_t *obj = json_object_get(doc, "dns");
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return errorf(err, errlen, -EINVAL, "dns: not an object");
	int rc = dup_member(obj, "domain", &dns->domain, "dns", err, errlen);
	if (rc == 0)
		rc = parse_string_list(obj, "nameservers", &dns->nameservers, &dns->n_nameservers,
				       err, errlen);
	if (rc == 0)
		rc = parse_string_list(obj, "search", &dns->search, &dns->n_search, err, errlen);
	if (rc == 0)
		rc = parse_string_list(obj, "options", &dns->options, &dns->n_options, err, errlen);
	return rc;
}

typedef int (*parse_item_fn)(const json_t *obj, bool v1, void *item, const char *where, char *err,
			     size_t errlen);

/* Parses doc[key] (an array, or absent) into a calloc'd array of elem_size items. */
static int parse_list(const json_t *doc, const char *key, bool v1, parse_item_fn parse_item,
		      size_t elem_size, void **array, size_t *count, char *err, size_t errlen)
{
	const json_t *list;
	int rc = get_array(doc, key, &list, "result", err, errlen);
	if (rc < 0 || !list || json_array_size(list) == 0)
		return rc;
	*array = calloc(json_array_size(list), elem_size);
	if (!*array)
		return errorf(err, errlen, -EINVAL, "out of memory");
	for (size_t i = 0; i < json_array_size(list); i++) {
		/* key is one of this file's member names (at most 16 characters), and the
		 * precision says so: the label always fits, never truncated. */
		char where[48];
		snprintf(where, sizeof(where), "%.16s[%zu]", key, i);
		*count = i + 1; /* counted before parsing so that free sees partial items */
		rc = parse_item(json_array_get(list, i), v1, (char *)*array + i * elem_size, where,
				err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_interface_item(const json_t *obj, bool v1, void *item, const char *where,
				char *err, size_t errlen)
{
	return parse_interface(obj, v1, item, where, err, errlen);
}

static int parse_ip_item(const json_t *obj, bool v1, void *item, const char *where, char *err,
			 size_t errlen)
{
	return parse_ip(obj, v1, item, where, err, errlen);
}

static int parse_route_item(const json_t *obj, bool v1, void *item, const char *where, char *err,
			    size_t errlen)
{
	return parse_route(obj, v1, item, where, err, errlen);
}

/* libcni decodes with the schema of as_version and then insists that the
 * document's own cniVersion belongs to that schema (0.3.x/0.4.0 vs 1.x). */
static int pick_version(const json_t *doc, const char *as_version, struct cni_result *out,
			char *err, size_t errlen)
{
	const char *own;
	int rc = get_string(doc, "cniVersion", &own, "result", err, errlen);
	if (rc < 0)
		return rc;
	const char *schema = as_version ? as_version : own;
	if (!schema || !cni_result_version_known(schema))
		return errorf(err, errlen, -EINVAL, "unsupported result version \"%s\"",
			      schema ? schema : "");
	const char *version = own && own[0] ? own : schema;
	if (!cni_result_version_known(version) ||
	    cni_version_is_0x(version) != cni_version_is_0x(schema))
		return errorf(err, errlen, -EINVAL,
			      "result type of version %s does not accept cniVersion \"%s\"", schema,
			      version);
	snprintf(out->cni_version, sizeof(out->cni_version), "%s", version);
	return 0;
}

int cni_result_from_json(const json_t *doc, const char *as_version, struct cni_result *out,
			 char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return errorf(err, errlen, -EINVAL, "result is not a JSON object");
	int rc = pick_version(doc, as_version, out, err, errlen);
	bool v1 = !cni_version_is_0x(out->cni_version);
	if (rc == 0)
		rc = parse_list(doc, "interfaces", v1, parse_interface_item,
				sizeof(struct cni_interface), (void **)&out->interfaces,
				&out->n_interfaces, err, errlen);
	if (rc == 0)
		rc = parse_list(doc, "ips", v1, parse_ip_item, sizeof(struct cni_ip),
				(void **)&out->ips, &out->n_ips, err, errlen);
	if (rc == 0)
		rc = parse_list(doc, "routes", v1, parse_route_item, sizeof(struct cni_route),
				(void **)&out->routes, &out->n_routes, err, errlen);
	if (rc == 0)
		rc = parse_dns(doc, &out->dns, err, errlen);
	if (rc < 0)
		cni_result_free(out);
	return rc;
}

/* ---- rendering ---- */

/* Adds key: value to obj and drops the caller's reference; collects failures. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		*ok = false;
}

static json_t *interface_json(const struct cni_interface *intf, bool v1, bool *ok)
{
	json_t *obj = json_object();
	if (!obj) {
		*ok = false;
		return NULL;
	}
	put(obj, "name", json_string(intf->name ? intf->name : ""), ok);
	if (intf->mac && intf->mac[0])
		put(obj, "mac", json_string(intf->mac), ok);
	if (v1 && intf->mtu)
		put(obj, "mtu", json_integer(intf->mtu), ok);
	if (intf->sandbox && intf->sandbox[0])
		put(obj, "sandbox", json_string(intf->sandbox), ok);
	if (v1 && intf->socket_path && intf->socket_path[0])
		put(obj, "socketPath", json_string(intf->socket_path), ok);
	if (v1 && intf->pci_id && intf->pci_id[0])
		put(obj, "pciID", json_string(intf->pci_id), ok);
	return obj;
}

static json_t *ip_json(const struct cni_ip *ip, bool v1, bool *ok)
{
	json_t *obj = json_object();
	if (!obj) {
		*ok = false;
		return NULL;
	}
	if (!v1)
		put(obj, "version", json_string(ip->family == AF_INET ? "4" : "6"), ok);
	if (ip->has_interface)
		put(obj, "interface", json_integer(ip->interface), ok);
	put(obj, "address", json_string(ip->address), ok);
	if (ip->gateway[0])
		put(obj, "gateway", json_string(ip->gateway), ok);
	return obj;
}

static json_t *route_json(const struct cni_route *route, bool v1, bool *ok)
{
	json_t *obj = json_object();
	if (!obj) {
		*ok = false;
		return NULL;
	}
	put(obj, "dst", json_string(route->dst), ok);
	if (route->gw[0])
		put(obj, "gw", json_string(route->gw), ok);
	if (!v1)
		return obj;
	if (route->mtu)
		put(obj, "mtu", json_integer(route->mtu), ok);
	if (route->advmss)
		put(obj, "advmss", json_integer(route->advmss), ok);
	if (route->priority)
		put(obj, "priority", json_integer(route->priority), ok);
	if (route->has_table)
		put(obj, "table", json_integer(route->table), ok);
	if (route->has_scope)
		put(obj, "scope", json_integer(route->scope), ok);
	return obj;
}

static json_t *string_list_json(char **list, size_t n, bool *ok)
{
	json_t *array = json_array();
	for (size_t i = 0; array && i < n; i++) {
		if (json_array_append_new(array, json_string(list[i])) < 0)
			*ok = false;
	}
	if (!array)
		*ok = false;
	return array;
}

static bool dns_is_empty(const struct cni_dns *dns)
{
	return !(dns->domain && dns->domain[0]) && !dns->n_nameservers && !dns->n_search &&
	       !dns->n_options;
}

static json_t *dns_json(const struct cni_dns *dns, bool *ok)
{
	json_t *obj = json_object();
	if (!obj) {
		*ok = false;
		return NULL;
	}
	if (dns->n_nameservers)
		put(obj, "nameservers", string_list_json(dns->nameservers, dns->n_nameservers, ok),
		    ok);
	if (dns->domain && dns->domain[0])
		put(obj, "domain", json_string(dns->domain), ok);
	if (dns->n_search)
		put(obj, "search", string_list_json(dns->search, dns->n_search, ok), ok);
	if (dns->n_options)
		put(obj, "options", string_list_json(dns->options, dns->n_options, ok), ok);
	return obj;
}

json_t *cni_result_to_json(const struct cni_result *res, const char *version, char *err,
			   size_t errlen)
{
	if (!cni_result_version_known(version)) {
		errorf(err, errlen, -EINVAL, "cannot convert a result to version \"%s\"", version);
		return NULL;
	}
	bool v1 = !cni_version_is_0x(version), ok = true;
	json_t *doc = json_object();
	if (!doc)
		return NULL;
	put(doc, "cniVersion", json_string(version), &ok);
	if (res->n_interfaces) {
		json_t *list = json_array();
		for (size_t i = 0; i < res->n_interfaces; i++)
			if (json_array_append_new(list,
						  interface_json(&res->interfaces[i], v1, &ok)))
				ok = false;
		put(doc, "interfaces", list, &ok);
	}
	if (res->n_ips) {
		json_t *list = json_array();
		for (size_t i = 0; i < res->n_ips; i++)
			if (json_array_append_new(list, ip_json(&res->ips[i], v1, &ok)))
				ok = false;
		put(doc, "ips", list, &ok);
	}
	if (res->n_routes) {
		json_t *list = json_array();
		for (size_t i = 0; i < res->n_routes; i++)
			if (json_array_append_new(list, route_json(&res->routes[i], v1, &ok)))
				ok = false;
		put(doc, "routes", list, &ok);
	}
	if (!v1 || !dns_is_empty(&res->dns))
		put(doc, "dns", dns_json(&res->dns, &ok), &ok);
	if (!ok) {
		errorf(err, errlen, -EINVAL, "out of memory");
		json_decref(doc);
		return NULL;
	}
	return doc;
}
