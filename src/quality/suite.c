/*
 * suite.c: loading expectation suites from JSON or YAML.
 *
 * Both syntaxes end as the same jansson tree (YAML scalars typed as YAML
 * 1.2 plain scalars are), so one reader handles GX's two spellings of a
 * suite (0.x's expectation_suite_name / expectation_type and 1.x's name /
 * type). YAML keeps the place of every expectation and kwarg, so a bad
 * kwarg is reported at its own line and column.
 */
#include "core/compat.h"

#include "config/yaml.h"
#include "core/alloc.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "quality/internal.h"
#include "quality/render.h"

/* Converts a YAML node into JSON; plain scalars are typed. */
static json_t *yaml_to_json(const weir_yaml_node *n)
{
    if (!n)
        return json_null();
    switch (n->kind) {
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
    default:
        break;
    }
    if (weir_yaml_is_plain(n)) {
        int b;
        int64_t i;
        double d;
        if (weir_yaml_is_null(n))
            return json_null();
        if (weir_yaml_get_bool(n, NULL, &b, NULL) == 0)
            return json_boolean(b);
        if (weir_yaml_get_int(n, NULL, &i, NULL) == 0)
            return json_integer(i);
        if (weir_yaml_get_double(n, NULL, &d, NULL) == 0 && isfinite(d))
            return json_real(d);
    }
    return json_stringn(n->text, n->len);
}

static void expectation_release(weir_expectation *x)
{
    free(x->type);
    json_decref(x->config);
    free(x->where);
    free(x->error);
    free(x->columns);
    free(x->row_condition);
    json_decref(x->kw_places);
}

void weir_suite_free(weir_suite *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_items; i++)
        expectation_release(&s->items[i]);
    free(s->items);
    free(s->name);
    free(s->file);
    free(s->table);
    json_decref(s->meta);
    free(s);
}

/* The place of an expectation (and of a kwarg in it) in a YAML file. */
typedef struct place {
    const char *file;
    const weir_yaml_node *node; /* the expectation's mapping, or NULL (JSON) */
    size_t index;
} place;

static const weir_yaml_node *kwarg_node(const place *pl, const char *msg)
{
    const weir_yaml_node *kw = pl->node ? weir_yaml_map_get(pl->node, "kwargs") : NULL;
    char name[128];
    if (!kw || strncmp(msg, "kwarg '", 7) != 0)
        return pl->node;
    const char *end = strchr(msg + 7, '\'');
    if (!end || (size_t)(end - (msg + 7)) >= sizeof(name))
        return pl->node;
    memcpy(name, msg + 7, (size_t)(end - (msg + 7)));
    name[end - (msg + 7)] = '\0';
    const weir_yaml_node *v = weir_yaml_map_get(kw, name);
    return v ? v : pl->node;
}

static void report(weir_diags *diags, weir_diag_level lvl, const place *pl, const char *type,
                   const char *msg)
{
    const weir_yaml_node *n = kwarg_node(pl, msg);
    if (!diags)
        return;
    if (n)
        weir_diags_add(diags, lvl, pl->file, n->line, n->col, "expectation '%s': %s", type, msg);
    else
        weir_diags_add(diags, lvl, pl->file, 0, 0, "expectations[%zu] '%s': %s", pl->index,
                       type, msg);
}

static void load_expectation(weir_suite *s, weir_expectation *x, const json_t *item,
                             const place *pl, weir_diags *diags)
{
    weir_buf msg = WEIR_BUF_INIT, warn = WEIR_BUF_INIT;
    const weir_yaml_node *n = pl->node;
    json_t *type = json_object_get(item, "expectation_type");
    if (!type)
        type = json_object_get(item, "type");
    x->type = weir_xstrdup(json_is_string(type) ? json_string_value(type) : "");
    {
        weir_buf w = WEIR_BUF_INIT;
        if (n)
            weir_buf_addf(&w, "%s:%u:%u", pl->file, n->line, n->col);
        else
            weir_buf_addf(&w, "%s: expectations[%zu]", pl->file, pl->index);
        x->where = weir_buf_detach(&w, NULL);
    }
    json_t *kwargs = json_object_get(item, "kwargs");
    json_t *meta = json_object_get(item, "meta");
    x->config = json_object();
    /* results name the type as the suite did: GX 0.x "expectation_type", 1.x "type" */
    json_object_set_new(x->config,
                        json_object_get(item, "expectation_type") || !json_object_get(item, "type")
                            ? "expectation_type" : "type",
                        json_string(x->type));
    json_object_set_new(x->config, "kwargs", kwargs ? json_deep_copy(kwargs) : json_object());
    json_object_set_new(x->config, "meta", json_is_object(meta) ? json_deep_copy(meta)
                                                                 : json_object());
    x->kwargs = json_object_get(x->config, "kwargs");
    x->mostly = 1.0;
    x->partial_count = 20;
    x->catch_exceptions = -1;
    if (!json_is_object(item)) {
        weir_buf_adds(&msg, "an expectation must be a mapping");
    } else if (!json_is_string(type) || !*json_string_value(type)) {
        weir_buf_adds(&msg, "missing 'expectation_type' (or 'type')");
    } else if (!(x->def = weir_qx_type_find(x->type))) {
        const char *sug = weir_str_suggest(x->type, weir_expectation_type_names,
                                           weir_expectation_type_count);
        weir_buf_addf(&msg, "unknown expectation type '%s'", x->type);
        if (sug)
            weir_buf_addf(&msg, "; did you mean '%s'?", sug);
    } else if (kwargs && !json_is_object(kwargs)) {
        weir_buf_adds(&msg, "'kwargs' must be a mapping");
    } else if (weir_qx_has_template(kwargs)) {
        /* checked once rendered (params.c); keep where each kwarg was */
        const weir_yaml_node *kw = n ? weir_yaml_map_get(n, "kwargs") : NULL;
        x->templated = 1;
        if (kw && kw->kind == WEIR_YAML_MAPPING) {
            x->kw_places = json_object();
            for (size_t i = 0; i < kw->n_pairs; i++)
                json_object_set_new(x->kw_places, kw->pairs[i].key->text,
                                    json_pack("[i, i]", (int)kw->pairs[i].value->line,
                                              (int)kw->pairs[i].value->col));
        }
    } else {
        weir_qx_check(x, &msg, &warn);
    }
    if (msg.len) {
        x->error = weir_buf_detach(&msg, NULL);
        const weir_yaml_node *at = kwarg_node(pl, x->error);
        if (at) {
            free(x->where);
            weir_buf w = WEIR_BUF_INIT;
            weir_buf_addf(&w, "%s:%u:%u", pl->file, at->line, at->col);
            x->where = weir_buf_detach(&w, NULL);
        }
        s->n_errors++;
        report(diags, WEIR_DIAG_ERROR, pl, x->type, x->error);
    }
    /* each warning is one line */
    char *line = warn.ptr;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        report(diags, WEIR_DIAG_WARNING, pl, x->type, line);
        line = nl ? nl + 1 : NULL;
    }
    weir_buf_release(&msg);
    weir_buf_release(&warn);
}

static char *stem(const char *file)
{
    const char *b = weir_path_basename(file);
    const char *dot = strrchr(b, '.');
    return weir_xstrndup(b, dot ? (size_t)(dot - b) : strlen(b));
}

/* Builds the suite from root; yroot is the YAML tree when there is one. */
static int build(const char *name, const json_t *root, const weir_yaml_node *yroot,
                 weir_suite **out, weir_diags *diags)
{
    *out = NULL;
    if (!json_is_object(root)) {
        weir_diags_add(diags, WEIR_DIAG_ERROR, name, yroot ? yroot->line : 0,
                       yroot ? yroot->col : 0, "a suite must be a mapping with 'expectations'");
        return WEIR_EINVALID;
    }
    json_t *list = json_object_get(root, "expectations");
    const weir_yaml_node *ylist = yroot ? weir_yaml_map_get(yroot, "expectations") : NULL;
    if (!json_is_array(list)) {
        const weir_yaml_node *at = ylist ? ylist : yroot;
        weir_diags_add(diags, WEIR_DIAG_ERROR, name, at ? at->line : 0, at ? at->col : 0,
                       list ? "'expectations' must be a list"
                            : "missing 'expectations' (a list of expectations)");
        return WEIR_EINVALID;
    }
    weir_suite *s = weir_xcalloc(1, sizeof(*s));
    s->file = weir_xstrdup(name);
    json_t *nm = json_object_get(root, "expectation_suite_name");
    if (!json_is_string(nm))
        nm = json_object_get(root, "name");
    s->name = json_is_string(nm) ? weir_xstrdup(json_string_value(nm)) : stem(name);
    json_t *meta = json_object_get(root, "meta");
    s->meta = json_is_object(meta) ? json_deep_copy(meta) : json_object();
    json_t *table = json_object_get(root, "table");
    if (!json_is_string(table))
        table = json_object_get(s->meta, "table");
    if (json_is_string(table))
        s->table = weir_xstrdup(json_string_value(table));
    s->n_items = json_array_size(list);
    s->items = weir_xcalloc(s->n_items ? s->n_items : 1, sizeof(*s->items));
    for (size_t i = 0; i < s->n_items; i++) {
        place pl = { name, NULL, i };
        if (ylist && ylist->kind == WEIR_YAML_SEQUENCE && i < ylist->n_items)
            pl.node = ylist->items[i];
        load_expectation(s, &s->items[i], json_array_get(list, i), &pl, diags);
    }
    *out = s;
    return 0;
}

json_t *weir_quality_project_vars(const weir_project *p)
{
    return p && p->vars ? yaml_to_json(p->vars) : json_object();
}

int weir_suite_from_json(const char *name, const json_t *root, weir_suite **out,
                         weir_diags *diags)
{
    return build(name, root, NULL, out, diags);
}

int weir_suite_parse(const char *name, const char *text, size_t len, weir_suite **out,
                     weir_diags *diags)
{
    int rc;
    weir_diags none = WEIR_DIAGS_INIT;
    if (!diags) {
        rc = weir_suite_parse(name, text, len, out, &none);
        weir_diags_release(&none);
        return rc;
    }
    *out = NULL;
    if (weir_str_ends_with(name, ".json")) {
        json_t *root = NULL;
        weir_error err = WEIR_ERROR_INIT;
        rc = weir_json_parse(text, len, name, &root, &err);
        if (rc) {
            weir_diags_add_error(diags, &err);
            weir_error_release(&err);
            return WEIR_EINVALID;
        }
        rc = build(name, root, NULL, out, diags);
        json_decref(root);
        return rc;
    }
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    weir_yaml_options opts = { WEIR_YAML_INTERPOLATE, NULL, NULL, 0, 0 };
    rc = weir_yaml_load_buf(&doc, name, text, len, &opts, diags);
    if (rc == 0 || doc.root) {
        json_t *root = yaml_to_json(doc.root);
        int brc = doc.root ? build(name, root, doc.root, out, diags)
                           : WEIR_EINVALID;
        json_decref(root);
        if (rc == 0)
            rc = brc;
        else if (*out) {
            weir_suite_free(*out);
            *out = NULL;
        }
    }
    weir_yaml_doc_release(&doc);
    return rc ? WEIR_EINVALID : 0;
}

int weir_suite_load_file(const char *path, weir_suite **out, weir_diags *diags)
{
    weir_buf text = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_fs_read_file(path, &text, WEIR_FS_READ_LIMIT, &err);
    *out = NULL;
    if (rc) {
        if (diags)
            weir_diags_add_error(diags, &err);
        goto cleanup;
    }
    rc = weir_suite_parse(path, text.ptr, text.len, out, diags);
cleanup:
    weir_buf_release(&text);
    weir_error_release(&err);
    return rc;
}

int weir_suite_find(const weir_project *p, const char *name, char **path, weir_error *err)
{
    static const char *const exts[] = { ".json", ".yml", ".yaml" };
    weir_buf b = WEIR_BUF_INIT;
    weir_strvec files = WEIR_VEC_INIT;
    int rc = WEIR_ENOTFOUND;
    *path = NULL;
    if (weir_fs_exists(name) && !weir_fs_is_dir(name)) {
        *path = weir_xstrdup(name);
        return 0;
    }
    for (size_t d = 0; d < p->paths.expectations.len && !*path; d++) {
        const char *dir = p->paths.expectations.items[d];
        for (size_t e = 0; e < 3 && !*path; e++) {
            weir_buf_reset(&b);
            weir_path_join(&b, dir, name);
            weir_buf_adds(&b, exts[e]);
            if (weir_fs_exists(b.ptr))
                *path = weir_buf_detach(&b, NULL);
        }
        if (*path || !weir_fs_is_dir(dir))
            continue;
        /* else: a file whose suite name is name */
        weir_error lerr = WEIR_ERROR_INIT;
        if (weir_fs_list(dir, exts, 3, 1, &files, &lerr) == 0) {
            for (size_t i = 0; i < files.len && !*path; i++) {
                weir_suite *s = NULL;
                if (weir_suite_load_file(files.items[i], &s, NULL) == 0 && s &&
                    strcmp(s->name, name) == 0)
                    *path = weir_xstrdup(files.items[i]);
                weir_suite_free(s);
            }
        }
        weir_error_release(&lerr);
        weir_strvec_release(&files);
    }
    if (*path)
        rc = 0;
    else
        weir_error_set(err, WEIR_ENOTFOUND, "no suite '%s' in 'expectations' (looked for "
                       "%s.json, %s.yml and suite names)", name, name, name);
    weir_buf_release(&b);
    weir_strvec_release(&files);
    return rc;
}

int weir_suite_render(weir_suite *s, const weir_suite_params *params, weir_diags *diags)
{
    weir_suite_params none = { NULL, NULL, NULL, NULL };
    weir_qx_render *rc;
    int rcode = 0;
    if (!params)
        params = &none;
    rc = weir_qx_render_new(params->ds, params->data_interval_start, params->data_interval_end,
                            params->vars);
    for (size_t i = 0; i < s->n_items; i++) {
        weir_expectation *x = &s->items[i];
        weir_buf msg = WEIR_BUF_INIT, warn = WEIR_BUF_INIT;
        if (!x->templated)
            continue;
        json_t *kw = json_deep_copy(x->kwargs);
        if (weir_qx_render_kwargs(rc, kw, &msg)) {
            json_decref(kw);
        } else {
            json_object_set_new(x->config, "kwargs", kw);
            x->kwargs = kw;
            x->templated = 0;
            weir_qx_check(x, &msg, &warn);
        }
        if (msg.len) {
            free(x->error);
            x->error = weir_buf_detach(&msg, NULL);
            s->n_errors++;
            rcode = WEIR_EINVALID;
            if (diags) {
                /* at the kwarg when loading kept its place, else at the expectation */
                unsigned line = 0, col = 0;
                const char *w = x->where;
                size_t fl = strlen(s->file);
                json_t *at = NULL;
                if (strncmp(x->error, "kwarg '", 7) == 0) {
                    char name[128];
                    const char *q = strchr(x->error + 7, '\'');
                    size_t nl = q ? (size_t)(q - (x->error + 7)) : 0;
                    if (nl && nl < sizeof(name)) {
                        memcpy(name, x->error + 7, nl);
                        name[nl] = '\0';
                        at = json_object_get(x->kw_places, name);
                    }
                }
                if (json_is_array(at)) {
                    weir_buf nw = WEIR_BUF_INIT;
                    line = (unsigned)json_integer_value(json_array_get(at, 0));
                    col = (unsigned)json_integer_value(json_array_get(at, 1));
                    weir_buf_addf(&nw, "%s:%u:%u", s->file, line, col);
                    free(x->where);
                    x->where = weir_buf_detach(&nw, NULL);
                } else if (strncmp(w, s->file, fl) == 0 && w[fl] == ':') {
                    sscanf(w + fl + 1, "%u:%u", &line, &col);
                }
                weir_diags_add(diags, WEIR_DIAG_ERROR, s->file, line, col,
                               "expectation '%s': %s", x->type, x->error);
            }
        }
        weir_buf_release(&msg);
        weir_buf_release(&warn);
    }
    weir_qx_render_free(rc);
    return rcode;
}
