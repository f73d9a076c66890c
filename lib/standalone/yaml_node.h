/* Read-only helpers over a libyaml document tree, for the manifest reader.
 * Nodes are borrowed from the yaml_document_t; nothing here allocates. */
#ifndef COIL_STANDALONE_YAML_NODE_H
#define COIL_STANDALONE_YAML_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Whether n is absent (NULL) or a YAML 1.1 null ("", "~", "null", !!null). */
bool ynode_is_null(const yaml_node_t *n);

/* The value of `key` in mapping `map`, or NULL when the key is absent.
 * Returns 0, or -EINVAL when the key appears more than once. */
int ymap_get(yaml_document_t *doc, const yaml_node_t *map, const char *key, yaml_node_t **out);

/* The text of a scalar node (borrowed, NUL-terminated). -EINVAL when n is not a
 * scalar or the text holds a NUL byte. */
int yscalar_text(const yaml_node_t *n, const char **out);

/* A YAML 1.1 integer (decimal, 0x hex, 0 or 0o octal, 0b binary, '_' allowed):
 * a plain scalar or one tagged !!int. -EINVAL for anything else (a quoted "5"
 * is a string), -ERANGE when it does not fit a long long. */
int yscalar_int(const yaml_node_t *n, long long *out);

#endif
