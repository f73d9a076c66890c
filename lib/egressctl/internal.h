/* Shared between the files of lib/egressctl (internal). */
#ifndef COIL_EGRESSCTL_INTERNAL_H
#define COIL_EGRESSCTL_INTERNAL_H

#include <jansson.h>

/* obj[key] when it is an object, else a new empty object set there (borrowed either way; NULL
 * on ENOMEM). */
json_t *egressctl_child(json_t *obj, const char *key);
/* The same for an array. */
json_t *egressctl_child_array(json_t *obj, const char *key);
/* Whether array holds an object whose "name" is name. */
int egressctl_has_named(const json_t *array, const char *name);

#endif
