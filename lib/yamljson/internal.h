/* Internal to lib/yamljson: scalar resolution shared by the builder. */
#ifndef COIL_YAMLJSON_INTERNAL_H
#define COIL_YAMLJSON_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <yaml.h>

/* The JSON value of a scalar event (typed = YAML 1.1 resolution, else a string). NULL with
 * *why set when the text is not UTF-8 or does not match an explicit tag. New reference. */
json_t *yamljson_scalar(const yaml_event_t *ev, bool typed, const char **why);

/* Whether a plain (unquoted) scalar with this text reads back as a string (the writer
 * quotes the others). */
bool yamljson_plain_is_string(const char *text);

#endif
