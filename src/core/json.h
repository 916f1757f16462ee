/*
 * json.h: JSON through jansson, with weir's errors.
 *
 * Values are jansson's json_t with its reference counting: functions named
 * _new/_load return a new reference the caller must json_decref().
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"

/* Loads a file; errors name "file:line:col". *out is a new reference. */
int weir_json_load_file(const char *path, json_t **out, weir_error *err);
/* Parses text; name is used in error locations. */
int weir_json_parse(const char *text, size_t len, const char *name, json_t **out,
                    weir_error *err);
/* Appends compact (indent 0) or pretty JSON; keys keep insertion order. */
void weir_json_dump(const json_t *v, int indent, weir_buf *out);
/* Writes atomically with a trailing newline. */
int weir_json_write_file(const char *path, const json_t *v, int indent, weir_error *err);

#endif
