/* The in-memory block list and writing it to blocks.json. */
#include "standalone/state.h"
#include "err/err.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int state_add(struct block_state *s, const struct node_block *b)
{
	if (s->n == s->cap) {
		size_t want = s->cap ? s->cap * 2 : 8;
		struct node_block *grown = reallocarray(s->blocks, want, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->blocks = grown;
		s->cap = want;
	}
	s->blocks[s->n++] = *b;
	return 0;
}

void state_remove_at(struct block_state *s, size_t i)
{
	memmove(&s->blocks[i], &s->blocks[i + 1], (s->n - i - 1) * sizeof(s->blocks[0]));
	s->n--;
}

long state_find(const struct block_state *s, const char *pool, uint32_t index)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->blocks[i].index == index && strcmp(s->blocks[i].pool, pool) == 0)
			return (long)i;
	}
	return -1;
}

void state_free(struct block_state *s)
{
	free(s->blocks);
	memset(s, 0, sizeof(*s));
}

static json_t *block_to_json(const struct node_block *b)
{
	json_t *obj = json_object();
	json_object_set_new(obj, "name", json_string(b->name));
	json_object_set_new(obj, "pool", json_string(b->pool));
	json_object_set_new(obj, "index", json_integer(b->index));
	if (b->ipv4[0])
		json_object_set_new(obj, "ipv4", json_string(b->ipv4));
	if (b->ipv6[0])
		json_object_set_new(obj, "ipv6", json_string(b->ipv6));
	if (b->reserved)
		json_object_set_new(obj, "reserved", json_true());
	return obj;
}

/* The file's text (malloc'd, caller frees), or NULL when out of memory. */
static char *state_to_text(const char *node, const struct block_state *s)
{
	json_t *blocks = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(blocks, block_to_json(&s->blocks[i]));
	json_t *root = json_object();
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "node", json_string(node));
	json_object_set_new(root, "blocks", blocks);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return NULL;
	size_t len = strlen(text);
	char *line = realloc(text, len + 2); /* end with a newline, for people */
	if (!line) {
		free(text);
		return NULL;
	}
	memcpy(line + len, "\n", 2);
	return line;
}

int state_save(int dirfd, const char *dir, const char *node, const struct block_state *s, char *err,
	       size_t errlen)
{
	char *text = state_to_text(node, s);
	if (!text)
		return errorf(err, errlen, -ENOMEM, "state %s/%s: out of memory", dir,
			      STATE_FILE_NAME);
	/* Durable: after a power loss the node must still know which blocks it owns. */
	struct fileio_replace how = {.mode = 0600, .durability = FILEIO_DURABLE};
	char why[512];
	int ret = fileio_replace_at(dirfd, dir, STATE_FILE_NAME, text, strlen(text), &how, why,
				    sizeof(why));
	free(text);
	if (ret < 0)
		return errorf(err, errlen, ret, "state %s/%s: cannot write: %s", dir,
			      STATE_FILE_NAME, why);
	return 0;
}
