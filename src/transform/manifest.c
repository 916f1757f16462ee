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

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *node_json(weir_transform *tf, weir_tnode *n)
{
    json_t *o = json_object(), *fqn = json_array(), *dn = json_array(), *refs = json_array(),
           *srcs = json_array(), *dep = json_object();
    json_object_set_new(o, "unique_id", json_string(n->unique_id));
    json_object_set_new(o, "resource_type", json_string(weir_node_kind_name(n->kind)));
    json_object_set_new(o, "package_name", json_string(tf->name));
    json_object_set_new(o, "name", json_string(n->name));
    for (size_t i = 0; i < n->n_fqn; i++)
        json_array_append_new(fqn, json_string(n->fqn[i]));
    json_object_set_new(o, "fqn", fqn);
    json_object_set_new(o, "path", json_string(n->path));
    json_object_set_new(o, "original_file_path", json_string(n->path));
    json_object_set_new(o, "database", json_string("main"));
    json_object_set_new(o, "schema", str_or_null(n->schema));
    json_object_set_new(o, "alias", str_or_null(n->alias));
    json_object_set_new(o, "description", json_string(n->description ? n->description : ""));
    json_object_set_new(o, "columns", json_deep_copy(n->columns));
    json_object_set_new(o, "config", json_deep_copy(n->config));
    json_t *tags = json_object_get(n->config, "tags");
    json_object_set_new(o, "tags", tags ? json_deep_copy(tags) : json_array());
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        json_array_append_new(dn, json_string(d->unique_id));
        if (d->kind == WEIR_NODE_SOURCE) {
            json_t *pair = json_array();
            json_array_append_new(pair, json_string(d->source_name));
            json_array_append_new(pair, json_string(d->table_name));
            json_array_append_new(srcs, pair);
        } else {
            json_t *ref = json_object();
            json_object_set_new(ref, "name", json_string(d->name));
            json_object_set_new(ref, "package", json_null());
            json_object_set_new(ref, "version", json_null());
            json_array_append_new(refs, ref);
        }
    }
    json_object_set_new(dep, "macros", json_array());
    json_object_set_new(dep, "nodes", dn);
    json_object_set_new(o, "depends_on", dep);
    json_object_set_new(o, "refs", refs);
    json_object_set_new(o, "sources", srcs);
    json_object_set_new(o, "raw_code", json_string(n->raw_sql ? n->raw_sql : ""));
    json_object_set_new(o, "language", json_string("sql"));
    if (n->compiled) {
        json_object_set_new(o, "compiled", json_true());
        json_object_set_new(o, "compiled_code", json_string(n->compiled_sql ? n->compiled_sql : ""));
    }
    if (n->kind != WEIR_NODE_TEST)
        json_object_set_new(o, "relation_name", str_or_null(n->relation));
    if (n->kind == WEIR_NODE_TEST && n->attached != TF_NONE) {
        json_t *meta = json_object();
        json_object_set_new(meta, "name", json_string(n->test_kind));
        json_object_set_new(meta, "kwargs", n->test_args ? json_deep_copy(n->test_args) : json_object());
        json_object_set_new(meta, "namespace", json_null());
        json_object_set_new(o, "test_metadata", meta);
        json_object_set_new(o, "column_name", str_or_null(n->column));
        json_object_set_new(o, "attached_node", json_string(tf->nodes.items[n->attached]->unique_id));
    }
    if (n->kind == WEIR_NODE_SOURCE) {
        json_object_set_new(o, "source_name", json_string(n->source_name));
        json_object_set_new(o, "identifier", json_string(n->alias));
        json_object_set_new(o, "loaded_at_field", json_deep_copy(json_object_get(n->config, "loaded_at_field")));
        json_object_set_new(o, "freshness", json_deep_copy(json_object_get(n->config, "freshness")));
    }
    return o;
}

int tf_write_file(const char *path, const char *data, weir_error *err)
{
    /* build outputs, rewritten by every command: no fsync (thousands of
     * files per compile), but never a half-written file left behind */
    FILE *f = fopen(path, "wb");
    if (!f)
        return weir_error_set_errno(err, errno, "cannot write '%s'", path);
    size_t len = strlen(data);
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

int weir_transform_write_manifest(weir_transform *tf, weir_error *err)
{
    json_t *root = json_object(), *meta = json_object(), *nodes = json_object(), *sources = json_object(),
           *pmap = json_object(), *cmap = json_object(), *docs = json_object();
    weir_buf path = WEIR_BUF_INIT;
    char generated[40];
    int rc;
    weir_ts_format(weir_ts_now(), generated);
    generated[10] = 'T';
    json_object_set_new(meta, "dbt_schema_version", json_string("https://schemas.getdbt.com/dbt/manifest/v12.json"));
    json_object_set_new(meta, "dbt_version", json_string("1.8.0"));
    json_object_set_new(meta, "generated_at", json_string(generated));
    json_object_set_new(meta, "invocation_id", json_string(tf->invocation_id ? tf->invocation_id : ""));
    json_object_set_new(meta, "project_name", json_string(tf->name));
    json_object_set_new(meta, "adapter_type", json_string("duckdb"));
    json_object_set_new(meta, "env", json_object());
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_tnode *n = tf->nodes.items[i];
        if (!tf_cfg_bool(n, "enabled", 1))
            continue;
        json_object_set_new(n->kind == WEIR_NODE_SOURCE ? sources : nodes, n->unique_id, node_json(tf, n));
        json_t *parents = json_array(), *kids = json_array();
        for (size_t k = 0; k < n->deps.len; k++)
            json_array_append_new(parents, json_string(tf->nodes.items[n->deps.items[k]]->unique_id));
        for (size_t k = 0; k < n->children.len; k++)
            json_array_append_new(kids, json_string(tf->nodes.items[n->children.items[k]]->unique_id));
        json_object_set_new(pmap, n->unique_id, parents);
        json_object_set_new(cmap, n->unique_id, kids);
        write_compiled(tf, n);
    }
    const char *k;
    json_t *v;
    json_object_foreach(tf->docs, k, v)
    {
        json_t *d = json_object();
        weir_buf id = WEIR_BUF_INIT;
        weir_buf_addf(&id, "doc.%s.%s", tf->name, k);
        json_object_set_new(d, "name", json_string(k));
        json_object_set_new(d, "block_contents", json_deep_copy(v));
        json_object_set_new(d, "unique_id", json_string(id.ptr));
        json_object_set_new(docs, id.ptr, d);
        weir_buf_release(&id);
    }
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "sources", sources);
    json_object_set_new(root, "macros", json_object());
    json_object_set_new(root, "docs", docs);
    json_object_set_new(root, "exposures", json_object());
    json_object_set_new(root, "metrics", json_object());
    json_object_set_new(root, "groups", json_object());
    json_object_set_new(root, "selectors", json_object());
    json_object_set_new(root, "disabled", json_object());
    json_object_set_new(root, "parent_map", pmap);
    json_object_set_new(root, "child_map", cmap);
    json_object_set_new(root, "group_map", json_object());
    json_object_set_new(root, "saved_queries", json_object());
    json_object_set_new(root, "semantic_models", json_object());
    json_object_set_new(root, "unit_tests", json_object());
    if ((rc = weir_fs_mkdir_p(tf->target_dir, err)))
        goto cleanup;
    weir_path_join(&path, tf->target_dir, "manifest.json");
    rc = weir_json_write_file(path.ptr, root, 0, err);
cleanup:
    json_decref(root);
    weir_buf_release(&path);
    return rc;
}
