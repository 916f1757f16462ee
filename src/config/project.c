/*
 * project.c: loads weir.yml (or dbt_project.yml) into a weir_project (see
 * project.h) and checks the project's other YAML files.
 *
 * Loading is two passes over the tree: the schema reports every shape
 * problem of the file at once, then the reading pass fills the struct,
 * applying defaults and the rules a schema cannot say (a postgres warehouse
 * needs a dsn, a duckdb one has none). The reading pass passes NULL diags to
 * the accessors: whatever they could complain about, the schema already has.
 */
#include "core/compat.h"

#include "config/project.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/vec.h"

/* --- the schema of weir.yml ------------------------------------------ */

static const char *const warehouse_types[] = { "duckdb", "postgres", NULL };
static const char *const store_types[] = { "sqlite", "postgres", NULL };

static const weir_schema_field warehouse_fields[] = {
    WEIR_FIELD("type", WEIR_SCHEMA_STRING, .choices = warehouse_types),
    WEIR_FIELD("path", WEIR_SCHEMA_STRING),
    WEIR_FIELD("dsn", WEIR_SCHEMA_STRING),
    WEIR_FIELD("threads", WEIR_SCHEMA_INT, .min = 1, .max = 1024),
    WEIR_FIELDS_END
};
static const weir_schema warehouse_schema = { .fields = warehouse_fields };

static const weir_schema_field store_fields[] = {
    WEIR_FIELD("type", WEIR_SCHEMA_STRING, .choices = store_types),
    WEIR_FIELD("path", WEIR_SCHEMA_STRING),
    WEIR_FIELD("dsn", WEIR_SCHEMA_STRING),
    WEIR_FIELDS_END
};
static const weir_schema store_schema = { .fields = store_fields };

static const weir_schema_field lake_fields[] = {
    WEIR_FIELD("path", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELDS_END
};
static const weir_schema lake_schema = { .fields = lake_fields };

static const weir_schema_field defaults_fields[] = {
    WEIR_FIELD("timezone", WEIR_SCHEMA_STRING),
    WEIR_FIELD("retries", WEIR_SCHEMA_INT, .min = 0, .max = 100),
    WEIR_FIELD("retry_delay", WEIR_SCHEMA_DURATION),
    WEIR_FIELD("schedule", WEIR_SCHEMA_STRING),
    WEIR_FIELD("owner", WEIR_SCHEMA_STRING),
    WEIR_FIELDS_END
};
static const weir_schema defaults_schema = { .fields = defaults_fields };

static const weir_schema_field paths_fields[] = {
    WEIR_FIELD("models", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("seeds", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("macros", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("tests", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("snapshots", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("pipelines", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("sources", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("expectations", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("monitors", WEIR_SCHEMA_STRINGS),
    WEIR_FIELDS_END
};
static const weir_schema paths_schema = { .fields = paths_fields };

static const weir_schema_field project_fields[] = {
    WEIR_FIELD("name", WEIR_SCHEMA_IDENT, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("warehouse", WEIR_SCHEMA_MAP, .schema = &warehouse_schema),
    WEIR_FIELD("store", WEIR_SCHEMA_MAP, .schema = &store_schema),
    WEIR_FIELD("lake", WEIR_SCHEMA_MAP, .schema = &lake_schema),
    WEIR_FIELD("defaults", WEIR_SCHEMA_MAP, .schema = &defaults_schema),
    WEIR_FIELD("paths", WEIR_SCHEMA_MAP, .schema = &paths_schema),
    WEIR_FIELD("vars", WEIR_SCHEMA_MAP),
    /* dbt's project settings for the model folders: models:/seeds:/
     * snapshots:/tests: config trees, on-run-start, on-run-end (read by
     * src/transform) */
    WEIR_FIELD("dbt", WEIR_SCHEMA_MAP),
    WEIR_FIELDS_END
};
const weir_schema weir_project_schema = { .fields = project_fields };

/* dbt_project.yml: only what weir reads; dbt has many more keys. */
static const weir_schema_field dbt_fields[] = {
    WEIR_FIELD("name", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("model-paths", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("source-paths", WEIR_SCHEMA_STRINGS), /* dbt < 1.0 */
    WEIR_FIELD("seed-paths", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("macro-paths", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("test-paths", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("snapshot-paths", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("vars", WEIR_SCHEMA_MAP),
    WEIR_FIELDS_END
};
static const weir_schema dbt_schema = { .fields = dbt_fields, .open = 1 };

/* --- paths ----------------------------------------------------------- */

/* dir as an absolute path without trailing slash (resolved when it exists). */
static char *absolute_dir(const char *dir)
{
    weir_buf b = WEIR_BUF_INIT;
    char *real = realpath(dir, NULL);
    if (real) {
        weir_buf_adds(&b, real);
        free(real);
    } else if (dir[0] == '/') {
        weir_buf_adds(&b, dir);
    } else {
        char *cwd = getcwd(NULL, 0);
        weir_path_join(&b, cwd ? cwd : "/", dir);
        free(cwd);
    }
    while (b.len > 1 && b.ptr[b.len - 1] == '/')
        weir_buf_truncate(&b, b.len - 1);
    return weir_buf_detach(&b, NULL);
}

/* rel joined to dir as the user wrote dir ("." adds nothing). */
static void display_join(weir_buf *out, const char *dir, const char *rel)
{
    if (!dir || !*dir || strcmp(dir, ".") == 0 || strcmp(dir, "./") == 0)
        weir_buf_adds(out, rel);
    else
        weir_path_join(out, dir, rel);
}

/* path resolved against the project folder, in the project's arena. */
static const char *resolve(weir_project *p, const char *path)
{
    weir_buf b = WEIR_BUF_INIT;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0)
        path = "";
    if (!*path)
        weir_buf_adds(&b, p->dir);
    else
        weir_path_join(&b, p->dir, path);
    const char *r = weir_arena_strdup(&p->doc.arena, b.ptr);
    weir_buf_release(&b);
    return r;
}

static void set_paths(weir_project *p, weir_pathlist *list, const char *const *rel, size_t n)
{
    list->items = weir_arena_calloc(&p->doc.arena, n ? n : 1, sizeof(*list->items));
    list->len = n;
    for (size_t i = 0; i < n; i++)
        list->items[i] = resolve(p, rel[i]);
}

/* The folders of one kind: key from the file when there, else the default. */
static void read_paths(weir_project *p, const weir_yaml_node *map, const char *key,
                       const char *def, weir_pathlist *list)
{
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    const char **rel;
    size_t len;
    if (n && weir_yaml_get_strlist(&p->doc, n, key, &rel, &len, NULL) == 0) {
        set_paths(p, list, rel, len);
        return;
    }
    set_paths(p, list, &def, 1);
}

/* The folder kinds of paths:, each defaulting to the folder of its name. */
static const struct {
    const char *key;
    size_t off; /* of the weir_pathlist in weir_project */
} path_kinds[] = {
    { "models", offsetof(weir_project, paths.models) },
    { "seeds", offsetof(weir_project, paths.seeds) },
    { "macros", offsetof(weir_project, paths.macros) },
    { "tests", offsetof(weir_project, paths.tests) },
    { "snapshots", offsetof(weir_project, paths.snapshots) },
    { "pipelines", offsetof(weir_project, paths.pipelines) },
    { "sources", offsetof(weir_project, paths.sources) },
    { "expectations", offsetof(weir_project, paths.expectations) },
    { "monitors", offsetof(weir_project, paths.monitors) },
};

/* Every folder kind from map (a paths: section, or NULL for all defaults). */
static void read_all_paths(weir_project *p, const weir_yaml_node *map)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(path_kinds); i++)
        read_paths(p, map, path_kinds[i].key, path_kinds[i].key,
                   (weir_pathlist *)((char *)p + path_kinds[i].off));
}

/* --- reading --------------------------------------------------------- */

static const char *str_or(const weir_yaml_node *map, const char *key, const char *def)
{
    const char *s;
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    if (n && weir_yaml_get_str(n, NULL, &s, NULL) == 0)
        return s;
    return def;
}

static int64_t int_or(const weir_yaml_node *map, const char *key, int64_t def)
{
    int64_t v;
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    if (n && weir_yaml_get_int(n, NULL, &v, NULL) == 0)
        return v;
    return def;
}

/* A key that must not be there given the type; reported at the key. */
static void only_for(const weir_yaml_node *map, const char *key, const char *section,
                     const char *type, const char *other, weir_diags *diags)
{
    const weir_yaml_pair *pr = weir_yaml_map_pair(map, key);
    if (pr)
        weir_yaml_error(diags, pr->key, "'%s.%s' is only used with type '%s' (this %s is '%s')",
                        section, key, other, section, type);
}

static void need_dsn(const weir_yaml_node *map, const char *section, const char *type,
                     weir_diags *diags)
{
    if (!weir_yaml_map_pair(map, "dsn"))
        weir_yaml_error(diags, map,
                        "missing required key 'dsn' in '%s' (a %s %s needs a connection "
                        "string)", section, type, section);
}

/* What the type of a warehouse: or store: section names. */
enum { CONN_OTHER, CONN_LOCAL, CONN_POSTGRES };

/*
 * The part warehouse: and store: share: type (default local, the type that
 * keeps its data in a file) and, for postgres, the dsn it needs; a key of the
 * other type is reported. The caller reads what a CONN_LOCAL one has more.
 */
static int read_conn(const weir_yaml_node *map, const char *section, const char *local,
                     const char **type, const char **dsn, weir_diags *diags)
{
    *type = str_or(map, "type", local);
    if (strcmp(*type, "postgres") == 0) {
        *dsn = str_or(map, "dsn", NULL);
        need_dsn(map, section, "postgres", diags);
        only_for(map, "path", section, "postgres", local, diags);
        return CONN_POSTGRES;
    }
    if (strcmp(*type, local) != 0)
        return CONN_OTHER; /* an unknown type, already reported by the schema */
    only_for(map, "dsn", section, *type, "postgres", diags);
    return CONN_LOCAL;
}

static void read_warehouse(weir_project *p, const weir_yaml_node *w, weir_diags *diags)
{
    int conn = read_conn(w, "warehouse", "duckdb", &p->warehouse.type, &p->warehouse.dsn, diags);
    p->warehouse.kind = conn == CONN_POSTGRES ? WEIR_WAREHOUSE_POSTGRES : WEIR_WAREHOUSE_DUCKDB;
    p->warehouse.threads = (int)int_or(w, "threads", 0);
    if (conn == CONN_LOCAL) {
        const char *path = str_or(w, "path", "warehouse.duckdb");
        p->warehouse.path = strcmp(path, ":memory:") == 0 ? path : resolve(p, path);
    }
}

static void read_store(weir_project *p, const weir_yaml_node *s, weir_diags *diags)
{
    int conn = read_conn(s, "store", "sqlite", &p->store.type, &p->store.dsn, diags);
    p->store.kind = conn == CONN_POSTGRES ? WEIR_STORE_POSTGRES : WEIR_STORE_SQLITE;
    if (conn == CONN_LOCAL)
        p->store.path = resolve(p, str_or(s, "path", ".weir/store.db"));
}

static void read_defaults(weir_project *p, const weir_yaml_node *d)
{
    const weir_yaml_node *n;
    p->defaults.timezone = str_or(d, "timezone", "UTC");
    p->defaults.retries = (int)int_or(d, "retries", 0);
    p->defaults.retry_delay = 300;
    if ((n = weir_yaml_map_get(d, "retry_delay")))
        weir_yaml_get_duration(n, NULL, &p->defaults.retry_delay, NULL);
    p->defaults.schedule = str_or(d, "schedule", "@daily");
    p->defaults.owner = str_or(d, "owner", NULL);
}

/* vars: of either file: a mapping; anything else reads as none. */
static void read_vars(weir_project *p, const weir_yaml_node *root)
{
    const weir_yaml_node *vars = weir_yaml_map_get(root, "vars");
    p->vars = vars && vars->kind == WEIR_YAML_MAPPING ? vars : NULL;
}

static void read_weir(weir_project *p, weir_diags *diags)
{
    const weir_yaml_node *root = p->doc.root;
    const weir_yaml_node *lake;

    p->name = str_or(root, "name", NULL);
    read_warehouse(p, weir_yaml_map_get(root, "warehouse"), diags);
    read_store(p, weir_yaml_map_get(root, "store"), diags);
    if ((lake = weir_yaml_map_get(root, "lake")) && !weir_yaml_is_null(lake))
        p->lake_path = resolve(p, str_or(lake, "path", "lake"));
    read_defaults(p, weir_yaml_map_get(root, "defaults"));
    read_all_paths(p, weir_yaml_map_get(root, "paths"));
    read_vars(p, root);
}

static void read_dbt(weir_project *p, weir_diags *diags)
{
    const weir_yaml_node *root = p->doc.root;

    p->name = str_or(root, "name", NULL);
    read_warehouse(p, NULL, diags);
    read_store(p, NULL, diags);
    read_defaults(p, NULL);
    read_all_paths(p, NULL);
    if (weir_yaml_map_get(root, "model-paths"))
        read_paths(p, root, "model-paths", "models", &p->paths.models);
    else
        read_paths(p, root, "source-paths", "models", &p->paths.models);
    read_paths(p, root, "seed-paths", "seeds", &p->paths.seeds);
    read_paths(p, root, "macro-paths", "macros", &p->paths.macros);
    read_paths(p, root, "test-paths", "tests", &p->paths.tests);
    read_paths(p, root, "snapshot-paths", "snapshots", &p->paths.snapshots);
    read_vars(p, root);
}

/*
 * Parses data as the project file of the given kind. Takes ownership of
 * nothing; on success *out is the new project.
 */
static int load(weir_project_kind kind, const char *dir, const char *display_dir,
                const char *file, const char *name, const char *data, size_t len,
                const weir_yaml_options *opts, int keep_invalid, weir_project **out,
                weir_diags *diags)
{
    weir_diags local = WEIR_DIAGS_INIT;
    weir_yaml_options yopts = { 0 };
    weir_project *p = weir_xcalloc(1, sizeof(*p));
    char *abs = absolute_dir(dir);
    int rc;

    *out = NULL;
    if (opts)
        yopts = *opts;
    if (kind == WEIR_PROJECT_WEIR)
        yopts.flags |= WEIR_YAML_INTERPOLATE;
    else
        yopts.flags &= ~(unsigned)WEIR_YAML_INTERPOLATE;
    yopts.flags &= ~(unsigned)WEIR_YAML_MULTI_DOC;

    p->kind = kind;
    p->getenv = yopts.getenv;
    p->getenv_data = yopts.getenv_data;
    weir_yaml_load_buf(&p->doc, name, data, len, &yopts, &local);
    p->dir = weir_arena_strdup(&p->doc.arena, abs);
    p->display_dir = weir_arena_strdup(&p->doc.arena, display_dir ? display_dir : dir);
    if (file)
        p->file = weir_arena_strdup(&p->doc.arena, file);
    else
        p->file = resolve(p, kind == WEIR_PROJECT_WEIR ? "weir.yml" : "dbt_project.yml");

    if (p->doc.root) {
        const weir_schema *schema = kind == WEIR_PROJECT_WEIR ? &weir_project_schema
                                                              : &dbt_schema;
        /* Read even after schema errors (a root that is not a mapping reads
         * as empty): a kept invalid project then has every default. */
        weir_schema_validate(schema, p->doc.root, &local);
        if (kind == WEIR_PROJECT_WEIR)
            read_weir(p, &local);
        else
            read_dbt(p, &local);
        if (!p->name)
            p->name = "";
    }

    rc = local.errors ? WEIR_EINVALID : 0;
    if (diags) {
        for (size_t i = 0; i < local.list.len; i++) {
            weir_diag *d = &local.list.items[i];
            weir_diags_add(diags, d->level, d->file, d->line, d->col, "%s", d->msg);
        }
    }
    weir_diags_release(&local);
    free(abs);
    if (rc && !(keep_invalid && p->doc.root)) {
        weir_project_free(p);
        return rc;
    }
    *out = p;
    return rc;
}

int weir_project_load_buf(const char *dir, const char *name, const char *data, size_t len,
                          const weir_yaml_options *opts, weir_project **out,
                          weir_diags *diags)
{
    return load(WEIR_PROJECT_WEIR, dir, dir, NULL, name, data, len, opts, 0, out, diags);
}

int weir_project_load(const char *dir, weir_project **out, weir_diags *diags)
{
    return weir_project_load_opts(dir, NULL, out, diags);
}

int weir_project_load_opts(const char *dir, const weir_project_options *popts,
                           weir_project **out, weir_diags *diags)
{
    weir_yaml_options yopts = { 0 };
    weir_buf file = WEIR_BUF_INIT, shown = WEIR_BUF_INIT, data = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_project_kind kind = WEIR_PROJECT_WEIR;
    int rc;

    *out = NULL;
    weir_path_join(&file, dir, "weir.yml");
    if (!weir_fs_exists(file.ptr)) {
        weir_buf_reset(&file);
        weir_path_join(&file, dir, "dbt_project.yml");
        kind = WEIR_PROJECT_DBT;
        if (!weir_fs_exists(file.ptr)) {
            if (diags)
                weir_diags_add(diags, WEIR_DIAG_ERROR, NULL, 0, 0,
                               "no weir.yml in '%s' (run 'weir init %s' to create a project)",
                               dir, dir);
            rc = WEIR_ENOTFOUND;
            goto cleanup;
        }
    }
    display_join(&shown, dir, kind == WEIR_PROJECT_WEIR ? "weir.yml" : "dbt_project.yml");
    if ((rc = weir_fs_read_file(file.ptr, &data, 0, &err))) {
        if (diags)
            weir_diags_add_error(diags, &err);
        goto cleanup;
    }
    {
        char *abs_dir = absolute_dir(dir);
        weir_buf abs_file = WEIR_BUF_INIT;
        weir_path_join(&abs_file, abs_dir,
                       kind == WEIR_PROJECT_WEIR ? "weir.yml" : "dbt_project.yml");
        if (popts) {
            yopts.getenv = popts->getenv;
            yopts.getenv_data = popts->getenv_data;
        }
        rc = load(kind, dir, dir, abs_file.ptr, shown.ptr, data.ptr, data.len, &yopts,
                  popts && popts->keep_invalid, out, diags);
        weir_buf_release(&abs_file);
        free(abs_dir);
    }
cleanup:
    weir_error_release(&err);
    weir_buf_release(&file);
    weir_buf_release(&shown);
    weir_buf_release(&data);
    return rc;
}

void weir_project_free(weir_project *p)
{
    if (!p)
        return;
    weir_yaml_doc_release(&p->doc);
    free(p);
}

/* --- checking the project's other files ------------------------------ */

/* How path appears in messages: under the project folder as the user named
 * it, else as it is. */
static void display_path(const weir_project *p, const char *path, weir_buf *out)
{
    size_t n = strlen(p->dir);
    if (strncmp(path, p->dir, n) == 0 && path[n] == '/')
        display_join(out, p->display_dir, path + n + 1);
    else
        weir_buf_adds(out, path);
}

static int check_folders(const weir_project *p, const weir_pathlist *dirs, int interpolate,
                         weir_diags *diags)
{
    static const char *const exts[] = { ".yml", ".yaml" };
    weir_yaml_options opts = { 0 };
    int rc = 0;

    opts.flags = interpolate ? WEIR_YAML_INTERPOLATE : 0;
    opts.getenv = p->getenv;
    opts.getenv_data = p->getenv_data;
    for (size_t i = 0; i < dirs->len; i++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_fs_list(dirs->items[i], exts, WEIR_ARRAY_SIZE(exts), 1, &files, &err)) {
            if (diags)
                weir_diags_add_error(diags, &err);
            rc = WEIR_EINVALID;
        }
        for (size_t j = 0; j < files.len; j++) {
            weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
            weir_buf shown = WEIR_BUF_INIT;
            display_path(p, files.items[j], &shown);
            if (weir_yaml_load_file(&doc, files.items[j], shown.ptr, &opts, diags))
                rc = WEIR_EINVALID;
            weir_yaml_doc_release(&doc);
            weir_buf_release(&shown);
        }
        weir_strvec_release(&files);
        weir_error_release(&err);
    }
    return rc;
}

int weir_project_check(const weir_project *p, weir_diags *diags)
{
    int rc = 0;
    if (check_folders(p, &p->paths.sources, 1, diags))
        rc = WEIR_EINVALID;
    if (check_folders(p, &p->paths.pipelines, 1, diags))
        rc = WEIR_EINVALID;
    if (check_folders(p, &p->paths.models, 0, diags))
        rc = WEIR_EINVALID;
    if (check_folders(p, &p->paths.expectations, 1, diags))
        rc = WEIR_EINVALID;
    return rc;
}
