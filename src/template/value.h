/*
 * value.h: the values templates compute with.
 *
 * A weir_value is a small tagged struct passed by value: scalars (undefined,
 * none, bool, int, float) live inside it; strings, lists, dicts, functions
 * and loop objects point to a reference-counted object on the heap. Lists
 * and dicts are shared by reference and mutable, as in Python: appending to
 * a list is seen by every holder of it.
 *
 * Ownership, stated once (after jq's jv.h):
 *  - A function that returns a weir_value, or fills a weir_value *out,
 *    hands the caller one reference, which the caller gives back with
 *    weir_value_free() or passes on.
 *  - A weir_value passed by value (weir_value v) is consumed: the callee
 *    owns that reference afterwards.
 *  - A weir_value passed by pointer (const weir_value *v) is borrowed: the
 *    callee takes a reference with weir_value_copy() if it keeps it.
 *  - Pointers into a value (weir_value_str, weir_value_list_at,
 *    weir_value_dict_get) are borrowed from it and valid while it lives and
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

typedef enum weir_value_kind {
    WEIR_VALUE_UNDEFINED = 0, /* a name or attribute that does not exist */
    WEIR_VALUE_NONE,
    WEIR_VALUE_BOOL,
    WEIR_VALUE_INT,
    WEIR_VALUE_FLOAT,
    WEIR_VALUE_STRING,        /* immutable UTF-8, NUL-terminated */
    WEIR_VALUE_LIST,          /* also tuples (weir_value_is_tuple) */
    WEIR_VALUE_DICT,          /* insertion-ordered; also namespace() */
    WEIR_VALUE_FUNC,          /* macro, host function, bound method */
    WEIR_VALUE_LOOP           /* the `loop` variable of a for block */
} weir_value_kind;

struct weir_value_obj;

typedef struct weir_value {
    weir_value_kind kind;
    union {
        int b;
        int64_t i;
        double f;
        struct weir_value_obj *o; /* strings and containers; undefined's hint */
    } u;
} weir_value;

/* --- constructors: each returns a new reference ------------------------ */

weir_value weir_value_undefined(void);
/* An undefined value that remembers why ("'x' is undefined"), for errors. */
weir_value weir_value_undefined_hint(const char *hint);
weir_value weir_value_none(void);
weir_value weir_value_bool(int b);
weir_value weir_value_int(int64_t i);
weir_value weir_value_float(double f);
/* Copies s (NUL-terminated, or n bytes). */
weir_value weir_value_string(const char *s);
weir_value weir_value_string_n(const char *s, size_t n);
/* Takes the buffer's contents (the buffer is left empty). */
weir_value weir_value_string_buf(weir_buf *b);
weir_value weir_value_list(void);
weir_value weir_value_tuple(void);
weir_value weir_value_dict(void);
weir_value weir_value_namespace(void);

/* --- references --------------------------------------------------------- */

/* Returns a new reference to what *v holds. */
weir_value weir_value_copy(const weir_value *v);
/* Gives back one reference. */
void weir_value_free(weir_value v);

/* --- questions ---------------------------------------------------------- */

static inline weir_value_kind weir_value_kind_of(const weir_value *v) { return v->kind; }
int weir_value_is_tuple(const weir_value *v);
int weir_value_is_namespace(const weir_value *v);
/* Python truthiness: undefined, none, false, 0, "", [], {} are false. */
int weir_value_truthy(const weir_value *v);
/* The Python type name used in messages: "str", "int", "dict", ... */
const char *weir_value_type_name(const weir_value *v);
/* The hint of an undefined value, or a generic one. */
const char *weir_value_undefined_message(const weir_value *v);
/* Deep equality with Python's rules (1 == 1.0 == True). */
int weir_value_equal(const weir_value *a, const weir_value *b);

/* --- strings ------------------------------------------------------------ */

/* Borrowed pointer to the bytes of a string value; "" for other kinds. */
const char *weir_value_str(const weir_value *v);
size_t weir_value_str_len(const weir_value *v);

/* --- lists -------------------------------------------------------------- */

size_t weir_value_list_len(const weir_value *v);
/* Borrowed item i (i < len). */
const weir_value *weir_value_list_at(const weir_value *v, size_t i);
/* Appends item (consumed). Refuses (WEIR_EINVALID) to put a list into itself. */
int weir_value_list_push(weir_value *list, weir_value item);

/* --- dicts -------------------------------------------------------------- */

size_t weir_value_dict_len(const weir_value *v);
/* Borrowed value for key, or NULL. */
const weir_value *weir_value_dict_get(const weir_value *dict, const char *key);
const weir_value *weir_value_dict_getv(const weir_value *dict, const weir_value *key);
/* Sets key to val (consumed); keeps the key's first position. */
int weir_value_dict_set(weir_value *dict, const char *key, weir_value val);
int weir_value_dict_setv(weir_value *dict, weir_value key, weir_value val);
/* Removes key; stores its value in *out (may be NULL). 0 or WEIR_ENOTFOUND. */
int weir_value_dict_del(weir_value *dict, const weir_value *key, weir_value *out);
/* Borrowed i-th key and value in insertion order. */
const weir_value *weir_value_dict_key_at(const weir_value *dict, size_t i);
const weir_value *weir_value_dict_value_at(const weir_value *dict, size_t i);

/* --- functions ---------------------------------------------------------- */

/*
 * Arguments of a call to a host function. pos and kw values are borrowed
 * for the duration of the call.
 */
typedef struct weir_args {
    const weir_value *pos;
    size_t npos;
    const char *const *kw_names;
    const weir_value *kw;
    size_t nkw;
} weir_args;

/*
 * A host function: fills *out with a new reference and returns 0, or sets
 * err and returns non-zero. The engine adds the template location.
 * Returning WEIR_TEMPLATE_RETURN (template.h) with *out set ends the
 * enclosing macro with that value (dbt's return()).
 */
typedef int (*weir_host_fn)(void *ud, const weir_args *args, weir_value *out,
                            weir_error *err);

/* A callable value named name (copied) that calls fn(ud, ...). */
weir_value weir_value_function(const char *name, weir_host_fn fn, void *ud);
/*
 * Sets attribute name of a function value (dbt's `config` is callable and
 * has `config.get`). val is consumed.
 */
int weir_value_func_set_attr(weir_value *func, const char *name, weir_value val);
/* Name of a function value ("" for other kinds). */
const char *weir_value_func_name(const weir_value *v);

/*
 * Looks up an argument by position or keyword: *out is borrowed, NULL when
 * absent. Returns 1 when found.
 */
int weir_args_get(const weir_args *args, size_t pos, const char *name,
                  const weir_value **out);

/* --- conversion --------------------------------------------------------- */

/* Appends Python's str(v) (strings raw, None, True, [1, 'a'], {'k': 2}). */
int weir_value_to_buf(const weir_value *v, weir_buf *out);
/* Appends Python's repr(v) ('a' quoted). */
int weir_value_repr_buf(const weir_value *v, weir_buf *out);
/* Converts JSON (borrowed) into a value; objects become dicts. */
weir_value weir_value_from_json(const json_t *j);
/* Returns a new JSON reference; functions and undefined become null. */
json_t *weir_value_to_json(const weir_value *v);

#endif
