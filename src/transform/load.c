/*
 * load.c: reads a dbt project's files into nodes (see transform.h).
 *
 * Order matters for config precedence: every node starts from the
 * dbt_project.yml tree (models:/seeds:/snapshots: with `+key`s and folder
 * nesting), property files then apply their `config:` over it, and
 * rendering (tpl_render.c) applies config() calls last.
 */
#include "core/compat.h"

#include "config/yaml.h"
#include "core/alloc.h"
#include "core/date.h"
#include "core/log.h"
#include "core/fs.h"
#include "core/str.h"
#include "transform/tf_int.h"

const char *weir_node_kind_name(weir_node_kind k)
{
    switch (k) {
    case WEIR_NODE_MODEL: return "model";
    case WEIR_NODE_SEED: return "seed";
    case WEIR_NODE_TEST: return "test";
    case WEIR_NODE_SNAPSHOT: return "snapshot";
    case WEIR_NODE_SOURCE: return "source";
    }
    return "?";
}

/* --- small helpers ----------------------------------------------------- */

void tf_quote_ident(weir_buf *out, const char *ident)
{
    weir_buf_addch(out, '"');
    for (const char *p = ident; *p; p++) {
        if (*p == '"')
            weir_buf_addch(out, '"');
        weir_buf_addch(out, *p);
    }
    weir_buf_addch(out, '"');
}

void tf_quote_relation(weir_buf *out, const char *schema, const char *name)
{
    if (schema && *schema) {
        tf_quote_ident(out, schema);
        weir_buf_addch(out, '.');
    }
    tf_quote_ident(out, name);
}

const char *tf_cfg_str(const weir_tnode *n, const char *key)
{
    json_t *v = json_object_get(n->config, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int tf_cfg_bool(const weir_tnode *n, const char *key, int dflt)
{
    json_t *v = json_object_get(n->config, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return weir_str_ieq(json_string_value(v), "true");
    return dflt;
}

/* Keys whose values add up through the levels instead of replacing. */
static int is_additive(const char *key)
{
    return !strcmp(key, "tags") || !strcmp(key, "pre-hook") || !strcmp(key, "post-hook") ||
           !strcmp(key, "pre_hook") || !strcmp(key, "post_hook");
}

static const char *canonical_key(const char *key)
{
    if (!strcmp(key, "pre_hook"))
        return "pre-hook";
    if (!strcmp(key, "post_hook"))
        return "post-hook";
    return key;
}

void tf_cfg_set(json_t *config, const char *key, json_t *v)
{
    key = canonical_key(key);
    if (is_additive(key)) {
        json_t *arr = json_object_get(config, key);
        if (!json_is_array(arr)) {
            arr = json_array();
            json_object_set_new(config, key, arr);
        }
        if (json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x)
            {
                int dup = 0;
                if (!strcmp(key, "tags"))
                    for (size_t j = 0; j < json_array_size(arr); j++)
                        if (json_equal(json_array_get(arr, j), x))
                            dup = 1;
                if (!dup)
                    json_array_append(arr, x);
            }
            json_decref(v);
        } else if (!json_is_null(v)) {
            int dup = 0;
            if (!strcmp(key, "tags"))
                for (size_t j = 0; j < json_array_size(arr); j++)
                    if (json_equal(json_array_get(arr, j), v))
                        dup = 1;
            if (dup)
                json_decref(v);
            else
                json_array_append_new(arr, v);
        } else {
            json_decref(v);
        }
        return;
    }
    json_object_set_new(config, key, v);
}

/* A YAML node as JSON: plain scalars typed, other scalars strings. */
static json_t *yaml_to_json(const weir_yaml_node *n)
{
    if (!n)
        return json_null();
    switch (n->kind) {
    case WEIR_YAML_SCALAR: {
        if (weir_yaml_is_plain(n)) {
            int64_t i;
            double d;
            int b;
            if (weir_yaml_is_null(n))
                return json_null();
            if (!weir_yaml_get_int(n, NULL, &i, NULL))
                return json_integer(i);
            if (!weir_yaml_get_bool(n, NULL, &b, NULL))
                return json_boolean(b);
            if (!weir_yaml_get_double(n, NULL, &d, NULL))
                return json_real(d);
        }
        return json_stringn(n->text, n->len);
    }
    case WEIR_YAML_SEQUENCE: {
        json_t *a = json_array();
        for (size_t i = 0; i < n->n_items; i++)
            json_array_append_new(a, yaml_to_json(n->items[i]));
        return a;
    }
    case WEIR_YAML_MAPPING: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->n_pairs; i++)
            json_object_set_new(o, n->pairs[i].key->text, yaml_to_json(n->pairs[i].value));
        return o;
    }
    }
    return json_null();
}

int tf_parse_vars(const char *text, json_t **out, weir_error *err)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    int rc = 0;
    *out = NULL;
    if (weir_yaml_load_buf(&doc, "--vars", text, strlen(text), NULL, &diags) || !doc.root) {
        weir_buf b = WEIR_BUF_INIT;
        if (diags.list.len)
            weir_diag_format(&diags.list.items[0], &b);
        rc = weir_error_set(err, WEIR_EINVALID, "cannot read --vars: %s", b.ptr);
        weir_buf_release(&b);
        goto cleanup;
    }
    if (weir_yaml_is_null(doc.root)) {
        *out = json_object();
        goto cleanup;
    }
    if (doc.root->kind != WEIR_YAML_MAPPING) {
        rc = weir_error_set(err, WEIR_EINVALID, "--vars must be a mapping such as '{day: 2024-01-02}'");
        goto cleanup;
    }
    *out = yaml_to_json(doc.root);
cleanup:
    weir_yaml_doc_release(&doc);
    weir_diags_release(&diags);
    return rc;
}

/* --- nodes -------------------------------------------------------------- */

/* A node not yet in the graph (no index): what tf_node_new makes before adding it. */
static weir_tnode *node_alloc(weir_node_kind kind, const char *name, const char *unique_id,
                              const char *path)
{
    weir_tnode *n = weir_xcalloc(1, sizeof(*n));
    n->kind = kind;
    n->name = weir_xstrdup(name);
    n->unique_id = weir_xstrdup(unique_id);
    n->path = weir_xstrdup(path ? path : "");
    n->config = json_object();
    n->columns = json_object();
    n->attached = TF_NONE;
    return n;
}

static void node_register(weir_transform *tf, weir_tnode *n)
{
    n->index = tf->nodes.len;
    weir_vec_push(&tf->nodes, n);
    weir_map_put(&tf->by_id, n->unique_id, n);
    if (n->kind == WEIR_NODE_MODEL || n->kind == WEIR_NODE_SEED || n->kind == WEIR_NODE_SNAPSHOT)
        if (!weir_map_get(&tf->by_name, n->name))
            weir_map_put(&tf->by_name, n->name, n);
}

weir_tnode *tf_node_new(weir_transform *tf, weir_node_kind kind, const char *name,
                        const char *unique_id, const char *path)
{
    weir_tnode *n = node_alloc(kind, name, unique_id, path);
    node_register(tf, n);
    return n;
}

static void node_free(weir_tnode *n)
{
    free(n->name);
    free(n->unique_id);
    free(n->path);
    free(n->abs_path);
    for (size_t i = 0; i < n->n_fqn; i++)
        free(n->fqn[i]);
    free(n->fqn);
    free(n->raw_sql);
    json_decref(n->config);
    free(n->database);
    free(n->schema);
    free(n->alias);
    free(n->relation);
    free(n->description);
    json_decref(n->columns);
    free(n->rendered_sql);
    free(n->compiled_sql);
    weir_vec_release(&n->deps);
    weir_vec_release(&n->children);
    free(n->test_kind);
    free(n->column);
    json_decref(n->test_args);
    free(n->source_name);
    free(n->table_name);
    free(n);
}

static void swap(char **a, char **b)
{
    char *t = *a;
    *a = *b;
    *b = t;
}

static int differs(const char *old, const char *fresh)
{
    return !old || strcmp(old, fresh);
}

int tf_node_resolve_relation(weir_transform *tf, weir_tnode *n, pthread_rwlock_t *lock)
{
    weir_buf b = WEIR_BUF_INIT;
    const char *schema = tf_cfg_str(n, "schema");
    const char *alias = tf_cfg_str(n, "alias");
    const char *mat = tf_cfg_str(n, "materialized");
    char *fs, *fa, *fr;
    if (n->kind == WEIR_NODE_SOURCE)
        return 0;
    if (n->kind == WEIR_NODE_SNAPSHOT && tf_cfg_str(n, "target_schema"))
        weir_buf_adds(&b, tf_cfg_str(n, "target_schema"));
    else if (schema && *schema)
        weir_buf_addf(&b, "%s_%s", tf->target_schema, schema);
    else
        weir_buf_adds(&b, tf->target_schema);
    fs = weir_buf_detach(&b, NULL);
    fa = weir_xstrdup(alias && *alias ? alias : n->name);
    if (n->kind == WEIR_NODE_MODEL && mat && !strcmp(mat, "ephemeral"))
        weir_buf_addf(&b, "__dbt__cte__%s", n->name);
    else
        tf_quote_relation(&b, fs, fa);
    fr = weir_buf_detach(&b, NULL);
    /* only this node's render writes its relation, so reading it here
     * needs no lock; the other renders read it, so a change takes one */
    int changed = differs(n->schema, fs) || differs(n->alias, fa) || differs(n->relation, fr);
    if (changed) {
        if (lock)
            pthread_rwlock_wrlock(lock);
        swap(&n->schema, &fs);
        swap(&n->alias, &fa);
        swap(&n->relation, &fr);
        if (lock)
            pthread_rwlock_unlock(lock);
    }
    free(fs);
    free(fa);
    free(fr);
    return changed;
}

/* --- the dbt_project.yml config tree ------------------------------------ */

/*
 * Applies the levels of tree along path (project name, folders, node name):
 * `+key` entries always, plain scalar entries too (dbt's older form); a
 * mapping under a plain key is a folder.
 */
static void apply_tree(json_t *config, const weir_yaml_node *tree, char **path, size_t n_path)
{
    const weir_yaml_node *level = tree;
    for (size_t depth = 0; level && level->kind == WEIR_YAML_MAPPING; depth++) {
        for (size_t i = 0; i < level->n_pairs; i++) {
            const char *k = level->pairs[i].key->text;
            const weir_yaml_node *v = level->pairs[i].value;
            if (k[0] == '+')
                tf_cfg_set(config, k + 1, yaml_to_json(v));
            else if (v->kind != WEIR_YAML_MAPPING)
                tf_cfg_set(config, k, yaml_to_json(v));
        }
        if (depth >= n_path)
            break;
        const weir_yaml_node *next = weir_yaml_map_get(level, path[depth]);
        if (!next || next->kind != WEIR_YAML_MAPPING)
            break;
        level = next;
    }
}

static void set_fqn(weir_tnode *n, const char *project, const char *rel_in_folder,
                    const char *name)
{
    /* rel_in_folder: "staging/stg_a.sql" -> project, staging, name */
    WEIR_VEC(char *) parts = WEIR_VEC_INIT;
    weir_vec_push(&parts, weir_xstrdup(project));
    const char *p = rel_in_folder;
    for (const char *slash; (slash = strchr(p, '/')); p = slash + 1)
        weir_vec_push(&parts, weir_xstrndup(p, (size_t)(slash - p)));
    weir_vec_push(&parts, weir_xstrdup(name));
    n->fqn = parts.items;
    n->n_fqn = parts.len;
}

/* --- reading files ------------------------------------------------------- */

static char *strip_ext(const char *base)
{
    const char *dot = strrchr(base, '.');
    return dot ? weir_xstrndup(base, (size_t)(dot - base)) : weir_xstrdup(base);
}

/* path relative to the project folder. */
static const char *rel_path(const weir_transform *tf, const char *abs)
{
    size_t n = strlen(tf->dir);
    if (!strncmp(abs, tf->dir, n) && abs[n] == '/')
        return abs + n + 1;
    return abs;
}

static const weir_yaml_node *dbt_root(const weir_transform *tf)
{
    return tf->project->kind == WEIR_PROJECT_DBT ? tf->project->doc.root : NULL;
}

/* The tree under key ("models", "seeds", ...) of dbt_project.yml, or weir.yml's `dbt:`. */
static const weir_yaml_node *config_tree(const weir_transform *tf, const char *key)
{
    const weir_yaml_node *root = tf->project->doc.root;
    if (tf->project->kind == WEIR_PROJECT_WEIR)
        root = weir_yaml_map_get(root, "dbt");
    return weir_yaml_map_get(root, key);
}

/* --- reading many files at once ------------------------------------------ */

/* What a reader thread makes of one SQL file before its node is added. */
typedef struct sql_prep {
    weir_error err;
    weir_tnode *node; /* not yet in the graph */
} sql_prep;

typedef struct read_job {
    const weir_transform *tf;
    const weir_strvec *files;
    const char *dir;
    weir_node_kind kind;
    const weir_yaml_node *tree;
    sql_prep *preps;
    size_t start, step;
} read_job;

/* A snapshot file names its snapshot in its block; else the file's name. */
static char *node_name(weir_node_kind kind, const char *file, const char *text)
{
    if (kind == WEIR_NODE_SNAPSHOT) {
        const char *s = strstr(text, "{%");
        const char *kw = s ? strstr(s, "snapshot") : NULL;
        if (kw) {
            kw += 8;
            while (*kw == ' ' || *kw == '\t')
                kw++;
            const char *e = kw;
            while (isalnum((unsigned char)*e) || *e == '_')
                e++;
            if (e > kw)
                return weir_xstrndup(kw, (size_t)(e - kw));
        }
    }
    return strip_ext(weir_path_basename(file));
}

static void *read_worker(void *p)
{
    read_job *j = p;
    weir_buf uid = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
    for (size_t i = j->start; i < j->files->len; i += j->step) {
        sql_prep *sp = &j->preps[i];
        const char *file = j->files->items[i];
        weir_buf_reset(&text);
        if (weir_fs_read_file(file, &text, 0, &sp->err))
            continue;
        /* the node itself is made here too, all but its place in the
         * graph: per file work that needs nothing from the other files
         * (the project tree is only read) */
        char *name = node_name(j->kind, file, text.ptr);
        weir_buf_reset(&uid);
        weir_buf_addf(&uid, "%s.%s.%s", j->kind == WEIR_NODE_TEST ? "test" : weir_node_kind_name(j->kind),
                      j->tf->name, name);
        weir_tnode *n = node_alloc(j->kind, name, uid.ptr, rel_path(j->tf, file));
        n->abs_path = weir_xstrdup(file);
        n->raw_sql = weir_buf_detach(&text, NULL);
        set_fqn(n, j->tf->name, file + strlen(j->dir) + 1, name);
        if (j->kind == WEIR_NODE_TEST)
            n->test_kind = weir_xstrdup("singular");
        if (j->kind == WEIR_NODE_MODEL)
            json_object_set_new(n->config, "materialized", json_string("view"));
        if (j->tree)
            apply_tree(n->config, j->tree, n->fqn, n->n_fqn);
        sp->node = n;
        free(name);
    }
    weir_buf_release(&uid);
    weir_buf_release(&text);
    return NULL;
}

/*
 * Reads and prepares every file of files on a few threads: on a cold
 * cache, a project of 100,000 models waits on the disk far longer than it
 * computes, and several reads in flight cut the wait.
 */
static void read_all(read_job *proto)
{
    enum { READERS = 4 };
    size_t threads = proto->files->len < 256 ? 1 : READERS;
    read_job jobs[READERS];
    pthread_t tids[READERS];
    int started[READERS] = { 0 };
    for (size_t t = 0; t < threads; t++) {
        jobs[t] = *proto;
        jobs[t].start = t;
        jobs[t].step = threads;
        if (t > 0)
            started[t] = pthread_create(&tids[t], NULL, read_worker, &jobs[t]) == 0;
    }
    read_worker(&jobs[0]);
    for (size_t t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            read_worker(&jobs[t]);
    }
}

static int read_sql_files(weir_transform *tf, const weir_pathlist *dirs, weir_node_kind kind,
                          const char *tree_key, weir_diags *diags)
{
    static const char *const exts[] = { ".sql" };
    const weir_yaml_node *tree = config_tree(tf, tree_key);
    int rc = 0;
    for (size_t d = 0; d < dirs->len; d++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_fs_list(dirs->items[d], exts, 1, 1, &files, &err)) {
            weir_diags_add_error(diags, &err);
            weir_error_release(&err);
            rc = WEIR_EINVALID;
            continue;
        }
        sql_prep *preps = weir_xcalloc(files.len + 1, sizeof(sql_prep));
        for (size_t i = 0; i < files.len; i++)
            weir_error_init(&preps[i].err);
        read_job proto = { tf, &files, dirs->items[d], kind, tree, preps, 0, 1 };
        read_all(&proto);
        for (size_t i = 0; i < files.len; i++) {
            sql_prep *sp = &preps[i];
            if (sp->err.code) {
                weir_diags_add_error(diags, &sp->err);
                rc = WEIR_EINVALID;
            } else if (weir_map_get(&tf->by_id, sp->node->unique_id)) {
                weir_diags_add(diags, WEIR_DIAG_ERROR, sp->node->path, 0, 0,
                               "two %ss are named '%s'", weir_node_kind_name(kind), sp->node->name);
                rc = WEIR_EINVALID;
                node_free(sp->node);
            } else {
                node_register(tf, sp->node);
            }
            weir_error_release(&sp->err);
        }
        free(preps);
        weir_strvec_release(&files);
        weir_error_release(&err);
    }
    return rc;
}

static int read_seeds(weir_transform *tf, weir_diags *diags)
{
    static const char *const exts[] = { ".csv" };
    const weir_yaml_node *tree = config_tree(tf, "seeds");
    const weir_pathlist *dirs = &tf->project->paths.seeds;
    for (size_t d = 0; d < dirs->len; d++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        weir_fs_list(dirs->items[d], exts, 1, 1, &files, &err);
        for (size_t i = 0; i < files.len; i++) {
            weir_buf uid = WEIR_BUF_INIT;
            char *name = strip_ext(weir_path_basename(files.items[i]));
            weir_buf_addf(&uid, "seed.%s.%s", tf->name, name);
            if (!weir_map_get(&tf->by_id, uid.ptr)) {
                weir_tnode *n = tf_node_new(tf, WEIR_NODE_SEED, name, uid.ptr,
                                            rel_path(tf, files.items[i]));
                n->abs_path = weir_xstrdup(files.items[i]);
                set_fqn(n, tf->name, files.items[i] + strlen(dirs->items[d]) + 1, name);
                json_object_set_new(n->config, "materialized", json_string("seed"));
                if (tree)
                    apply_tree(n->config, tree, n->fqn, n->n_fqn);
            } else {
                weir_diags_add(diags, WEIR_DIAG_ERROR, rel_path(tf, files.items[i]), 0, 0,
                               "two seeds are named '%s'", name);
            }
            free(name);
            weir_buf_release(&uid);
        }
        weir_strvec_release(&files);
        weir_error_release(&err);
    }
    return 0;
}

static int read_macros(weir_transform *tf, weir_diags *diags)
{
    static const char *const exts[] = { ".sql" };
    const weir_pathlist *lists[] = { &tf->project->paths.macros, &tf->project->paths.tests };
    for (size_t l = 0; l < 2; l++) {
        const weir_pathlist *dirs = lists[l];
        for (size_t d = 0; d < dirs->len; d++) {
            weir_strvec files = WEIR_VEC_INIT;
            weir_error err = WEIR_ERROR_INIT;
            weir_buf text = WEIR_BUF_INIT;
            weir_fs_list(dirs->items[d], exts, 1, 1, &files, &err);
            for (size_t i = 0; i < files.len; i++) {
                if (l == 1 && !weir_str_starts_with(rel_path(tf, files.items[i]), "tests/generic/")) {
                    continue;
                }
                weir_buf_reset(&text);
                if (weir_fs_read_file(files.items[i], &text, 0, &err)) {
                    weir_diags_add_error(diags, &err);
                    weir_error_clear(&err);
                    continue;
                }
                weir_strvec_push(&tf->macro_files, rel_path(tf, files.items[i]));
                weir_strvec_push(&tf->macro_srcs, text.ptr);
            }
            weir_buf_release(&text);
            weir_strvec_release(&files);
            weir_error_release(&err);
        }
    }
    return 0;
}

/* --- property files -------------------------------------------------------- */

static const char *scalar(const weir_yaml_node *n)
{
    return n && n->kind == WEIR_YAML_SCALAR && !weir_yaml_is_null(n) ? n->text : NULL;
}

/* Makes a name safe for a test's name: as dbt, every run of characters
 * other than [A-Za-z0-9_] becomes one '_'. */
static void add_clean(weir_buf *b, const char *s)
{
    int in_run = 0;
    for (; *s; s++) {
        if (isalnum((unsigned char)*s) || *s == '_') {
            weir_buf_addch(b, *s);
            in_run = 0;
        } else if (!in_run) {
            weir_buf_addch(b, '_');
            in_run = 1;
        }
    }
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Generic tests of property files are made in two steps. The first needs
 * only the YAML: the test's kind, arguments, own config, name and a node
 * not yet in the graph. The property-file thread takes it for every test
 * of a file ahead of this one (prep_file_tests), which then links each node
 * in file order (add_generic_test): the id checked against the others, the
 * model attached, and what depends on the model's config.
 */
enum { PREP_NODE, PREP_NONE, PREP_BAD };

typedef struct test_prep {
    const weir_yaml_node *spec;
    int state;          /* PREP_NODE, PREP_NONE (nothing to add), PREP_BAD (not a test) */
    json_t *cfg;        /* the test's own config */
    weir_tnode *node;   /* PREP_NODE: not yet in the graph */
} test_prep;

struct test_preps {
    WEIR_VEC(test_prep) items;
    size_t cursor;      /* the next one add_generic_test may take */
};

static void test_prep_release(test_prep *tp)
{
    json_decref(tp->cfg);
    tp->cfg = NULL;
    if (tp->node)
        node_free(tp->node);
    tp->node = NULL;
}

static void test_preps_release(struct test_preps *ps)
{
    for (size_t i = ps->cursor; i < ps->items.len; i++)
        test_prep_release(&ps->items.items[i]);
    weir_vec_release(&ps->items);
    ps->cursor = 0;
}

/*
 * The first step for spec, a test of the model, seed or snapshot
 * parent_name or of the source table source_name.table_name (then
 * parent_name is NULL), on column (NULL: the node).
 */
static void test_prepare(const char *project, const char *parent_name, const char *source_name,
                         const char *table_name, const char *column, const weir_yaml_node *spec,
                         const char *file, test_prep *tp)
{
    const char *kind = NULL;
    const weir_yaml_node *args = NULL;
    weir_buf name = WEIR_BUF_INIT, uid = WEIR_BUF_INIT;
    json_t *jargs = json_object(), *cfg = json_object();

    tp->spec = spec;
    tp->state = PREP_NONE;
    tp->cfg = NULL;
    tp->node = NULL;
    if (spec->kind == WEIR_YAML_SCALAR) {
        kind = spec->text;
    } else if (spec->kind == WEIR_YAML_MAPPING && spec->n_pairs >= 1) {
        kind = spec->pairs[0].key->text;
        args = spec->pairs[0].value;
        if (spec->n_pairs > 1 || (args && args->kind != WEIR_YAML_MAPPING && !weir_yaml_is_null(args))) {
            /* dbt 1.8's form: - name: x \n test_name: accepted_values */
            const weir_yaml_node *tn = weir_yaml_map_get(spec, "test_name");
            if (tn) {
                kind = scalar(tn);
                args = spec;
            }
        }
    } else {
        tp->state = PREP_BAD;
        goto cleanup;
    }
    if (!kind)
        goto cleanup;
    if (strchr(kind, '.')) /* dbt_utils.x: a package's test; keep the test's own name */
        kind = strrchr(kind, '.') + 1;
    if (args && args->kind == WEIR_YAML_MAPPING) {
        for (size_t i = 0; i < args->n_pairs; i++) {
            const char *k = args->pairs[i].key->text;
            const weir_yaml_node *v = args->pairs[i].value;
            if (!strcmp(k, "config") && v->kind == WEIR_YAML_MAPPING) {
                for (size_t j = 0; j < v->n_pairs; j++)
                    tf_cfg_set(cfg, v->pairs[j].key->text, yaml_to_json(v->pairs[j].value));
            } else if (!strcmp(k, "severity") || !strcmp(k, "where") || !strcmp(k, "limit") ||
                       !strcmp(k, "warn_if") || !strcmp(k, "error_if") ||
                       !strcmp(k, "store_failures") || !strcmp(k, "tags") || !strcmp(k, "enabled")) {
                tf_cfg_set(cfg, k, yaml_to_json(v));
            } else if (!strcmp(k, "name") || !strcmp(k, "test_name")) {
                continue;
            } else if (!strcmp(k, "arguments") && v->kind == WEIR_YAML_MAPPING) {
                for (size_t j = 0; j < v->n_pairs; j++)
                    json_object_set_new(jargs, v->pairs[j].key->text, yaml_to_json(v->pairs[j].value));
            } else {
                json_object_set_new(jargs, k, yaml_to_json(v));
            }
        }
    }
    if (json_is_false(json_object_get(cfg, "enabled")))
        goto cleanup;

    const char *given = args && args->kind == WEIR_YAML_MAPPING ? scalar(weir_yaml_map_get(args, "name"))
                                                                 : NULL;
    if (given) {
        /* `name:` in a test's arguments names it (dbt 1.x) */
        weir_buf_adds(&name, given);
        goto named;
    }
    weir_buf_addf(&name, "%s_", kind);
    if (!parent_name) {
        weir_buf_adds(&name, "source_");
        add_clean(&name, source_name);
        weir_buf_addch(&name, '_');
        add_clean(&name, table_name);
    } else {
        add_clean(&name, parent_name);
    }
    if (column) {
        weir_buf_addch(&name, '_');
        add_clean(&name, column);
    }
    /* arguments in name order, as dbt names tests */
    const char **keys = weir_xcalloc(json_object_size(jargs) + 1, sizeof(char *));
    size_t nk = 0;
    const char *k;
    json_t *v;
    json_object_foreach(jargs, k, v)
        keys[nk++] = k;
    qsort(keys, nk, sizeof(char *), cmp_key);
    for (size_t ki = 0; ki < nk; ki++) {
        v = json_object_get(jargs, keys[ki]);
        weir_buf_adds(&name, "__");
        if (json_is_string(v)) {
            add_clean(&name, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x)
            {
                if (i)
                    weir_buf_adds(&name, "__");
                char *t = json_dumps(x, JSON_ENCODE_ANY);
                add_clean(&name, json_is_string(x) ? json_string_value(x) : t);
                free(t);
            }
        } else {
            char *t = json_dumps(v, JSON_ENCODE_ANY);
            add_clean(&name, t ? t : "");
            free(t);
        }
    }
    free(keys);
named:
    if (name.len > 120)
        weir_buf_truncate(&name, 120);
    weir_buf_addf(&uid, "test.%s.%s", project, name.ptr);
    weir_tnode *t = node_alloc(WEIR_NODE_TEST, name.ptr, uid.ptr, file);
    t->test_kind = weir_xstrdup(kind);
    t->column = column ? weir_xstrdup(column) : NULL;
    t->test_args = jargs;
    jargs = NULL;
    t->fqn = weir_xcalloc(2, sizeof(char *));
    t->fqn[0] = weir_xstrdup(project);
    t->fqn[1] = weir_xstrdup(name.ptr);
    t->n_fqn = 2;
    tp->state = PREP_NODE;
    tp->node = t;
    /* most tests have no config of their own: drop it here, as memory a
     * thread allocated costs a lock of its arena when another frees it */
    if (json_object_size(cfg)) {
        tp->cfg = cfg;
        cfg = NULL;
    }
cleanup:
    json_decref(jargs);
    json_decref(cfg);
    weir_buf_release(&name);
    weir_buf_release(&uid);
}

/* The second step: links the test into the graph under parent. */
static void test_link(weir_transform *tf, weir_tnode *parent, test_prep *tp)
{
    weir_tnode *t = tp->node;
    tp->node = NULL;
    if (weir_map_get(&tf->by_id, t->unique_id)) {
        weir_buf uid = WEIR_BUF_INIT;
        for (int dup = 2;; dup++) {
            weir_buf_reset(&uid);
            weir_buf_addf(&uid, "test.%s.%s_%d", tf->name, t->name, dup);
            if (!weir_map_get(&tf->by_id, uid.ptr))
                break;
        }
        free(t->unique_id);
        t->unique_id = weir_buf_detach(&uid, NULL);
    }
    node_register(tf, t);
    t->attached = parent->index;
    weir_vec_push(&t->deps, parent->index);
    /* project tree `tests:` first, then the test's own config */
    const weir_yaml_node *tree = config_tree(tf, "tests");
    if (!tree)
        tree = config_tree(tf, "data_tests");
    if (tree)
        apply_tree(t->config, tree, parent->fqn, parent->n_fqn);
    if (tp->cfg)
        json_object_update(t->config, tp->cfg);
    /* tags of the model are the test's too, as in dbt */
    json_t *ptags = json_object_get(parent->config, "tags");
    if (ptags)
        tf_cfg_set(t->config, "tags", json_deep_copy(ptags));
}

static void add_generic_test(weir_transform *tf, weir_tnode *parent, const char *column,
                             const weir_yaml_node *spec, const char *file, weir_diags *diags,
                             struct test_preps *preps)
{
    test_prep local, *tp = NULL;
    /* the thread's preparations skip nothing this walk takes, so the one
     * for spec is ahead; those passed over belong to entries left out */
    while (preps && preps->cursor < preps->items.len && !tp) {
        test_prep *x = &preps->items.items[preps->cursor++];
        if (x->spec == spec)
            tp = x;
        else
            test_prep_release(x);
    }
    if (!tp) {
        tp = &local;
        if (parent->kind == WEIR_NODE_SOURCE)
            test_prepare(tf->name, NULL, parent->source_name, parent->table_name, column, spec, file, tp);
        else
            test_prepare(tf->name, parent->name, NULL, NULL, column, spec, file, tp);
    }
    if (tp->state == PREP_BAD)
        weir_yaml_error(diags, spec, "expected a test name or a mapping of one test to its arguments");
    else if (tp->state == PREP_NODE)
        test_link(tf, parent, tp);
    test_prep_release(tp);
}

static const char *const test_keys[] = { "tests", "data_tests" };

static void read_tests_list(weir_transform *tf, weir_tnode *parent, const char *column,
                            const weir_yaml_node *owner, const char *file, weir_diags *diags,
                            struct test_preps *preps)
{
    for (size_t k = 0; k < 2; k++) {
        const weir_yaml_node *list = weir_yaml_map_get(owner, test_keys[k]);
        if (!list || weir_yaml_is_null(list))
            continue;
        if (list->kind != WEIR_YAML_SEQUENCE) {
            weir_yaml_error(diags, list, "expected a list of tests for '%s'", test_keys[k]);
            continue;
        }
        for (size_t i = 0; i < list->n_items; i++)
            add_generic_test(tf, parent, column, list->items[i], file, diags, preps);
    }
}

static void read_columns(weir_transform *tf, weir_tnode *n, const weir_yaml_node *entry,
                         const char *file, weir_diags *diags, struct test_preps *preps)
{
    const weir_yaml_node *cols = weir_yaml_map_get(entry, "columns");
    if (!cols || cols->kind != WEIR_YAML_SEQUENCE)
        return;
    for (size_t i = 0; i < cols->n_items; i++) {
        const weir_yaml_node *c = cols->items[i];
        const char *cname = scalar(weir_yaml_map_get(c, "name"));
        if (!cname) {
            weir_yaml_error(diags, c, "a column needs a 'name'");
            continue;
        }
        json_t *col = json_object();
        json_object_set_new(col, "name", json_string(cname));
        const char *desc = scalar(weir_yaml_map_get(c, "description"));
        json_object_set_new(col, "description", json_string(desc ? desc : ""));
        const char *dt = scalar(weir_yaml_map_get(c, "data_type"));
        json_object_set_new(col, "data_type", dt ? json_string(dt) : json_null());
        json_object_set_new(n->columns, cname, col);
        read_tests_list(tf, n, cname, c, file, diags, preps);
    }
}

/* --- the first step on the property-file thread: the same walk, YAML only --- */

static void prep_tests_of(const char *project, const char *pname, const char *sname,
                          const char *tname, const char *column, const weir_yaml_node *owner,
                          const char *file, struct test_preps *out)
{
    for (size_t k = 0; k < 2; k++) {
        const weir_yaml_node *list = weir_yaml_map_get(owner, test_keys[k]);
        if (!list || list->kind != WEIR_YAML_SEQUENCE)
            continue;
        for (size_t i = 0; i < list->n_items; i++) {
            test_prep tp;
            test_prepare(project, pname, sname, tname, column, list->items[i], file, &tp);
            weir_vec_push(&out->items, tp);
        }
    }
}

static void prep_columns(const char *project, const char *pname, const char *sname,
                         const char *tname, const weir_yaml_node *entry, const char *file,
                         struct test_preps *out)
{
    const weir_yaml_node *cols = weir_yaml_map_get(entry, "columns");
    if (!cols || cols->kind != WEIR_YAML_SEQUENCE)
        return;
    for (size_t i = 0; i < cols->n_items; i++) {
        const char *cname = scalar(weir_yaml_map_get(cols->items[i], "name"));
        if (cname)
            prep_tests_of(project, pname, sname, tname, cname, cols->items[i], file, out);
    }
}

static void prep_file_tests(const char *project, const weir_yaml_node *root, const char *file,
                            struct test_preps *out)
{
    static const char *const lists[] = { "models", "seeds", "snapshots" };
    for (size_t l = 0; l < 3; l++) {
        const weir_yaml_node *list = weir_yaml_map_get(root, lists[l]);
        if (!list || list->kind != WEIR_YAML_SEQUENCE)
            continue;
        for (size_t i = 0; i < list->n_items; i++) {
            const char *name = scalar(weir_yaml_map_get(list->items[i], "name"));
            if (!name)
                continue;
            prep_columns(project, name, NULL, NULL, list->items[i], file, out);
            prep_tests_of(project, name, NULL, NULL, NULL, list->items[i], file, out);
        }
    }
    const weir_yaml_node *sources = weir_yaml_map_get(root, "sources");
    if (!sources || sources->kind != WEIR_YAML_SEQUENCE)
        return;
    for (size_t i = 0; i < sources->n_items; i++) {
        const char *sname = scalar(weir_yaml_map_get(sources->items[i], "name"));
        const weir_yaml_node *tables = weir_yaml_map_get(sources->items[i], "tables");
        if (!sname || !tables || tables->kind != WEIR_YAML_SEQUENCE)
            continue;
        for (size_t t = 0; t < tables->n_items; t++) {
            const char *tname = scalar(weir_yaml_map_get(tables->items[t], "name"));
            if (!tname)
                continue;
            prep_columns(project, NULL, sname, tname, tables->items[t], file, out);
            prep_tests_of(project, NULL, sname, tname, NULL, tables->items[t], file, out);
        }
    }
}

static void read_node_props(weir_transform *tf, weir_node_kind kind, const weir_yaml_node *list,
                            const char *file, weir_diags *diags, struct test_preps *preps)
{
    if (!list || list->kind != WEIR_YAML_SEQUENCE)
        return;
    for (size_t i = 0; i < list->n_items; i++) {
        const weir_yaml_node *e = list->items[i];
        const char *name = scalar(weir_yaml_map_get(e, "name"));
        if (!name) {
            weir_yaml_error(diags, e, "an entry needs a 'name'");
            continue;
        }
        weir_tnode *n = weir_map_get(&tf->by_name, name);
        if (!n || n->kind != kind) {
            /* dbt warns and goes on */
            weir_diags_add(diags, WEIR_DIAG_WARNING, e->file, e->line, e->col,
                           "%s '%s' is described here but does not exist", weir_node_kind_name(kind),
                           name);
            continue;
        }
        const char *desc = scalar(weir_yaml_map_get(e, "description"));
        if (desc) {
            free(n->description);
            n->description = weir_xstrdup(desc);
        }
        const weir_yaml_node *cfg = weir_yaml_map_get(e, "config");
        if (cfg && cfg->kind == WEIR_YAML_MAPPING)
            for (size_t j = 0; j < cfg->n_pairs; j++)
                tf_cfg_set(n->config, cfg->pairs[j].key->text, yaml_to_json(cfg->pairs[j].value));
        read_columns(tf, n, e, file, diags, preps);
        read_tests_list(tf, n, NULL, e, file, diags, preps);
    }
}

static void read_sources(weir_transform *tf, const weir_yaml_node *list, const char *file,
                         weir_diags *diags, struct test_preps *preps)
{
    if (!list || list->kind != WEIR_YAML_SEQUENCE)
        return;
    for (size_t i = 0; i < list->n_items; i++) {
        const weir_yaml_node *s = list->items[i];
        const char *sname = scalar(weir_yaml_map_get(s, "name"));
        if (!sname) {
            weir_yaml_error(diags, s, "a source needs a 'name'");
            continue;
        }
        const char *schema = scalar(weir_yaml_map_get(s, "schema"));
        const char *database = scalar(weir_yaml_map_get(s, "database"));
        const weir_yaml_node *tables = weir_yaml_map_get(s, "tables");
        if (!tables || tables->kind != WEIR_YAML_SEQUENCE)
            continue;
        for (size_t t = 0; t < tables->n_items; t++) {
            const weir_yaml_node *te = tables->items[t];
            const char *tname = scalar(weir_yaml_map_get(te, "name"));
            if (!tname) {
                weir_yaml_error(diags, te, "a source table needs a 'name'");
                continue;
            }
            const char *ident = scalar(weir_yaml_map_get(te, "identifier"));
            weir_buf key = WEIR_BUF_INIT, uid = WEIR_BUF_INIT, rel = WEIR_BUF_INIT;
            weir_buf_addf(&key, "%s.%s", sname, tname);
            weir_buf_addf(&uid, "source.%s.%s.%s", tf->name, sname, tname);
            if (weir_map_get(&tf->sources, key.ptr)) {
                weir_yaml_error(diags, te, "source '%s' is defined twice", key.ptr);
            } else {
                weir_tnode *n = tf_node_new(tf, WEIR_NODE_SOURCE, key.ptr, uid.ptr, file);
                n->source_name = weir_xstrdup(sname);
                n->table_name = weir_xstrdup(tname);
                n->schema = weir_xstrdup(schema ? schema : sname);
                n->alias = weir_xstrdup(ident ? ident : tname);
                n->database = database ? weir_xstrdup(database) : NULL;
                tf_quote_relation(&rel, n->schema, n->alias);
                n->relation = weir_buf_detach(&rel, NULL);
                n->fqn = weir_xcalloc(3, sizeof(char *));
                n->fqn[0] = weir_xstrdup(tf->name);
                n->fqn[1] = weir_xstrdup(sname);
                n->fqn[2] = weir_xstrdup(tname);
                n->n_fqn = 3;
                const char *desc = scalar(weir_yaml_map_get(te, "description"));
                n->description = weir_xstrdup(desc ? desc : "");
                const weir_yaml_node *fr = weir_yaml_map_get(te, "freshness");
                if (!fr)
                    fr = weir_yaml_map_get(s, "freshness");
                if (fr)
                    json_object_set_new(n->config, "freshness", yaml_to_json(fr));
                const weir_yaml_node *lat = weir_yaml_map_get(te, "loaded_at_field");
                if (!lat)
                    lat = weir_yaml_map_get(s, "loaded_at_field");
                if (lat)
                    json_object_set_new(n->config, "loaded_at_field", yaml_to_json(lat));
                weir_map_put(&tf->sources, n->name, n);
                read_columns(tf, n, te, file, diags, preps);
                read_tests_list(tf, n, NULL, te, file, diags, preps);
            }
            weir_buf_release(&key);
            weir_buf_release(&uid);
            weir_buf_release(&rel);
        }
    }
}

static void read_docs_md(weir_transform *tf, const char *text)
{
    /* {% docs name %} ... {% enddocs %} */
    const char *p = text;
    while ((p = strstr(p, "{%"))) {
        const char *q = p + 2;
        if (*q == '-')
            q++;
        while (*q == ' ')
            q++;
        if (strncmp(q, "docs", 4) || !isspace((unsigned char)q[4])) {
            p += 2;
            continue;
        }
        q += 4;
        while (*q == ' ')
            q++;
        const char *ne = q;
        while (isalnum((unsigned char)*ne) || *ne == '_')
            ne++;
        char *name = weir_xstrndup(q, (size_t)(ne - q));
        const char *body = strstr(ne, "%}");
        const char *end = body ? strstr(body, "{% enddocs %}") : NULL;
        if (!end) {
            free(name);
            break;
        }
        body += 2;
        while (*body == '\n' || *body == '\r')
            body++;
        char *txt = weir_xstrndup(body, (size_t)(end - body));
        weir_buf t = WEIR_BUF_INIT;
        weir_buf_adds(&t, txt);
        weir_buf_trim(&t);
        json_object_set_new(tf->docs, name, json_string(t.ptr));
        weir_buf_release(&t);
        free(txt);
        free(name);
        p = end + 13;
    }
}

/*
 * Property files are listed, read and parsed on a thread of their own while
 * this one reads the SQL files; nodes are made from them here, in file
 * order, so names, numbering and messages do not depend on timing. The
 * parser stays at most AHEAD files in front, which bounds the parsed trees
 * held at once in a project of hundreds of property files.
 */
enum { AHEAD = 8 };

typedef struct prop_file {
    char *path;
    int is_md;
    int rc;             /* the YAML load's result */
    weir_buf text;      /* a .md file's text */
    weir_yaml_doc doc;  /* a .yml file's tree */
    weir_diags diags;   /* the parser's messages, added in file order */
    struct test_preps preps; /* its generic tests, first step */
} prop_file;

typedef struct prop_reader {
    weir_transform *tf;
    WEIR_VEC(prop_file *) files;
    pthread_t tid;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t listed;      /* files.len is final once set */
    size_t parsed;      /* files[0..parsed) are ready */
    size_t consumed;    /* files[0..consumed) were taken */
    size_t ahead;       /* how far the parser may run in front */
    int list_done;
} prop_reader;

static void *prop_worker(void *p)
{
    prop_reader *r = p;
    static const char *const exts[] = { ".yml", ".yaml", ".md" };
    const weir_transform *tf = r->tf;
    const weir_pathlist *lists[] = { &tf->project->paths.models, &tf->project->paths.seeds,
                                     &tf->project->paths.snapshots };
    weir_strvec all = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    for (size_t l = 0; l < 3; l++)
        for (size_t d = 0; d < lists[l]->len; d++) {
            weir_fs_list(lists[l]->items[d], exts, 3, 1, &all, &err);
            weir_error_clear(&err);
        }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < all.len; i++) {
        prop_file *f = weir_xcalloc(1, sizeof(*f));
        f->path = weir_xstrdup(all.items[i]);
        f->is_md = weir_str_ends_with(f->path, ".md");
        weir_buf_init(&f->text, 0);
        f->doc = (weir_yaml_doc)WEIR_YAML_DOC_INIT;
        weir_diags_init(&f->diags);
        weir_vec_push(&r->files, f);
    }
    r->list_done = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    weir_strvec_release(&all);

    for (size_t i = 0; i < r->files.len; i++) {
        prop_file *f = r->files.items[i];
        pthread_mutex_lock(&r->mu);
        while (i >= r->consumed + r->ahead)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
        if (f->is_md) {
            weir_fs_read_file(f->path, &f->text, 0, &err);
            weir_error_clear(&err);
        } else {
            f->rc = weir_yaml_load_file(&f->doc, f->path, rel_path(tf, f->path), NULL, &f->diags);
            if (!f->rc && f->doc.root)
                prep_file_tests(tf->name, f->doc.root, rel_path(tf, f->path), &f->preps);
        }
        pthread_mutex_lock(&r->mu);
        r->parsed = i + 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    weir_error_release(&err);
    return NULL;
}

static void prop_reader_start(prop_reader *r, weir_transform *tf)
{
    memset(r, 0, sizeof(*r));
    r->tf = tf;
    r->ahead = AHEAD;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->running = pthread_create(&r->tid, NULL, prop_worker, r) == 0;
    if (!r->running) {
        r->ahead = (size_t)-1 / 2; /* no thread: read them all now */
        prop_worker(r);
    }
}

/* The next file in order, waiting for it; NULL after the last. */
static prop_file *prop_reader_next(prop_reader *r)
{
    prop_file *f = NULL;
    pthread_mutex_lock(&r->mu);
    while (!r->list_done || (r->consumed < r->files.len && r->parsed <= r->consumed))
        pthread_cond_wait(&r->cv, &r->mu);
    if (r->consumed < r->files.len)
        f = r->files.items[r->consumed++];
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return f;
}

static void prop_file_free(prop_file *f)
{
    test_preps_release(&f->preps);
    free(f->path);
    weir_buf_release(&f->text);
    weir_yaml_doc_release(&f->doc);
    weir_diags_release(&f->diags);
    free(f);
}

/* Waits for the reader and frees what was not taken (after an error). */
static void prop_reader_finish(prop_reader *r)
{
    pthread_mutex_lock(&r->mu);
    r->ahead = (size_t)-1 / 2; /* let the parser run to its end */
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->running)
        pthread_join(r->tid, NULL);
    r->running = 0;
    for (size_t i = 0; i < r->files.len; i++)
        if (r->files.items[i])
            prop_file_free(r->files.items[i]);
    weir_vec_release(&r->files);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

/* Moves the messages of from to the end of to. */
static void diags_move(weir_diags *to, weir_diags *from)
{
    for (size_t i = 0; i < from->list.len; i++)
        weir_vec_push(&to->list, from->list.items[i]);
    to->errors += from->errors;
    to->warnings += from->warnings;
    from->list.len = 0;
    from->errors = from->warnings = 0;
}

static int read_property_files(weir_transform *tf, prop_reader *pr, weir_diags *diags)
{
    int rc = 0;
    prop_file *f;
    while ((f = prop_reader_next(pr))) {
        const char *rel = rel_path(tf, f->path);
        pr->files.items[pr->consumed - 1] = NULL; /* this one is ours now */
        diags_move(diags, &f->diags);
        if (f->is_md) {
            read_docs_md(tf, f->text.ptr);
        } else if (f->rc || !f->doc.root) {
            rc = WEIR_EINVALID;
        } else {
            const weir_yaml_node *r = f->doc.root;
            read_node_props(tf, WEIR_NODE_MODEL, weir_yaml_map_get(r, "models"), rel, diags, &f->preps);
            read_node_props(tf, WEIR_NODE_SEED, weir_yaml_map_get(r, "seeds"), rel, diags, &f->preps);
            read_node_props(tf, WEIR_NODE_SNAPSHOT, weir_yaml_map_get(r, "snapshots"), rel, diags, &f->preps);
            read_sources(tf, weir_yaml_map_get(r, "sources"), rel, diags, &f->preps);
        }
        prop_file_free(f);
    }
    return rc;
}

/* --- the project ---------------------------------------------------------- */

static json_t *hooks_of(const weir_yaml_node *root, const char *key)
{
    const weir_yaml_node *n = weir_yaml_map_get(root, key);
    json_t *v = yaml_to_json(n);
    if (json_is_string(v)) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        return a;
    }
    if (!json_is_array(v)) {
        json_decref(v);
        return json_array();
    }
    return v;
}

typedef struct resolve_job {
    weir_transform *tf;
    size_t from, to;
} resolve_job;

static void *resolve_worker(void *p)
{
    resolve_job *j = p;
    for (size_t i = j->from; i < j->to; i++)
        tf_node_resolve_relation(j->tf, j->tf->nodes.items[i], NULL);
    return NULL;
}

/* Every node's relation, in two halves at once: each touches only its node. */
static void resolve_all(weir_transform *tf)
{
    size_t half = tf->nodes.len / 2;
    resolve_job a = { tf, 0, half }, b = { tf, half, tf->nodes.len };
    pthread_t tid;
    int threaded = tf->nodes.len >= 1024 && pthread_create(&tid, NULL, resolve_worker, &b) == 0;
    resolve_worker(&a);
    if (threaded)
        pthread_join(tid, NULL);
    else
        resolve_worker(&b);
}

int weir_transform_load(const weir_project *p, const weir_transform_options *opts,
                        weir_transform **out, weir_diags *diags)
{
    weir_transform *tf = weir_xcalloc(1, sizeof(*tf));
    weir_transform_options o = WEIR_TRANSFORM_OPTIONS_INIT;
    weir_buf b = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    size_t errors_before = diags->errors;
    prop_reader props;
    int rc = 0;

    if (opts)
        o = *opts;
    *out = NULL;
    tf->project = p;
    tf->name = weir_xstrdup(p->name && *p->name ? p->name : "weir");
    tf->dir = weir_xstrdup(p->dir);
    weir_path_join(&b, p->dir, "target");
    tf->target_dir = weir_buf_detach(&b, NULL);
    tf->target_name = weir_xstrdup(o.target_name ? o.target_name : "dev");
    tf->target_schema = weir_xstrdup("main");
    tf->full_refresh = o.full_refresh;
    tf->docs = json_object();
    weir_map_init(&tf->by_id);
    weir_map_init(&tf->by_name);
    weir_map_init(&tf->sources);
    tf->vars = p->vars ? yaml_to_json(p->vars) : json_object();
    if (o.vars_yaml) {
        json_t *cli = NULL;
        if (tf_parse_vars(o.vars_yaml, &cli, &err)) {
            weir_diags_add_error(diags, &err);
            rc = WEIR_EINVALID;
            goto cleanup;
        }
        json_object_update(tf->vars, cli);
        json_decref(cli);
    }
    const weir_yaml_node *hroot = p->kind == WEIR_PROJECT_DBT ? dbt_root(tf)
                                                               : weir_yaml_map_get(p->doc.root, "dbt");
    tf->on_run_start = hooks_of(hroot, "on-run-start");
    tf->on_run_end = hooks_of(hroot, "on-run-end");

    int64_t t0 = weir_monotonic_us();
    prop_reader_start(&props, tf);
    read_sql_files(tf, &p->paths.models, WEIR_NODE_MODEL, "models", diags);
    read_seeds(tf, diags);
    read_sql_files(tf, &p->paths.snapshots, WEIR_NODE_SNAPSHOT, "snapshots", diags);
    weir_debug("load: SQL files read in %.1f ms", (double)(weir_monotonic_us() - t0) / 1000.0);
    read_property_files(tf, &props, diags);
    prop_reader_finish(&props);
    weir_debug("load: property files read in %.1f ms", (double)(weir_monotonic_us() - t0) / 1000.0);
    /* singular tests: .sql files under tests/ outside tests/generic */
    {
        static const char *const exts[] = { ".sql" };
        for (size_t d = 0; d < p->paths.tests.len; d++) {
            weir_strvec files = WEIR_VEC_INIT;
            weir_fs_list(p->paths.tests.items[d], exts, 1, 1, &files, &err);
            weir_error_clear(&err);
            for (size_t i = 0; i < files.len; i++) {
                const char *rel = rel_path(tf, files.items[i]);
                if (weir_str_starts_with(files.items[i] + strlen(p->paths.tests.items[d]), "/generic/"))
                    continue;
                char *name = strip_ext(weir_path_basename(files.items[i]));
                weir_buf uid = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
                weir_buf_addf(&uid, "test.%s.%s", tf->name, name);
                if (!weir_map_get(&tf->by_id, uid.ptr) &&
                    !weir_fs_read_file(files.items[i], &text, 0, &err)) {
                    weir_tnode *n = tf_node_new(tf, WEIR_NODE_TEST, name, uid.ptr, rel);
                    n->abs_path = weir_xstrdup(files.items[i]);
                    n->raw_sql = weir_buf_detach(&text, NULL);
                    n->test_kind = weir_xstrdup("singular");
                    set_fqn(n, tf->name, files.items[i] + strlen(p->paths.tests.items[d]) + 1, name);
                    const weir_yaml_node *tree = config_tree(tf, "tests");
                    if (tree)
                        apply_tree(n->config, tree, n->fqn, n->n_fqn);
                }
                weir_error_clear(&err);
                free(name);
                weir_buf_release(&uid);
                weir_buf_release(&text);
            }
            weir_strvec_release(&files);
        }
    }
    read_macros(tf, diags);
    resolve_all(tf);
    if (diags->errors > errors_before) {
        rc = WEIR_EINVALID;
        goto cleanup;
    }
    if (tf_tpl_init(tf, &err)) {
        weir_diags_add_error(diags, &err);
        rc = WEIR_EINVALID;
        goto cleanup;
    }
cleanup:
    weir_buf_release(&b);
    weir_error_release(&err);
    if (rc) {
        weir_transform_free(tf);
        return rc;
    }
    *out = tf;
    return 0;
}

void weir_transform_free(weir_transform *tf)
{
    if (!tf)
        return;
    tf_tpl_free(tf);
    if (tf->build_locks)
        for (size_t i = 0; i < tf->nodes.len; i++)
            tf_build_lock_release(tf->build_locks[i]);
    free(tf->build_locks);
    for (size_t i = 0; i < tf->nodes.len; i++)
        node_free(tf->nodes.items[i]);
    weir_vec_release(&tf->nodes);
    weir_map_release(&tf->by_id);
    weir_map_release(&tf->by_name);
    weir_map_release(&tf->sources);
    json_decref(tf->vars);
    json_decref(tf->on_run_start);
    json_decref(tf->on_run_end);
    json_decref(tf->docs);
    weir_strvec_release(&tf->macro_files);
    weir_strvec_release(&tf->macro_srcs);
    free(tf->name);
    free(tf->dir);
    free(tf->target_dir);
    free(tf->target_name);
    free(tf->target_schema);
    free(tf->invocation_id);
    free(tf);
}

size_t weir_transform_count(const weir_transform *tf) { return tf->nodes.len; }
weir_tnode *weir_transform_node(weir_transform *tf, size_t i) { return tf->nodes.items[i]; }
const char *weir_transform_name(const weir_transform *tf) { return tf->name; }
const char *weir_transform_target_dir(const weir_transform *tf) { return tf->target_dir; }

weir_tnode *weir_transform_find(weir_transform *tf, const char *name)
{
    weir_tnode *n = weir_map_get(&tf->by_id, name);
    return n ? n : weir_map_get(&tf->by_name, name);
}
