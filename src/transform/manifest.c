/*
 * manifest.c: target/manifest.json and target/compiled/, in the shape
 * dbt writes them (manifest v12's top-level keys; per node the fields tools
 * read most: unique_id, resource_type, name, fqn, path, config, tags,
 * depends_on, raw_code, compiled_code, relation_name, columns).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "transform/tf_int.h"

/*
 * The manifest is written as a stream into one buffer, not built as a
 * jansson tree: for tens of thousands of nodes, building, dumping and
 * freeing the tree took most of `weir compile`.
 */
static void jstr(weir_buf *b, const char *s)
{
    if (!s) {
        weir_buf_adds(b, "null");
        return;
    }
    /* copies runs of plain bytes at once; escapes the rest */
    weir_buf_addch(b, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run)
            weir_buf_add(b, run, (size_t)(p - run));
        if (!c)
            break;
        weir_buf_add_json_escaped(b, p, 1);
        run = p + 1;
    }
    weir_buf_addch(b, '"');
}

static void jkey(weir_buf *b, const char *k, int *first)
{
    if (!*first)
        weir_buf_addch(b, ',');
    *first = 0;
    jstr(b, k);
    weir_buf_addch(b, ':');
}

static void jkv(weir_buf *b, const char *k, const char *v, int *first)
{
    jkey(b, k, first);
    jstr(b, v);
}

static void jjson(weir_buf *b, const json_t *v)
{
    if (!v) {
        weir_buf_adds(b, "null");
        return;
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    weir_buf_adds(b, t ? t : "null");
    free(t);
}

static void node_json(weir_transform *tf, weir_tnode *n, weir_buf *b)
{
    int f = 1;
    weir_buf_addch(b, '{');
    jkv(b, "unique_id", n->unique_id, &f);
    jkv(b, "resource_type", weir_node_kind_name(n->kind), &f);
    jkv(b, "package_name", tf->name, &f);
    jkv(b, "name", n->name, &f);
    jkey(b, "fqn", &f);
    weir_buf_addch(b, '[');
    for (size_t i = 0; i < n->n_fqn; i++) {
        if (i)
            weir_buf_addch(b, ',');
        jstr(b, n->fqn[i]);
    }
    weir_buf_addch(b, ']');
    jkv(b, "path", n->path, &f);
    jkv(b, "original_file_path", n->path, &f);
    jkv(b, "database", "main", &f);
    jkv(b, "schema", n->schema, &f);
    jkv(b, "alias", n->alias, &f);
    jkv(b, "description", n->description ? n->description : "", &f);
    jkey(b, "columns", &f);
    jjson(b, n->columns);
    jkey(b, "config", &f);
    jjson(b, n->config);
    jkey(b, "tags", &f);
    json_t *tags = json_object_get(n->config, "tags");
    if (tags)
        jjson(b, tags);
    else
        weir_buf_adds(b, "[]");
    jkey(b, "depends_on", &f);
    weir_buf_adds(b, "{\"macros\":[],\"nodes\":[");
    for (size_t i = 0; i < n->deps.len; i++) {
        if (i)
            weir_buf_addch(b, ',');
        jstr(b, tf->nodes.items[n->deps.items[i]]->unique_id);
    }
    weir_buf_adds(b, "]}");
    jkey(b, "refs", &f);
    weir_buf_addch(b, '[');
    int first = 1;
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        if (d->kind == WEIR_NODE_SOURCE)
            continue;
        if (!first)
            weir_buf_addch(b, ',');
        first = 0;
        weir_buf_adds(b, "{\"name\":");
        jstr(b, d->name);
        weir_buf_adds(b, ",\"package\":null,\"version\":null}");
    }
    weir_buf_addch(b, ']');
    jkey(b, "sources", &f);
    weir_buf_addch(b, '[');
    first = 1;
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        if (d->kind != WEIR_NODE_SOURCE)
            continue;
        if (!first)
            weir_buf_addch(b, ',');
        first = 0;
        weir_buf_addch(b, '[');
        jstr(b, d->source_name);
        weir_buf_addch(b, ',');
        jstr(b, d->table_name);
        weir_buf_addch(b, ']');
    }
    weir_buf_addch(b, ']');
    jkv(b, "raw_code", n->raw_sql ? n->raw_sql : "", &f);
    jkv(b, "language", "sql", &f);
    if (n->compiled) {
        jkey(b, "compiled", &f);
        weir_buf_adds(b, "true");
        jkv(b, "compiled_code", n->compiled_sql ? n->compiled_sql : "", &f);
    }
    if (n->kind != WEIR_NODE_TEST)
        jkv(b, "relation_name", n->relation, &f);
    if (n->kind == WEIR_NODE_TEST && n->attached != TF_NONE) {
        jkey(b, "test_metadata", &f);
        weir_buf_adds(b, "{\"name\":");
        jstr(b, n->test_kind);
        weir_buf_adds(b, ",\"kwargs\":");
        if (n->test_args)
            jjson(b, n->test_args);
        else
            weir_buf_adds(b, "{}");
        weir_buf_adds(b, ",\"namespace\":null}");
        jkv(b, "column_name", n->column, &f);
        jkv(b, "attached_node", tf->nodes.items[n->attached]->unique_id, &f);
    }
    if (n->kind == WEIR_NODE_SOURCE) {
        jkv(b, "source_name", n->source_name, &f);
        jkv(b, "identifier", n->alias, &f);
        jkey(b, "loaded_at_field", &f);
        jjson(b, json_object_get(n->config, "loaded_at_field"));
        jkey(b, "freshness", &f);
        jjson(b, json_object_get(n->config, "freshness"));
    }
    weir_buf_addch(b, '}');
}

int tf_write_file(const char *path, const char *data, weir_error *err)
{
    /*
     * Build outputs, rewritten by every command, thousands per compile:
     * no fsync. An unchanged file is left alone, and a changed one is
     * unlinked rather than truncated, because ext4 (auto_da_alloc) flushes
     * a truncated-and-rewritten file to disk on close, which costs
     * milliseconds a file.
     */
    size_t len = strlen(data);
    struct stat st;
    if (stat(path, &st) == 0) {
        if ((size_t)st.st_size == len) {
            weir_buf old = WEIR_BUF_INIT;
            weir_error ignore = WEIR_ERROR_INIT;
            int same = !weir_fs_read_file(path, &old, len + 1, &ignore) && old.len == len &&
                       !memcmp(old.ptr, data, len);
            weir_buf_release(&old);
            weir_error_release(&ignore);
            if (same)
                return 0;
        }
        unlink(path);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return weir_error_set_errno(err, errno, "cannot write '%s'", path);
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(path);
        return weir_error_set_errno(err, errno, "cannot write '%s'", path);
    }
    return 0;
}

static void write_compiled(weir_transform *tf, weir_tnode *n)
{
    weir_buf path = WEIR_BUF_INIT, dir = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    if (!n->compiled || !n->compiled_sql || !n->path[0])
        return;
    weir_buf_addf(&path, "%s/compiled/%s/%s", tf->target_dir, tf->name, n->path);
    if (!weir_str_ends_with(n->path, ".sql"))
        weir_buf_addf(&path, "/%s.sql", n->name);
    weir_buf_add(&dir, path.ptr, (size_t)(strrchr(path.ptr, '/') - path.ptr));
    if (tf_write_file(path.ptr, n->compiled_sql, &err)) {
        /* the folder is missing only the first time */
        weir_error_clear(&err);
        if (!weir_fs_mkdir_p(dir.ptr, &err))
            tf_write_file(path.ptr, n->compiled_sql, &err);
    }
    weir_error_release(&err);
    weir_buf_release(&path);
    weir_buf_release(&dir);
}

static void id_list(weir_transform *tf, weir_buf *b, const size_t *idx, size_t n)
{
    weir_buf_addch(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            weir_buf_addch(b, ',');
        jstr(b, tf->nodes.items[idx[i]]->unique_id);
    }
    weir_buf_addch(b, ']');
}

int weir_transform_write_manifest(weir_transform *tf, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT, path = WEIR_BUF_INIT;
    char generated[40];
    int rc, f;
    weir_ts_format(weir_ts_now(), generated);
    generated[10] = 'T';
    weir_buf_grow(&b, tf->nodes.len * 2048);
    weir_buf_adds(&b, "{\"metadata\":{");
    f = 1;
    jkv(&b, "dbt_schema_version", "https://schemas.getdbt.com/dbt/manifest/v12.json", &f);
    jkv(&b, "dbt_version", "1.8.0", &f);
    jkv(&b, "generated_at", generated, &f);
    jkv(&b, "invocation_id", tf->invocation_id ? tf->invocation_id : "", &f);
    jkv(&b, "project_name", tf->name, &f);
    jkv(&b, "adapter_type", "duckdb", &f);
    weir_buf_adds(&b, ",\"env\":{}}");
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: nodes, pass 1: sources */
        weir_buf_adds(&b, pass ? ",\"sources\":{" : ",\"nodes\":{");
        f = 1;
        for (size_t i = 0; i < tf->nodes.len; i++) {
            weir_tnode *n = tf->nodes.items[i];
            if (!tf_cfg_bool(n, "enabled", 1) || (n->kind == WEIR_NODE_SOURCE) != pass)
                continue;
            jkey(&b, n->unique_id, &f);
            node_json(tf, n, &b);
            write_compiled(tf, n);
        }
        weir_buf_addch(&b, '}');
    }
    weir_buf_adds(&b, ",\"docs\":{");
    f = 1;
    const char *k;
    json_t *v;
    json_object_foreach(tf->docs, k, v)
    {
        weir_buf id = WEIR_BUF_INIT;
        weir_buf_addf(&id, "doc.%s.%s", tf->name, k);
        jkey(&b, id.ptr, &f);
        int g = 1;
        weir_buf_addch(&b, '{');
        jkv(&b, "name", k, &g);
        jkv(&b, "block_contents", json_string_value(v), &g);
        jkv(&b, "unique_id", id.ptr, &g);
        weir_buf_addch(&b, '}');
        weir_buf_release(&id);
    }
    weir_buf_addch(&b, '}');
    const char *maps[] = { "parent_map", "child_map" };
    for (int m = 0; m < 2; m++) {
        weir_buf_addf(&b, ",\"%s\":{", maps[m]);
        f = 1;
        for (size_t i = 0; i < tf->nodes.len; i++) {
            weir_tnode *n = tf->nodes.items[i];
            if (!tf_cfg_bool(n, "enabled", 1))
                continue;
            jkey(&b, n->unique_id, &f);
            if (m == 0)
                id_list(tf, &b, n->deps.items, n->deps.len);
            else
                id_list(tf, &b, n->children.items, n->children.len);
        }
        weir_buf_addch(&b, '}');
    }
    weir_buf_adds(&b, ",\"macros\":{},\"exposures\":{},\"metrics\":{},\"groups\":{},\"selectors\":{},"
                      "\"disabled\":{},\"group_map\":{},\"saved_queries\":{},\"semantic_models\":{},"
                      "\"unit_tests\":{}}\n");
    if ((rc = weir_fs_mkdir_p(tf->target_dir, err)))
        goto cleanup;
    weir_path_join(&path, tf->target_dir, "manifest.json");
    rc = weir_fs_write_atomic(path.ptr, b.ptr, b.len, err);
cleanup:
    weir_buf_release(&b);
    weir_buf_release(&path);
    return rc;
}
