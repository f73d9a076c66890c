/* The client annotations: "egress.coil.cybozu.com/<namespace>: <name>[,<name>...]". */
#include "natclient/natclient.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"

#define PREFIX	   COILAPI_EGRESS_ANNOTATION_PREFIX
#define PREFIX_LEN (sizeof(PREFIX) - 1)

void natclient_refs_free(struct natclient_refs *refs)
{
	for (size_t i = 0; i < refs->n; i++) {
		free(refs->items[i].ns);
		free(refs->items[i].name);
	}
	free(refs->items);
	refs->items = NULL;
	refs->n = 0;
}

static int append_ref(struct natclient_refs *refs, const char *ns, const char *name, size_t len)
{
	struct natclient_ref *items = realloc(refs->items, (refs->n + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	refs->items = items;
	struct natclient_ref *r = &items[refs->n];
	r->ns = strdup(ns);
	r->name = strndup(name, len);
	if (!r->ns || !r->name) {
		free(r->ns);
		free(r->name);
		return -ENOMEM;
	}
	refs->n++;
	return 0;
}

/* The elements of a value split on ',' without trimming, empty ones included: *p walks the
 * value (start it at the value; NULL once the last element was given). */
static bool next_name(const char **p, const char **name, size_t *len)
{
	if (!*p)
		return false;
	const char *comma = strchr(*p, ',');
	*name = *p;
	*len = comma ? (size_t)(comma - *p) : strlen(*p);
	*p = comma ? comma + 1 : NULL;
	return true;
}

static int append_names(struct natclient_refs *refs, const char *ns, const char *value)
{
	const char *name;
	size_t len;
	int ret = 0;
	while (ret == 0 && next_name(&value, &name, &len))
		ret = append_ref(refs, ns, name, len);
	return ret;
}

int natclient_refs_parse(const json_t *annotations, struct natclient_refs *out, char *err,
			 size_t errlen)
{
	const char *key;
	json_t *value;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(annotations))
		return 0;
	json_object_foreach((json_t *)annotations, key, value)
	{
		if (strncmp(key, PREFIX, PREFIX_LEN) != 0)
			continue;
		const char *ns = key + PREFIX_LEN, *names = json_string_value(value);
		if (!*ns)
			return errorf(err, errlen, -EINVAL, "annotation %s names no namespace",
				      key);
		if (!names || strlen(names) != json_string_length(value))
			return errorf(err, errlen, -EINVAL, "annotation %s is not a string", key);
		if (append_names(out, ns, names) < 0)
			return errorf(err, errlen, -ENOMEM, "annotation %s: out of memory", key);
	}
	return 0;
}

bool natclient_refs_match(const json_t *annotations, const char *ns, const char *name)
{
	const char *key;
	json_t *value;
	size_t name_len = strlen(name);
	if (!json_is_object(annotations))
		return false;
	json_object_foreach((json_t *)annotations, key, value)
	{
		const char *names = json_string_value(value);
		if (strncmp(key, PREFIX, PREFIX_LEN) != 0 || strcmp(key + PREFIX_LEN, ns) != 0 ||
		    !names)
			continue;
		const char *elem;
		size_t len;
		while (next_name(&names, &elem, &len))
			if (len == name_len && memcmp(elem, name, len) == 0)
				return true;
	}
	return false;
}
