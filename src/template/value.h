/*
 * value.h: the values templates compute with.
 *
 * (The t in weir_tvalue is for template: engine/engine.h's weir_value is a
 * value bound to or read from a SQL warehouse, a different thing.)
 *
 * A weir_tvalue is a small tagged struct passed by value: scalars (undefined,
 * none, bool, int, float) live inside it; strings, lists, dicts, functions
 * and loop objects point to a reference-counted object on the heap. Lists
 * and dicts are shared by reference and mutable, as in Python: appending to
 * a list is seen by every holder of it.
 *
 * Ownership, stated once (after jq's jv.h):
 *  - A function that returns a weir_tvalue, or fills a weir_tvalue *out,
 *    hands the caller one reference, which the caller gives back with
 *    weir_tvalue_free() or passes on.
 *  - A weir_tvalue passed by value (weir_tvalue v) is consumed: the callee
 *    owns that reference afterwards.
 *  - A weir_tvalue passed by pointer (const weir_tvalue *v) is borrowed: the
 *    callee takes a reference with weir_tvalue_copy() if it keeps it.
 *  - Pointers into a value (weir_tvalue_str, weir_tvalue_list_at,
 *    weir_tvalue_dict_get) are borrowed from it and valid while it lives and
 *    is not modified.
 *
 * Reference counts are atomic, so values may be shared by threads that
 * render concurrently; mutating a shared list or dict is not thread-safe.
 * Containers never hold themselves (inserting a container into itself is
 * refused), so counting references frees everything.
 */
#ifndef WEIR_TEMPLATE_VALUE_H
#define WEIR_TEMPLATE_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"

typedef enum weir_tvalue_kind {
    WEIR_TVALUE_UNDEFINED = 0, /* a name or attribute that does not exist */
    WEIR_TVALUE_NONE,
    WEIR_TVALUE_BOOL,
    WEIR_TVALUE_INT,
    WEIR_TVALUE_FLOAT,
    WEIR_TVALUE_STRING,        /* immutable UTF-8, NUL-terminated */
    WEIR_TVALUE_LIST,          /* also tuples (weir_tvalue_is_tuple) */
    WEIR_TVALUE_DICT,          /* insertion-ordered; also namespace(), host objects */
    WEIR_TVALUE_FUNC,          /* macro, host function, bound method */
    WEIR_TVALUE_LOOP           /* the `loop` variable of a for block */
} weir_tvalue_kind;

struct weir_tvalue_obj;

typedef struct weir_tvalue {
    weir_tvalue_kind kind;
    union {
        int b;
        int64_t i;
        double f;
        struct weir_tvalue_obj *o; /* strings and containers; undefined's hint */
    } u;
} weir_tvalue;

/* --- constructors: each returns a new reference ------------------------ */

weir_tvalue weir_tvalue_undefined(void);
/* An undefined value that remembers why ("'x' is undefined"), for errors. */
weir_tvalue weir_tvalue_undefined_hint(const char *hint);
weir_tvalue weir_tvalue_none(void);
weir_tvalue weir_tvalue_bool(int b);
weir_tvalue weir_tvalue_int(int64_t i);
weir_tvalue weir_tvalue_float(double f);
/* Copies s (NUL-terminated, or n bytes). */
weir_tvalue weir_tvalue_string(const char *s);
weir_tvalue weir_tvalue_string_n(const char *s, size_t n);
/* Takes the buffer's contents (the buffer is left empty). */
weir_tvalue weir_tvalue_string_buf(weir_buf *b);
weir_tvalue weir_tvalue_list(void);
weir_tvalue weir_tvalue_tuple(void);
weir_tvalue weir_tvalue_dict(void);
weir_tvalue weir_tvalue_namespace(void);

/*
 * A host object: a dict whose entries are its attributes (data, or
 * functions for methods), which prints as display. dbt's relations are
 * one: {{ this }} prints "db"."schema"."t", {{ this.schema }} is an
 * attribute. Set attributes with weir_tvalue_dict_set().
 */
weir_tvalue weir_tvalue_object(const char *display);

/* --- references --------------------------------------------------------- */

/* Returns a new reference to what *v holds. */
weir_tvalue weir_tvalue_copy(const weir_tvalue *v);
/* Gives back one reference. */
void weir_tvalue_free(weir_tvalue v);

/* --- questions ---------------------------------------------------------- */

static inline weir_tvalue_kind weir_tvalue_kind_of(const weir_tvalue *v) { return v->kind; }
int weir_tvalue_is_tuple(const weir_tvalue *v);
int weir_tvalue_is_namespace(const weir_tvalue *v);
int weir_tvalue_is_object(const weir_tvalue *v);
/* Python truthiness: undefined, none, false, 0, "", [], {} are false. */
int weir_tvalue_truthy(const weir_tvalue *v);
/* The Python type name used in messages: "str", "int", "dict", ... */
const char *weir_tvalue_type_name(const weir_tvalue *v);
/* The hint of an undefined value, or a generic one. */
const char *weir_tvalue_undefined_message(const weir_tvalue *v);
/* Deep equality with Python's rules (1 == 1.0 == True). */
int weir_tvalue_equal(const weir_tvalue *a, const weir_tvalue *b);

/* --- strings ------------------------------------------------------------ */

/* Borrowed pointer to the bytes of a string value; "" for other kinds. */
const char *weir_tvalue_str(const weir_tvalue *v);
size_t weir_tvalue_str_len(const weir_tvalue *v);

/* --- lists -------------------------------------------------------------- */

size_t weir_tvalue_list_len(const weir_tvalue *v);
/* Borrowed item i (i < len). */
const weir_tvalue *weir_tvalue_list_at(const weir_tvalue *v, size_t i);
/* Appends item (consumed). Refuses (WEIR_EINVALID) to put a list into itself. */
int weir_tvalue_list_push(weir_tvalue *list, weir_tvalue item);

/* --- dicts -------------------------------------------------------------- */

size_t weir_tvalue_dict_len(const weir_tvalue *v);
/* Borrowed value for key, or NULL. */
const weir_tvalue *weir_tvalue_dict_get(const weir_tvalue *dict, const char *key);
const weir_tvalue *weir_tvalue_dict_getv(const weir_tvalue *dict, const weir_tvalue *key);
/* Sets key to val (consumed); keeps the key's first position. */
int weir_tvalue_dict_set(weir_tvalue *dict, const char *key, weir_tvalue val);
int weir_tvalue_dict_setv(weir_tvalue *dict, weir_tvalue key, weir_tvalue val);
/* Removes key; stores its value in *out (may be NULL). 0 or WEIR_ENOTFOUND. */
int weir_tvalue_dict_del(weir_tvalue *dict, const weir_tvalue *key, weir_tvalue *out);
/* Borrowed i-th key and value in insertion order. */
const weir_tvalue *weir_tvalue_dict_key_at(const weir_tvalue *dict, size_t i);
const weir_tvalue *weir_tvalue_dict_value_at(const weir_tvalue *dict, size_t i);

/* --- functions ---------------------------------------------------------- */

/*
 * Arguments of a call to a host function. pos and kw values are borrowed
 * for the duration of the call.
 */
typedef struct weir_args {
    const weir_tvalue *pos;
    size_t npos;
    const char *const *kw_names;
    const weir_tvalue *kw;
    size_t nkw;
} weir_args;

/*
 * A host function: fills *out with a new reference and returns 0, or sets
 * err and returns non-zero. The engine adds the template location.
 * Returning WEIR_TEMPLATE_RETURN (template.h) with *out set ends the
 * enclosing macro with that value (dbt's return()).
 */
typedef int (*weir_host_fn)(void *ud, const weir_args *args, weir_tvalue *out,
                            weir_error *err);

/* A callable value named name (copied) that calls fn(ud, ...). */
weir_tvalue weir_tvalue_function(const char *name, weir_host_fn fn, void *ud);
/*
 * Sets attribute name of a function value (dbt's `config` is callable and
 * has `config.get`). val is consumed.
 */
int weir_tvalue_func_set_attr(weir_tvalue *func, const char *name, weir_tvalue val);
/* Name of a function value ("" for other kinds). */
const char *weir_tvalue_func_name(const weir_tvalue *v);

/*
 * Looks up an argument by position or keyword: *out is borrowed, NULL when
 * absent. Returns 1 when found.
 */
int weir_args_get(const weir_args *args, size_t pos, const char *name,
                  const weir_tvalue **out);

/* --- conversion --------------------------------------------------------- */

/* Appends Python's str(v) (strings raw, None, True, [1, 'a'], {'k': 2}). */
int weir_tvalue_to_buf(const weir_tvalue *v, weir_buf *out);
/* Appends Python's repr(v) ('a' quoted). */
int weir_tvalue_repr_buf(const weir_tvalue *v, weir_buf *out);
/* Converts JSON (borrowed) into a value; objects become dicts. */
weir_tvalue weir_tvalue_from_json(const json_t *j);
/* Returns a new JSON reference; functions and undefined become null. */
json_t *weir_tvalue_to_json(const weir_tvalue *v);

#endif
