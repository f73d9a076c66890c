/* Reading blocks.json back, strictly: a state we do not understand must stop the
 * daemon, because guessing could hand out a block twice. */
#include "standalone/state.h"
#include "err/err.h"
#include "fileio/fileio.h"
#include "ipam/ipam.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX_BYTES (64 * 1024 * 1024)

struct state_reader {
	const char *dir;
	char *err;
	size_t errlen;
};

static int corrupt(const struct state_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int corrupt(const struct state_reader *r, const char *fmt, ...)
{
	char message[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen,
		 "state file %s/%s is corrupt (%s); fix or remove it by hand, knowing that "
		 "removing it forgets which blocks this node owns",
		 r->dir, STATE_FILE_NAME, message);
	return -EINVAL;
}

/* Copies the string member `key` into out[outlen]; absent is "" when optional. */
static int member_string(const struct state_reader *r, json_t *obj, size_t i, const char *key,
			 bool required, char *out, size_t outlen)
{
	json_t *v = json_object_get(obj, key);
	out[0] = '\0';
	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return corrupt(r, "blocks[%zu].%s: not a string", i, key);
	const char *text = json_string_value(v);
	size_t len = json_string_length(v);
	if (len >= outlen || strlen(text) != len || (required && len == 0))
		return corrupt(r, "blocks[%zu].%s: empty, too long or not text", i, key);
	memcpy(out, text, len + 1);
	return 0;
}

/* A CIDR as this module writes it: canonical, of the right family. */
static int check_cidr(const struct state_reader *r, size_t i, const char *key, const char *text,
		      enum ip_family family)
{
	if (!text[0])
		return 0;
	struct ip_prefix p;
	char canonical[IP_CIDR_STRLEN];
	if (ip_prefix_parse(text, false, &p) == 0 && p.addr.family == family) {
		ip_prefix_format(&p, canonical);
		if (strcmp(canonical, text) == 0)
			return 0;
	}
	return corrupt(r, "blocks[%zu].%s: \"%s\" is not a canonical IPv%d CIDR", i, key, text,
		       (int)family);
}

static int check_block(const struct state_reader *r, size_t i, const struct node_block *b)
{
	char name[NODE_NAME_MAX + 16];
	snprintf(name, sizeof(name), "%s-%" PRIu32, b->pool, b->index);
	if (strcmp(name, b->name) != 0)
		return corrupt(r, "blocks[%zu].name: \"%s\" is not \"%s\"", i, b->name, name);
	if (!b->ipv4[0] && !b->ipv6[0])
		return corrupt(r, "blocks[%zu]: neither ipv4 nor ipv6", i);
	int ret = check_cidr(r, i, "ipv4", b->ipv4, IP_FAMILY_V4);
	if (ret == 0)
		ret = check_cidr(r, i, "ipv6", b->ipv6, IP_FAMILY_V6);
	return ret;
}

static int block_from_json(const struct state_reader *r, size_t i, json_t *obj,
			   struct node_block *b)
{
	memset(b, 0, sizeof(*b));
	if (!json_is_object(obj))
		return corrupt(r, "blocks[%zu]: not an object", i);
	json_t *index = json_object_get(obj, "index");
	json_t *reserved = json_object_get(obj, "reserved");
	if (!json_is_integer(index) || json_integer_value(index) < 0 ||
	    json_integer_value(index) > INT32_MAX)
		return corrupt(r, "blocks[%zu].index: not an integer in 0..2147483647", i);
	if (reserved && !json_is_boolean(reserved))
		return corrupt(r, "blocks[%zu].reserved: not a boolean", i);
	b->index = (uint32_t)json_integer_value(index);
	b->reserved = json_is_true(reserved);
	int ret = member_string(r, obj, i, "name", true, b->name, sizeof(b->name));
	if (ret == 0)
		ret = member_string(r, obj, i, "pool", true, b->pool, sizeof(b->pool));
	if (ret == 0)
		ret = member_string(r, obj, i, "ipv4", false, b->ipv4, sizeof(b->ipv4));
	if (ret == 0)
		ret = member_string(r, obj, i, "ipv6", false, b->ipv6, sizeof(b->ipv6));
	if (ret == 0)
		ret = check_block(r, i, b);
	return ret;
}

static int check_header(const struct state_reader *r, json_t *root, const char *node)
{
	if (!json_is_object(root))
		return corrupt(r, "not a JSON object");
	json_t *version = json_object_get(root, "version");
	if (!json_is_integer(version) || json_integer_value(version) != 1)
		return corrupt(r, "version: not 1");
	const char *owner = json_string_value(json_object_get(root, "node"));
	if (!owner)
		return corrupt(r, "node: not a string");
	if (!json_is_array(json_object_get(root, "blocks")))
		return corrupt(r, "blocks: not an array");
	if (strcmp(owner, node) != 0) {
		snprintf(r->err, r->errlen,
			 "state file %s/%s belongs to node \"%s\", not to \"%s\"; use that "
			 "node's name or another state directory",
			 r->dir, STATE_FILE_NAME, owner, node);
		return -EINVAL;
	}
	return 0;
}

static int state_from_json(const struct state_reader *r, json_t *root, const char *node,
			   struct block_state *out)
{
	int ret = check_header(r, root, node);
	if (ret < 0)
		return ret;
	json_t *blocks = json_object_get(root, "blocks");
	for (size_t i = 0; i < json_array_size(blocks); i++) {
		struct node_block b;
		ret = block_from_json(r, i, json_array_get(blocks, i), &b);
		if (ret < 0)
			return ret;
		if (state_find(out, b.pool, b.index) >= 0)
			return corrupt(r, "blocks[%zu]: block %s is listed twice", i, b.name);
		if (state_add(out, &b) < 0)
			return errorf(r->err, r->errlen, -ENOMEM, "state %s: out of memory",
				      r->dir);
	}
	return 0;
}

int state_load(int dirfd, const char *dir, const char *node, struct block_state *out, char *err,
	       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct state_reader r = {.dir = dir, .err = err, .errlen = errlen};
	char *text;
	size_t len;
	int ret = fileio_read_file_at(dirfd, STATE_FILE_NAME, STATE_MAX_BYTES, &text, &len);
	if (ret == -ENOENT)
		return 0; /* a node that never had a block */
	if (ret < 0)
		return errorf(err, errlen, ret, "state file %s/%s: cannot read: %s", dir,
			      STATE_FILE_NAME, strerror(-ret));
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!root)
		return corrupt(&r, "line %d: %s", jerr.line, jerr.text);
	ret = state_from_json(&r, root, node, out);
	json_decref(root);
	if (ret < 0)
		state_free(out);
	return ret;
}
