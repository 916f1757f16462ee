/*
 * yaml.h: YAML documents as trees of located nodes, and typed access to them.
 *
 * Every weir configuration file (weir.yml, sources/, pipelines/, models/,
 * expectations/) is read through this module. It sits on libyaml's event
 * parser and keeps, on every node, the file, line and column where it
 * starts, so any later error can say `file:line:col: error: ...`.
 *
 * What the loader does beyond plain parsing:
 *  - anchors and aliases are resolved: an alias is the anchored node itself
 *    (shared, not copied). A limit on the size of the tree once aliases are
 *    expanded refuses "billion laughs" documents cleanly, and a limit on
 *    nesting refuses absurdly deep ones;
 *  - merge keys (`<<: *base`, `<<: [*a, *b]`) are applied: keys written in
 *    the mapping win over merged ones, earlier merged mappings over later;
 *  - duplicate keys in a mapping are errors; keys must be scalars;
 *  - optionally, `${VAR}` and `${VAR:-default}` in scalar values (not keys)
 *    are replaced from the environment, `$$` stands for a literal `$`;
 *  - a second document in a stream is an error unless the caller allows it.
 *
 * Memory: a weir_yaml_doc owns an arena; every node and string reachable
 * from it lives there and dies with weir_yaml_doc_release(). Nodes are
 * read-only once loaded.
 *
 * Typing: only plain scalars are typed. `threads: 4` is an integer,
 * `threads: "4"` is a string; `true`/`false` (any case YAML 1.2 allows) are
 * booleans; `null`, `~` and an empty plain value are null.
 */
#ifndef WEIR_CONFIG_YAML_H
#define WEIR_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/date.h"
#include "core/error.h"

typedef enum {
    WEIR_YAML_SCALAR,
    WEIR_YAML_SEQUENCE,
    WEIR_YAML_MAPPING
} weir_yaml_kind;

typedef enum {
    WEIR_YAML_PLAIN,
    WEIR_YAML_SINGLE_QUOTED,
    WEIR_YAML_DOUBLE_QUOTED,
    WEIR_YAML_LITERAL, /* | block */
    WEIR_YAML_FOLDED   /* > block */
} weir_yaml_style;

typedef struct weir_yaml_node weir_yaml_node;

typedef struct weir_yaml_pair {
    weir_yaml_node *key; /* always a scalar */
    weir_yaml_node *value;
} weir_yaml_pair;

struct weir_yaml_node {
    weir_yaml_kind kind;
    const char *file;    /* as given to the loader */
    unsigned line, col;  /* 1-based; col counts characters */
    const char *tag;     /* explicit tag (e.g. "tag:yaml.org,2002:str"), or NULL */

    /* scalars: NUL-terminated text (it may also hold NULs before len) */
    weir_yaml_style style;
    const char *text;
    size_t len;

    /* sequences */
    weir_yaml_node **items;
    size_t n_items;

    /* mappings, in the order written (merged keys where the `<<` was) */
    weir_yaml_pair *pairs;
    size_t n_pairs;
};

/* Returns the value of a variable, or NULL when it is unset. */
typedef const char *(*weir_yaml_getenv_fn)(const char *name, void *data);

enum {
    WEIR_YAML_INTERPOLATE = 1 << 0, /* ${VAR}, ${VAR:-default}, $$ in values */
    WEIR_YAML_MULTI_DOC = 1 << 1    /* allow several documents (---) */
};

typedef struct weir_yaml_options {
    unsigned flags;
    weir_yaml_getenv_fn getenv; /* NULL: the process environment */
    void *getenv_data;
    unsigned max_depth;         /* 0: WEIR_YAML_MAX_DEPTH */
    size_t max_nodes;           /* 0: WEIR_YAML_MAX_NODES (aliases expanded) */
} weir_yaml_options;

#define WEIR_YAML_MAX_DEPTH 128
#define WEIR_YAML_MAX_NODES ((size_t)1000000)

typedef struct weir_yaml_doc {
    weir_arena arena;
    const char *file;        /* the name used in locations (arena copy) */
    weir_yaml_node *root;    /* first document; see weir_yaml_load_buf */
    weir_yaml_node **roots;  /* every document (one unless MULTI_DOC) */
    size_t n_roots;
} weir_yaml_doc;

#define WEIR_YAML_DOC_INIT { WEIR_ARENA_INIT, NULL, NULL, NULL, 0 }

/*
 * Parses len bytes of data as YAML; name is the file name used in every
 * location. opts may be NULL (no interpolation, one document). Every problem
 * found is added to diags as "name:line:col: error: ...".
 *
 * Returns 0 when there was none, WEIR_EINVALID otherwise. After a syntax
 * error (or a limit reached) doc->root is NULL. After errors that do not stop
 * the parser (duplicate keys, unset variables, a bad merge) the tree is still
 * built, so callers can go on to check it and report more problems at once.
 * An empty stream yields one null scalar at 1:1 as root. Release doc with
 * weir_yaml_doc_release() in every case.
 */
int weir_yaml_load_buf(weir_yaml_doc *doc, const char *name, const char *data,
                       size_t len, const weir_yaml_options *opts, weir_diags *diags);

/*
 * Reads the file at path and parses it as weir_yaml_load_buf does, with
 * display_name (or path when NULL) in locations. A file that cannot be read
 * is one diagnostic without line ("cannot open 'x.yml': ...") and returns
 * its error code (WEIR_ENOTFOUND when it does not exist).
 */
int weir_yaml_load_file(weir_yaml_doc *doc, const char *path, const char *display_name,
                        const weir_yaml_options *opts, weir_diags *diags);

/* Frees the tree; doc can be loaded into again. */
void weir_yaml_doc_release(weir_yaml_doc *doc);

/*
 * Interpolates ${VAR}, ${VAR:-default} and $$ in s (n bytes), appending the
 * result to out. On an unset variable without default or a malformed
 * reference, returns WEIR_EINVALID with the message in err and *where set to
 * the offset in s of the offending '$' (where may be NULL). getenv NULL: the
 * process environment.
 */
int weir_yaml_interpolate(const char *s, size_t n, weir_yaml_getenv_fn getenv,
                          void *getenv_data, weir_buf *out, size_t *where,
                          weir_error *err);

/* --- looking at nodes ------------------------------------------------ */

/* "a string", "an integer", "a list", "a mapping", "null", ... for messages. */
const char *weir_yaml_kind_name(weir_yaml_kind kind);
/* Describes n for "got ...": "a mapping", "a list", "null", "'four'". */
void weir_yaml_describe(const weir_yaml_node *n, weir_buf *out);

int weir_yaml_is_null(const weir_yaml_node *n);
/* True for a scalar that is not null (any style). */
int weir_yaml_is_scalar(const weir_yaml_node *n);
/* True for a scalar written plain without a tag, i.e. one that is typed. */
int weir_yaml_is_plain(const weir_yaml_node *n);

/* The value for key in a mapping, or NULL (also when n is not a mapping). */
weir_yaml_node *weir_yaml_map_get(const weir_yaml_node *n, const char *key);
/* The pair whose key is key, or NULL. */
const weir_yaml_pair *weir_yaml_map_pair(const weir_yaml_node *n, const char *key);

/*
 * Typed accessors. Each reads one node; on a wrong type or value it adds one
 * diagnostic at the node's location naming what was expected and what was
 * there ("expected an integer for 'threads', got 'four'") and returns
 * WEIR_EINVALID leaving *out untouched. what names the value in messages
 * (a key, "warehouse.threads"); NULL leaves it out. diags may be NULL.
 * Strings returned point into the document.
 */
int weir_yaml_get_str(const weir_yaml_node *n, const char *what, const char **out,
                      weir_diags *diags);
int weir_yaml_get_int(const weir_yaml_node *n, const char *what, int64_t *out,
                      weir_diags *diags);
int weir_yaml_get_bool(const weir_yaml_node *n, const char *what, int *out,
                       weir_diags *diags);
int weir_yaml_get_double(const weir_yaml_node *n, const char *what, double *out,
                         weir_diags *diags);
/* A date written YYYY-MM-DD (plain or quoted). */
int weir_yaml_get_date(const weir_yaml_node *n, const char *what, weir_date *out,
                       weir_diags *diags);
/*
 * A duration in seconds: one or more <number><unit> with units s, m, h, d, w
 * ("30s", "5m", "1h30m", "2d"), or a plain integer meaning seconds.
 */
int weir_yaml_get_duration(const weir_yaml_node *n, const char *what, int64_t *seconds,
                           weir_diags *diags);
/*
 * A string or a list of strings, as an array allocated from the document's
 * arena (doc) of *n_out strings. Null gives an empty list.
 */
int weir_yaml_get_strlist(weir_yaml_doc *doc, const weir_yaml_node *n, const char *what,
                          const char ***out, size_t *n_out, weir_diags *diags);

/* Parses a duration string as weir_yaml_get_duration does; 0 or WEIR_EINVALID. */
int weir_yaml_parse_duration(const char *s, int64_t *seconds);

/* Adds an error diagnostic at n's location. */
void weir_yaml_error(weir_diags *diags, const weir_yaml_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
