/*
 * schema.h: declarative checks of a YAML mapping's keys and value types.
 *
 * A module describes the YAML it reads as static tables and validates a
 * loaded tree against them before reading values, so that a user sees every
 * problem of a file at once (unknown keys with "did you mean", missing
 * required keys, wrong types, values outside a set) with file:line:col, and
 * the reading code can then trust the shapes it walks. For example:
 *
 *   static const char *const engines[] = { "duckdb", "postgres", NULL };
 *   static const weir_schema_field warehouse_fields[] = {
 *       WEIR_FIELD("type", WEIR_SCHEMA_STRING, .choices = engines),
 *       WEIR_FIELD("path", WEIR_SCHEMA_STRING),
 *       WEIR_FIELD("threads", WEIR_SCHEMA_INT, .min = 1, .max = 1024),
 *       WEIR_FIELDS_END
 *   };
 *   static const weir_schema warehouse = { .fields = warehouse_fields };
 *   static const weir_schema_field project_fields[] = {
 *       WEIR_FIELD("name", WEIR_SCHEMA_IDENT, .flags = WEIR_SCHEMA_REQUIRED),
 *       WEIR_FIELD("warehouse", WEIR_SCHEMA_MAP, .schema = &warehouse),
 *       WEIR_FIELD("inputs", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &input),
 *       WEIR_FIELDS_END
 *   };
 *   static const weir_schema project = { .fields = project_fields };
 *
 *   weir_schema_validate(&project, doc.root, diags);
 *
 * Null values: a null where a mapping is expected counts as an empty mapping
 * (`warehouse:` alone means "all defaults"), a null list of strings as an
 * empty list; for other types null is an error unless the field is
 * WEIR_SCHEMA_NULLABLE.
 */
#ifndef WEIR_CONFIG_SCHEMA_H
#define WEIR_CONFIG_SCHEMA_H

#include <stdint.h>

#include "config/yaml.h"
#include "core/error.h"

typedef enum {
    WEIR_SCHEMA_ANY,      /* anything at all */
    WEIR_SCHEMA_STRING,   /* a scalar (not null); .choices restricts it */
    WEIR_SCHEMA_IDENT,    /* a name: ASCII letters, digits, '_', not starting with a digit */
    WEIR_SCHEMA_INT,      /* a plain integer; .min/.max bound it when either is set */
    WEIR_SCHEMA_BOOL,     /* true or false */
    WEIR_SCHEMA_NUMBER,   /* a plain integer or decimal number */
    WEIR_SCHEMA_DATE,     /* YYYY-MM-DD */
    WEIR_SCHEMA_DURATION, /* "30s", "5m", "2h", "1d", or plain seconds */
    WEIR_SCHEMA_STRINGS,  /* a string or a list of strings */
    WEIR_SCHEMA_LIST,     /* a list whose items are of type .item (with .schema for maps) */
    WEIR_SCHEMA_MAP       /* a mapping checked against .schema; any keys when NULL */
} weir_schema_type;

enum {
    WEIR_SCHEMA_REQUIRED = 1 << 0, /* the key must be present */
    WEIR_SCHEMA_NULLABLE = 1 << 1  /* null is accepted as "not set" */
};

typedef struct weir_schema weir_schema;

/*
 * An extra check run after the type check passed, for what the types cannot
 * say (a cron expression, a path that must be relative). path is the key's
 * dotted path ("warehouse.path", "inputs[2].table") for messages. Adds its
 * own diagnostics; returns 0 or WEIR_EINVALID.
 */
typedef int (*weir_schema_check_fn)(const weir_yaml_node *value, const char *path,
                                    weir_diags *diags);

typedef struct weir_schema_field {
    const char *name;            /* NULL ends a field table */
    weir_schema_type type;
    unsigned flags;              /* WEIR_SCHEMA_REQUIRED, WEIR_SCHEMA_NULLABLE */
    const weir_schema *schema;   /* MAP, or LIST of MAP: the nested mapping's schema */
    weir_schema_type item;       /* LIST: the type of each item */
    const char *const *choices;  /* STRING: the allowed values, NULL-terminated */
    int64_t min, max;            /* INT: inclusive bounds, used when either is non-zero */
    weir_schema_check_fn check;  /* optional */
} weir_schema_field;

/* A table entry: name, type, then any other member by name. */
#define WEIR_FIELD(name_, type_, ...) { .name = (name_), .type = (type_), __VA_ARGS__ }
#define WEIR_FIELDS_END { .name = NULL }

struct weir_schema {
    const weir_schema_field *fields; /* ended by an entry whose name is NULL */
    unsigned open;                   /* non-zero: keys not listed are allowed */
};

/*
 * Checks that n is a mapping (or null, taken as empty) matching schema, and
 * reports every problem found into diags, nested mappings and lists
 * included:
 *   unknown key 'shedule' (did you mean 'schedule'?)
 *   unknown key 'pth' in 'warehouse' (did you mean 'path'?)
 *   missing required key 'name'
 *   expected an integer for 'warehouse.threads', got 'four'
 *   expected one of 'duckdb', 'postgres' for 'warehouse.type', got 'duckbd' (did you mean 'duckdb'?)
 * Returns 0 when there was none, WEIR_EINVALID otherwise.
 */
int weir_schema_validate(const weir_schema *schema, const weir_yaml_node *n,
                         weir_diags *diags);

/*
 * Checks one value against one field's type and constraints, as
 * weir_schema_validate does for each key; path names it in messages.
 */
int weir_schema_check_value(const weir_schema_field *field, const weir_yaml_node *n,
                            const char *path, weir_diags *diags);

/* The field named name in schema, or NULL. */
const weir_schema_field *weir_schema_field_find(const weir_schema *schema, const char *name);

/* True when s is an identifier as WEIR_SCHEMA_IDENT means it. */
int weir_schema_is_ident(const char *s);

#endif
