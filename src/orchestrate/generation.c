/*
 * generation.c: the project, models and pipelines `weir serve` loads
 * together and replaces while it runs (see generation.h).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "orchestrate/generation.h"
#include "transform/transform.h"

/* The project files' part of the stamp, before the project says where
 * its folders are. Both files: creating the missing one changes what the
 * folder is. */
static uint64_t stamp_root(const char *dir)
{
    static const char *const roots[] = { "weir.yml", "dbt_project.yml" };
    weir_buf path = WEIR_BUF_INIT;
    uint64_t h = WEIR_FS_STAMP_INIT;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(roots); i++) {
        weir_buf_reset(&path);
        weir_path_join(&path, dir, roots[i]);
        h = weir_fs_stamp(h, path.ptr);
    }
    weir_buf_release(&path);
    return h;
}

uint64_t weir_generation_stamp(const weir_project *p)
{
    static const char *const exts[] = { ".sql", ".yml", ".yaml", ".csv", ".md" };
    const weir_pathlist *dirs[] = { &p->paths.pipelines, &p->paths.models, &p->paths.seeds,
                                    &p->paths.macros,    &p->paths.tests,  &p->paths.snapshots };
    uint64_t h = stamp_root(p->dir);
    weir_strvec files = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    for (size_t d = 0; d < WEIR_ARRAY_SIZE(dirs); d++)
        for (size_t i = 0; i < dirs[d]->len; i++) {
            /* a folder that cannot be listed now shows as empty: the load
             * that follows reports why */
            if (weir_fs_list(dirs[d]->items[i], exts, WEIR_ARRAY_SIZE(exts), 1, &files, &err))
                weir_error_clear(&err);
            for (size_t k = 0; k < files.len; k++)
                h = weir_fs_stamp(h, files.items[k]);
            weir_strvec_release(&files);
        }
    weir_error_release(&err);
    return h;
}

int weir_generation_load(const char *dir, weir_engine *engine, weir_generation **out,
                         weir_diags *diags, weir_error *err)
{
    weir_generation *g = weir_xcalloc(1, sizeof(*g));
    uint64_t root = stamp_root(dir);
    int rc;
    *out = NULL;
    if ((rc = weir_project_load(dir, &g->project, diags)))
        goto fail;
    /* stamped before the other files are read, after weir.yml, which says
     * where they are: when weir.yml changed in between, the stamp is one
     * no listing gives, so the next look loads again */
    g->stamp = weir_generation_stamp(g->project);
    if (stamp_root(dir) != root)
        g->stamp = 0;
    if ((rc = weir_pipeline_load_all(g->project, &g->pipelines, diags)))
        goto fail;
    rc = weir_pipeline_bind_all(g->project, engine, &g->pipelines, &g->tf, diags, err);
    *out = g;
    return rc;
fail:
    weir_generation_free(g);
    return rc;
}

void weir_generation_free(weir_generation *g)
{
    if (!g)
        return;
    weir_pipeline_list_release(&g->pipelines);
    weir_transform_free(g->tf); /* after the pipelines bound to it */
    weir_project_free(g->project);
    free(g);
}

/* --- what changed ----------------------------------------------------------- */

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    return s ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static uint64_t mix_int(uint64_t h, int64_t v)
{
    return mix(h, &v, sizeof(v));
}

static uint64_t mix_json(uint64_t h, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    h = mix_str(h, s);
    free(s);
    return h;
}

static uint64_t mix_node(uint64_t h, const weir_tnode *n)
{
    h = mix_str(h, n->unique_id);
    h = mix_str(h, n->raw_sql);
    h = mix_str(h, n->relation);
    h = mix_json(h, n->config);
    return mix_json(h, n->test_args);
}

/* A hash of what pl does once loaded and bound: what the file says after
 * defaults, not its bytes (pl->spec_hash), so a comment is no change and a
 * new default in weir.yml or an edited model is. */
static uint64_t digest(const weir_pipeline *pl)
{
    uint64_t h = WEIR_FS_STAMP_INIT;
    h = mix_str(h, pl->owner);
    h = mix_str(h, pl->schedule_expr);
    h = mix_str(h, pl->timezone);
    h = mix_int(h, pl->has_start ? (int64_t)pl->start : INT64_MIN);
    h = mix_int(h, pl->has_end ? (int64_t)pl->end : INT64_MIN);
    h = mix_int(h, pl->catchup);
    h = mix_int(h, pl->max_active_runs);
    h = mix_int(h, pl->concurrency);
    h = mix_str(h, pl->alert_webhook);
    h = mix_int(h, pl->alert_stderr);
    for (size_t i = 0; i < pl->n_tasks; i++) {
        const weir_task_spec *t = &pl->tasks[i];
        h = mix_str(h, t->id);
        h = mix_int(h, t->kind);
        h = mix_str(h, t->text);
        h = mix_str(h, t->partition);
        for (size_t k = 0; k < t->n_up; k++)
            h = mix_str(h, pl->tasks[t->up[k]].id);
        h = mix_int(h, t->retries);
        h = mix_int(h, t->retry_delay_ms);
        h = mix_int(h, t->max_retry_delay_ms);
        h = mix_int(h, t->timeout_ms);
        h = mix_int(h, t->poke_interval_ms);
        h = mix_int(h, t->soft_fail);
        h = mix_int(h, t->depends_on_past);
        h = mix_int(h, t->trigger);
        h = mix_int(h, t->warn_only);
        if (t->kind == WEIR_TASK_MODELS && pl->transform) {
            h = mix_node(h, weir_transform_node(pl->transform, t->node));
            for (size_t k = 0; k < t->n_tests; k++)
                h = mix_node(h, weir_transform_node(pl->transform, t->tests[k]));
        }
    }
    for (size_t i = 0; i < pl->n_outputs; i++) {
        h = mix_str(h, pl->outputs[i].table);
        h = mix_str(h, pl->outputs[i].date_column);
    }
    return h;
}

void weir_generation_diff(const weir_generation *old, const weir_generation *cur, size_t *added,
                          size_t *removed, size_t *changed)
{
    *added = *removed = *changed = 0;
    for (size_t i = 0; i < cur->pipelines.len; i++) {
        const weir_pipeline *now = cur->pipelines.items[i];
        const weir_pipeline *was = weir_pipeline_list_find(&old->pipelines, now->name);
        if (!was)
            (*added)++;
        else if (digest(was) != digest(now))
            (*changed)++;
    }
    for (size_t i = 0; i < old->pipelines.len; i++)
        if (!weir_pipeline_list_find(&cur->pipelines, old->pipelines.items[i]->name))
            (*removed)++;
}

/* --- runs in flight ------------------------------------------------------------ */

typedef struct use_probe {
    const weir_generation *g;
    int used;
} use_probe;

static void probe_use(void *data, const weir_pipeline *pl, const weir_interval *iv, int done)
{
    use_probe *u = data;
    (void)iv;
    (void)done;
    for (size_t i = 0; !u->used && i < u->g->pipelines.len; i++)
        u->used = u->g->pipelines.items[i] == pl;
}

int weir_generation_in_use(const weir_generation *g, const weir_exec *x)
{
    use_probe u = { g, 0 };
    weir_exec_each_run(x, probe_use, &u);
    return u.used;
}

typedef struct flight_probe {
    const char *name;
    weir_ts start;
    const weir_pipeline *found;
} flight_probe;

static void probe_flight(void *data, const weir_pipeline *pl, const weir_interval *iv, int done)
{
    flight_probe *f = data;
    if (!done && !f->found && iv->start == f->start && !strcmp(pl->name, f->name))
        f->found = pl;
}

const weir_pipeline *weir_generation_in_flight(const weir_exec *x, const char *name,
                                               weir_ts start)
{
    flight_probe f = { name, start, NULL };
    weir_exec_each_run(x, probe_flight, &f);
    return f.found;
}
