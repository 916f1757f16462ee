/*
 * schema.c: validates YAML trees against weir_schema tables (see schema.h).
 *
 * Validation never stops at the first problem: each key of each mapping is
 * checked and every failure becomes one diagnostic, so `weir check` can list
 * all of a file's problems in one run. Paths in messages are dotted from the
 * top of the file ("warehouse.threads", "inputs[1].table").
 */
#include "core/compat.h"

#include "config/schema.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/vec.h"

static int check_map(const weir_schema *schema, const weir_yaml_node *n, const char *path,
                     weir_diags *diags);

int weir_schema_is_ident(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

const weir_schema_field *weir_schema_field_find(const weir_schema *schema, const char *name)
{
    for (const weir_schema_field *f = schema->fields; f && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static void describe(const weir_yaml_node *n, weir_buf *out)
{
    weir_yaml_describe(n, out);
}

static int check_choices(const weir_schema_field *f, const weir_yaml_node *n,
                         const char *path, weir_diags *diags)
{
    size_t count = 0;
    for (const char *const *c = f->choices; *c; c++) {
        if (strcmp(*c, n->text) == 0)
            return 0;
        count++;
    }
    weir_buf msg = WEIR_BUF_INIT;
    weir_buf_adds(&msg, "expected ");
    if (count > 1)
        weir_buf_adds(&msg, "one of ");
    for (size_t i = 0; i < count; i++)
        weir_buf_addf(&msg, "%s'%s'", i ? ", " : "", f->choices[i]);
    weir_buf_addf(&msg, " for '%s', got ", path);
    describe(n, &msg);
    const char *s = weir_str_suggest(n->text, f->choices, count);
    if (s)
        weir_buf_addf(&msg, " (did you mean '%s'?)", s);
    weir_yaml_error(diags, n, "%s", msg.ptr);
    weir_buf_release(&msg);
    return WEIR_EINVALID;
}

static int check_strings(const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    if (weir_yaml_is_null(n) || n->kind == WEIR_YAML_SCALAR)
        return 0;
    if (n->kind != WEIR_YAML_SEQUENCE) {
        weir_buf got = WEIR_BUF_INIT;
        describe(n, &got);
        weir_yaml_error(diags, n, "expected a string or a list of strings for '%s', got %s",
                        path, got.ptr);
        weir_buf_release(&got);
        return WEIR_EINVALID;
    }
    int rc = 0;
    weir_buf item = WEIR_BUF_INIT;
    for (size_t i = 0; i < n->n_items; i++) {
        const char *s;
        weir_buf_reset(&item);
        weir_buf_addf(&item, "%s[%zu]", path, i);
        if (weir_yaml_get_str(n->items[i], item.ptr, &s, diags))
            rc = WEIR_EINVALID;
    }
    weir_buf_release(&item);
    return rc;
}

static int check_typed(const weir_schema_field *f, weir_schema_type type,
                       const weir_yaml_node *n, const char *path, weir_diags *diags);

static int check_list(const weir_schema_field *f, const weir_yaml_node *n, const char *path,
                      weir_diags *diags)
{
    if (n->kind != WEIR_YAML_SEQUENCE) {
        weir_buf got = WEIR_BUF_INIT;
        describe(n, &got);
        weir_yaml_error(diags, n, "expected a list for '%s', got %s", path, got.ptr);
        weir_buf_release(&got);
        return WEIR_EINVALID;
    }
    int rc = 0;
    weir_buf item = WEIR_BUF_INIT;
    for (size_t i = 0; i < n->n_items; i++) {
        weir_buf_reset(&item);
        weir_buf_addf(&item, "%s[%zu]", path, i);
        if (check_typed(f, f->item, n->items[i], item.ptr, diags))
            rc = WEIR_EINVALID;
    }
    weir_buf_release(&item);
    return rc;
}

/* Checks n as type (the field's own type, or its item type inside a list). */
static int check_typed(const weir_schema_field *f, weir_schema_type type,
                       const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    const char *s;
    int64_t i64;
    int b;
    double d;
    weir_date date;

    if (weir_yaml_is_null(n) && (f->flags & WEIR_SCHEMA_NULLABLE))
        return 0;
    switch (type) {
    case WEIR_SCHEMA_ANY:
        return 0;
    case WEIR_SCHEMA_STRING:
        if (weir_yaml_get_str(n, path, &s, diags))
            return WEIR_EINVALID;
        return f->choices ? check_choices(f, n, path, diags) : 0;
    case WEIR_SCHEMA_IDENT:
        if (weir_yaml_get_str(n, path, &s, diags))
            return WEIR_EINVALID;
        if (strlen(s) != n->len || !weir_schema_is_ident(s)) {
            weir_buf got = WEIR_BUF_INIT;
            describe(n, &got);
            weir_yaml_error(diags, n,
                            "expected a name (letters, digits and '_', not starting with "
                            "a digit) for '%s', got %s", path, got.ptr);
            weir_buf_release(&got);
            return WEIR_EINVALID;
        }
        return 0;
    case WEIR_SCHEMA_INT:
        if (weir_yaml_get_int(n, path, &i64, diags))
            return WEIR_EINVALID;
        if ((f->min || f->max) && (i64 < f->min || i64 > f->max)) {
            if (f->max == INT64_MAX)
                weir_yaml_error(diags, n, "expected an integer of at least %" PRId64
                                " for '%s', got %" PRId64, f->min, path, i64);
            else
                weir_yaml_error(diags, n, "expected an integer from %" PRId64 " to %" PRId64
                                " for '%s', got %" PRId64, f->min, f->max, path, i64);
            return WEIR_EINVALID;
        }
        return 0;
    case WEIR_SCHEMA_BOOL:
        return weir_yaml_get_bool(n, path, &b, diags);
    case WEIR_SCHEMA_NUMBER:
        return weir_yaml_get_double(n, path, &d, diags);
    case WEIR_SCHEMA_DATE:
        return weir_yaml_get_date(n, path, &date, diags);
    case WEIR_SCHEMA_DURATION:
        return weir_yaml_get_duration(n, path, &i64, diags);
    case WEIR_SCHEMA_STRINGS:
        return check_strings(n, path, diags);
    case WEIR_SCHEMA_LIST:
        return check_list(f, n, path, diags);
    case WEIR_SCHEMA_MAP:
        return check_map(f->schema, n, path, diags);
    }
    return 0;
}

int weir_schema_check_value(const weir_schema_field *f, const weir_yaml_node *n,
                            const char *path, weir_diags *diags)
{
    if (check_typed(f, f->type, n, path, diags))
        return WEIR_EINVALID;
    if (f->check && !(weir_yaml_is_null(n) && (f->flags & WEIR_SCHEMA_NULLABLE)))
        return f->check(n, path, diags);
    return 0;
}

/* A key for a message: quoted, control characters escaped, cut if long. */
static void quote_key(const weir_yaml_node *key, weir_buf *out)
{
    const size_t max = 40;
    weir_buf_addch(out, '\'');
    for (size_t i = 0; i < key->len && i < max; i++) {
        unsigned char c = (unsigned char)key->text[i];
        if (c < 0x20 || c == 0x7f)
            weir_buf_addf(out, "\\x%02x", c);
        else
            weir_buf_addch(out, c);
    }
    if (key->len > max)
        weir_buf_adds(out, "...");
    weir_buf_addch(out, '\'');
}

static void unknown_key(const weir_schema *schema, const weir_yaml_node *key,
                        const char *path, weir_diags *diags)
{
    WEIR_VEC(const char *) names = WEIR_VEC_INIT;
    for (const weir_schema_field *f = schema->fields; f && f->name; f++)
        weir_vec_push(&names, f->name);

    weir_buf msg = WEIR_BUF_INIT;
    weir_buf_adds(&msg, "unknown key ");
    quote_key(key, &msg);
    if (path)
        weir_buf_addf(&msg, " in '%s'", path);
    const char *s = weir_str_suggest(key->text, names.items, names.len);
    if (s) {
        weir_buf_addf(&msg, " (did you mean '%s'?)", s);
    } else if (names.len) {
        weir_buf_adds(&msg, " (known keys: ");
        for (size_t i = 0; i < names.len; i++)
            weir_buf_addf(&msg, "%s%s", i ? ", " : "", names.items[i]);
        weir_buf_addch(&msg, ')');
    }
    weir_yaml_error(diags, key, "%s", msg.ptr);
    weir_buf_release(&msg);
    weir_vec_release(&names);
}

/* path is NULL at the top of the file. */
static int check_map(const weir_schema *schema, const weir_yaml_node *n, const char *path,
                     weir_diags *diags)
{
    int rc = 0;
    weir_buf sub = WEIR_BUF_INIT;

    if (!weir_yaml_is_null(n) && n->kind != WEIR_YAML_MAPPING) {
        weir_buf got = WEIR_BUF_INIT;
        describe(n, &got);
        if (path)
            weir_yaml_error(diags, n, "expected a mapping for '%s', got %s", path, got.ptr);
        else
            weir_yaml_error(diags, n, "expected a mapping at the top of the file, got %s",
                            got.ptr);
        weir_buf_release(&got);
        return WEIR_EINVALID;
    }
    if (!schema)
        return 0;

    for (size_t i = 0; n->kind == WEIR_YAML_MAPPING && i < n->n_pairs; i++) {
        const weir_yaml_pair *p = &n->pairs[i];
        const weir_schema_field *f = NULL;
        if (strlen(p->key->text) == p->key->len)
            f = weir_schema_field_find(schema, p->key->text);
        if (!f) {
            if (!schema->open) {
                unknown_key(schema, p->key, path, diags);
                rc = WEIR_EINVALID;
            }
            continue;
        }
        weir_buf_reset(&sub);
        if (path)
            weir_buf_addf(&sub, "%s.", path);
        weir_buf_adds(&sub, f->name);
        if (weir_schema_check_value(f, p->value, sub.ptr, diags))
            rc = WEIR_EINVALID;
    }

    for (const weir_schema_field *f = schema->fields; f && f->name; f++) {
        if (!(f->flags & WEIR_SCHEMA_REQUIRED) || weir_yaml_map_pair(n, f->name))
            continue;
        if (path)
            weir_yaml_error(diags, n, "missing required key '%s' in '%s'", f->name, path);
        else
            weir_yaml_error(diags, n, "missing required key '%s'", f->name);
        rc = WEIR_EINVALID;
    }
    weir_buf_release(&sub);
    return rc;
}

int weir_schema_validate(const weir_schema *schema, const weir_yaml_node *n,
                         weir_diags *diags)
{
    return check_map(schema, n, NULL, diags);
}
