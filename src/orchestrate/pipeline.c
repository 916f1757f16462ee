/*
 * pipeline.c: loading pipelines/NAME.yml (see pipeline.h): the schema the file
 * is checked against, the checks the schema cannot express (cron and time
 * zone with their column, one kind per input, task names, dependencies,
 * cycles), and the DAG built from the stages.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "core/map.h"
#include "core/str.h"
#include "orchestrate/pipeline.h"

/* --- durations and templates --------------------------------------------- */

int weir_parse_duration_ms(const char *s, int64_t *ms)
{
    double total = 0;
    const char *p = s;
    if (!s || !*s)
        return WEIR_EINVALID;
    {
        long long plain;
        if (weir_str_to_i64(s, &plain) == 0) {
            if (plain < 0)
                return WEIR_EINVALID;
            *ms = (int64_t)plain * 1000;
            return 0;
        }
    }
    while (*p) {
        char *end;
        double v;
        if (!isdigit((unsigned char)*p))
            return WEIR_EINVALID;
        v = strtod(p, &end);
        if (end == p || v < 0)
            return WEIR_EINVALID;
        p = end;
        if (p[0] == 'm' && p[1] == 's') {
            total += v;
            p += 2;
        } else if (*p == 's') {
            total += v * 1e3;
            p++;
        } else if (*p == 'm') {
            total += v * 60e3;
            p++;
        } else if (*p == 'h') {
            total += v * 3600e3;
            p++;
        } else if (*p == 'd') {
            total += v * 86400e3;
            p++;
        } else if (*p == 'w') {
            total += v * 7 * 86400e3;
            p++;
        } else {
            return WEIR_EINVALID;
        }
    }
    if (total > 1e15)
        return WEIR_EINVALID;
    *ms = (int64_t)(total + 0.5);
    return 0;
}

int weir_pipeline_render(const char *text, const weir_interval_vars *v, weir_buf *out,
                         weir_error *err)
{
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close, *a, *b;
        char name[64];
        const char *val;
        if (!open) {
            weir_buf_adds(out, p);
            break;
        }
        weir_buf_add(out, p, (size_t)(open - p));
        close = strstr(open + 2, "}}");
        if (!close)
            return weir_error_set(err, WEIR_EINVALID, "unclosed '{{' in '%s'", text);
        a = open + 2;
        b = close;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if ((size_t)(b - a) >= sizeof(name))
            return weir_error_set(err, WEIR_EINVALID, "unknown variable in '%s'", text);
        memcpy(name, a, (size_t)(b - a));
        name[b - a] = '\0';
        val = weir_interval_var(v, name);
        if (!val)
            return weir_error_set(err, WEIR_EINVALID,
                                  "unknown variable '%s' in '%s' (known: ds, ds_nodash, ts, "
                                  "data_interval_start, data_interval_end; templates are a plain "
                                  "substitution until the template engine is wired in)",
                                  name, text);
        weir_buf_adds(out, val);
        p = close + 2;
    }
    return 0;
}

/* --- schema -------------------------------------------------------------- */

static int check_duration(const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    int64_t ms;
    if (weir_yaml_is_null(n))
        return 0;
    if (n->kind != WEIR_YAML_SCALAR || weir_parse_duration_ms(n->text, &ms)) {
        weir_buf got = WEIR_BUF_INIT;
        weir_yaml_describe(n, &got);
        weir_yaml_error(diags, n,
                        "expected a duration for '%s' (like 30s, 5m, 1h30m, 500ms), got %s", path,
                        got.ptr);
        weir_buf_release(&got);
        return WEIR_EINVALID;
    }
    return 0;
}

static int check_cron(const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    weir_cron c;
    weir_error err = WEIR_ERROR_INIT;
    int rc = 0;
    if (weir_cron_parse(n->text, &c, &err)) {
        unsigned quoted = n->style == WEIR_YAML_SINGLE_QUOTED || n->style == WEIR_YAML_DOUBLE_QUOTED;
        unsigned col = n->col + quoted + (err.col ? err.col - 1 : 0);
        if (diags)
            weir_diags_add(diags, WEIR_DIAG_ERROR, n->file, n->line, col, "invalid '%s': %s", path,
                           err.msg.ptr);
        rc = WEIR_EINVALID;
    }
    weir_error_release(&err);
    return rc;
}

static int check_tz(const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    weir_tz *tz = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int rc = 0;
    if (weir_tz_load(n->text, &tz, &err)) {
        weir_yaml_error(diags, n, "invalid '%s': %s", path, err.msg.ptr);
        rc = WEIR_EINVALID;
    }
    weir_tz_free(tz);
    weir_error_release(&err);
    return rc;
}

static const char *const trigger_rules[] = { "all_success", "all_done", "one_failed", NULL };

#define DURATION(name_) WEIR_FIELD(name_, WEIR_SCHEMA_ANY, .check = check_duration)

static const weir_schema_field input_fields[] = {
    WEIR_FIELD("name", WEIR_SCHEMA_IDENT),
    WEIR_FIELD("table", WEIR_SCHEMA_STRING),
    WEIR_FIELD("partition", WEIR_SCHEMA_STRING),
    WEIR_FIELD("file", WEIR_SCHEMA_STRING),
    WEIR_FIELD("sql", WEIR_SCHEMA_STRING),
    WEIR_FIELD("pipeline", WEIR_SCHEMA_IDENT),
    DURATION("poke_interval"),
    DURATION("timeout"),
    WEIR_FIELD("soft_fail", WEIR_SCHEMA_BOOL),
    WEIR_FIELD("retries", WEIR_SCHEMA_INT, .min = 0, .max = 100),
    WEIR_FIELDS_END
};
static const weir_schema input_schema = { .fields = input_fields };

static const weir_schema_field task_fields[] = {
    WEIR_FIELD("name", WEIR_SCHEMA_IDENT, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("run", WEIR_SCHEMA_STRING),
    WEIR_FIELD("sql", WEIR_SCHEMA_STRING),
    WEIR_FIELD("depends_on", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("retries", WEIR_SCHEMA_INT, .min = 0, .max = 100),
    DURATION("retry_delay"),
    DURATION("max_retry_delay"),
    DURATION("timeout"),
    WEIR_FIELD("trigger_rule", WEIR_SCHEMA_STRING, .choices = trigger_rules),
    WEIR_FIELD("depends_on_past", WEIR_SCHEMA_BOOL),
    WEIR_FIELDS_END
};
static const weir_schema task_schema = { .fields = task_fields };

static const weir_schema_field alert_fields[] = {
    WEIR_FIELD("webhook", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_NULLABLE),
    WEIR_FIELD("stderr", WEIR_SCHEMA_BOOL),
    WEIR_FIELDS_END
};
static const weir_schema alert_schema = { .fields = alert_fields };

static const weir_schema_field monitor_fields[] = {
    WEIR_FIELD("row_count", WEIR_SCHEMA_STRINGS),
    WEIR_FIELDS_END
};
static const weir_schema monitor_schema = { .fields = monitor_fields };

/* expectations: a suite's name, or { suite, severity } */
static const char *const severities[] = { "error", "warn", NULL };
static const weir_schema_field expectation_fields[] = {
    WEIR_FIELD("suite", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("severity", WEIR_SCHEMA_STRING, .choices = severities),
    WEIR_FIELDS_END
};
static const weir_schema expectation_schema = { .fields = expectation_fields };

static int check_expectations(const weir_yaml_node *n, const char *path, weir_diags *diags)
{
    int rc = 0;
    if (weir_yaml_is_null(n) || n->kind == WEIR_YAML_SCALAR)
        return 0;
    if (n->kind != WEIR_YAML_SEQUENCE) {
        weir_yaml_error(diags, n, "expected a suite's name or a list for '%s'", path);
        return WEIR_EINVALID;
    }
    for (size_t i = 0; i < n->n_items; i++) {
        const weir_yaml_node *it = n->items[i];
        if (it->kind == WEIR_YAML_SCALAR && !weir_yaml_is_null(it))
            continue;
        if (it->kind == WEIR_YAML_MAPPING) {
            if (weir_schema_validate(&expectation_schema, it, diags))
                rc = WEIR_EINVALID;
            continue;
        }
        weir_yaml_error(diags, it,
                        "expected a suite's name or { suite: NAME, severity: warn } for '%s[%zu]'",
                        path, i);
        rc = WEIR_EINVALID;
    }
    return rc;
}

static const weir_schema_field output_fields[] = {
    WEIR_FIELD("table", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("date_column", WEIR_SCHEMA_STRING, .flags = WEIR_SCHEMA_NULLABLE),
    WEIR_FIELDS_END
};
static const weir_schema output_schema = { .fields = output_fields };

static const weir_schema_field pipeline_fields[] = {
    WEIR_FIELD("pipeline", WEIR_SCHEMA_IDENT, .flags = WEIR_SCHEMA_REQUIRED),
    WEIR_FIELD("owner", WEIR_SCHEMA_STRING),
    WEIR_FIELD("description", WEIR_SCHEMA_STRING),
    WEIR_FIELD("tags", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("schedule", WEIR_SCHEMA_STRING, .check = check_cron),
    WEIR_FIELD("timezone", WEIR_SCHEMA_STRING, .check = check_tz),
    WEIR_FIELD("start", WEIR_SCHEMA_DATE),
    WEIR_FIELD("end", WEIR_SCHEMA_DATE),
    WEIR_FIELD("catchup", WEIR_SCHEMA_BOOL),
    WEIR_FIELD("max_active_runs", WEIR_SCHEMA_INT, .min = 1, .max = 1000),
    WEIR_FIELD("concurrency", WEIR_SCHEMA_INT, .min = 1, .max = 1000),
    WEIR_FIELD("retries", WEIR_SCHEMA_INT, .min = 0, .max = 100),
    DURATION("retry_delay"),
    DURATION("max_retry_delay"),
    DURATION("timeout"),
    WEIR_FIELD("depends_on_past", WEIR_SCHEMA_BOOL),
    WEIR_FIELD("alert", WEIR_SCHEMA_MAP, .schema = &alert_schema),
    WEIR_FIELD("inputs", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &input_schema),
    WEIR_FIELD("ingest", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("tasks", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &task_schema),
    WEIR_FIELD("models", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("expectations", WEIR_SCHEMA_ANY, .check = check_expectations),
    WEIR_FIELD("monitor", WEIR_SCHEMA_MAP, .schema = &monitor_schema),
    WEIR_FIELD("outputs", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &output_schema),
    WEIR_FIELDS_END
};
static const weir_schema pipeline_schema = { .fields = pipeline_fields };

/* --- building ------------------------------------------------------------ */

typedef WEIR_VEC(weir_task_spec) task_vec;
typedef WEIR_VEC(size_t) idx_vec;

typedef struct loader {
    weir_pipeline *pl;
    weir_diags *diags;
    task_vec tasks;
    WEIR_VEC(const weir_yaml_node *) deps_nodes; /* per task: its depends_on, or NULL */
    int errors;
} loader;

static const char *str_of(const weir_yaml_node *map, const char *key)
{
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    return n && weir_yaml_is_scalar(n) ? n->text : NULL;
}

static int64_t dur_of(const weir_yaml_node *map, const char *key, int64_t dflt)
{
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    int64_t ms;
    if (!n || !weir_yaml_is_scalar(n) || weir_parse_duration_ms(n->text, &ms))
        return dflt;
    return ms;
}

static int64_t int_of(const weir_yaml_node *map, const char *key, int64_t dflt)
{
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    int64_t v;
    if (!n || weir_yaml_is_null(n) || weir_yaml_get_int(n, key, &v, NULL))
        return dflt;
    return v;
}

static int bool_of(const weir_yaml_node *map, const char *key, int dflt)
{
    const weir_yaml_node *n = weir_yaml_map_get(map, key);
    int v;
    if (!n || weir_yaml_is_null(n) || weir_yaml_get_bool(n, key, &v, NULL))
        return dflt;
    return v;
}

/* Names a generated task from text: letters and digits kept, the rest '_'. */
static const char *make_id(weir_pipeline *pl, const char *prefix, const char *text)
{
    weir_buf b = WEIR_BUF_INIT;
    const char *out;
    weir_buf_adds(&b, prefix);
    for (const char *p = text; *p && b.len < 60; p++)
        weir_buf_addch(&b, isalnum((unsigned char)*p) ? *p : '_');
    out = weir_arena_strdup(&pl->arena, b.ptr);
    weir_buf_release(&b);
    return out;
}

static weir_task_spec *add_task(loader *L, const char *id, weir_task_kind kind, const char *text,
                                const weir_yaml_node *at, const weir_task_spec *defaults)
{
    weir_task_spec t = *defaults;
    t.id = id;
    t.kind = kind;
    t.text = text;
    t.partition = NULL;
    t.line = at ? at->line : 0;
    t.col = at ? at->col : 0;
    weir_vec_push(&L->tasks, t);
    weir_vec_push(&L->deps_nodes, NULL);
    return &L->tasks.items[L->tasks.len - 1];
}

static void add_strings(loader *L, const weir_yaml_node *n, const char *prefix,
                        weir_task_kind kind, const weir_task_spec *defaults)
{
    if (!n || weir_yaml_is_null(n))
        return;
    if (n->kind == WEIR_YAML_SCALAR) {
        add_task(L, make_id(L->pl, prefix, n->text), kind, n->text, n, defaults);
        return;
    }
    for (size_t i = 0; i < n->n_items; i++)
        add_task(L, make_id(L->pl, prefix, n->items[i]->text), kind, n->items[i]->text,
                 n->items[i], defaults);
}

/* expectations: names or { suite, severity } (checked by check_expectations) */
static void add_expectations(loader *L, const weir_yaml_node *n, const weir_task_spec *defaults)
{
    if (!n || weir_yaml_is_null(n))
        return;
    if (n->kind == WEIR_YAML_SCALAR) {
        add_strings(L, n, "expect_", WEIR_TASK_EXPECTATION, defaults);
        return;
    }
    for (size_t i = 0; i < n->n_items; i++) {
        const weir_yaml_node *it = n->items[i];
        const char *suite = it->kind == WEIR_YAML_MAPPING ? str_of(it, "suite") : it->text;
        const char *sev = it->kind == WEIR_YAML_MAPPING ? str_of(it, "severity") : NULL;
        weir_task_spec *t;
        if (!suite)
            continue;
        t = add_task(L, make_id(L->pl, "expect_", suite), WEIR_TASK_EXPECTATION, suite, it,
                     defaults);
        t->warn_only = sev && !strcmp(sev, "warn");
    }
}

/* Depth-first search for a cycle; returns 1 and reports it when found. */
static int find_cycle(loader *L, size_t i, unsigned char *mark)
{
    weir_task_spec *t = &L->tasks.items[i];
    if (mark[i] == 2)
        return 0;
    if (mark[i] == 1) {
        if (L->diags)
            weir_diags_add(L->diags, WEIR_DIAG_ERROR, L->pl->file, t->line, t->col,
                           "task '%s' depends on itself through its dependencies (a cycle)",
                           t->id);
        return 1;
    }
    mark[i] = 1;
    for (size_t k = 0; k < t->n_up; k++)
        if (find_cycle(L, t->up[k], mark))
            return 1;
    mark[i] = 2;
    return 0;
}

static void link_tasks(weir_pipeline *pl, loader *L, idx_vec *ups)
{
    size_t n = L->tasks.len;
    size_t *n_down = weir_xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        weir_task_spec *t = &L->tasks.items[i];
        t->n_up = ups[i].len;
        t->up = weir_arena_calloc(&pl->arena, t->n_up ? t->n_up : 1, sizeof(size_t));
        if (t->n_up)
            memcpy(t->up, ups[i].items, t->n_up * sizeof(size_t));
        for (size_t k = 0; k < t->n_up; k++)
            n_down[t->up[k]]++;
    }
    for (size_t i = 0; i < n; i++) {
        weir_task_spec *t = &L->tasks.items[i];
        t->down = weir_arena_calloc(&pl->arena, n_down[i] ? n_down[i] : 1, sizeof(size_t));
        t->n_down = 0;
    }
    for (size_t i = 0; i < n; i++) {
        weir_task_spec *t = &L->tasks.items[i];
        for (size_t k = 0; k < t->n_up; k++) {
            weir_task_spec *u = &L->tasks.items[t->up[k]];
            u->down[u->n_down++] = i;
        }
    }
    free(n_down);
}

static int build(loader *L, const weir_project *p)
{
    weir_pipeline *pl = L->pl;
    const weir_yaml_node *root = pl->doc.root;
    weir_task_spec dflt;
    weir_error err = WEIR_ERROR_INIT;
    const weir_yaml_node *n;
    size_t stage_start[7], n_stages = 0;
    weir_map names = WEIR_MAP_INIT;
    idx_vec *ups = NULL;
    int rc = 0;

    pl->name = str_of(root, "pipeline");
    pl->owner = str_of(root, "owner");
    if (!pl->owner && p)
        pl->owner = p->defaults.owner;
    pl->schedule_expr = str_of(root, "schedule");
    if (!pl->schedule_expr)
        pl->schedule_expr = p && p->defaults.schedule ? p->defaults.schedule : "@daily";
    pl->timezone = str_of(root, "timezone");
    if (!pl->timezone)
        pl->timezone = p && p->defaults.timezone ? p->defaults.timezone : "UTC";
    if (weir_schedule_init(&pl->schedule, pl->schedule_expr, pl->timezone, &err)) {
        /* the schema checks located the problem; a project default can still be wrong */
        if (L->diags && !weir_yaml_map_get(root, "schedule") && !weir_yaml_map_get(root, "timezone"))
            weir_diags_add(L->diags, WEIR_DIAG_ERROR, pl->file, root->line, root->col,
                           "invalid schedule '%s' in '%s': %s", pl->schedule_expr,
                           pl->timezone, err.msg.ptr);
        rc = WEIR_EINVALID;
        goto cleanup;
    }
    if ((n = weir_yaml_map_get(root, "start")) && !weir_yaml_is_null(n))
        pl->has_start = weir_yaml_get_date(n, "start", &pl->start, NULL) == 0;
    if ((n = weir_yaml_map_get(root, "end")) && !weir_yaml_is_null(n))
        pl->has_end = weir_yaml_get_date(n, "end", &pl->end, NULL) == 0;
    if (pl->has_start && pl->has_end && pl->end < pl->start) {
        weir_yaml_error(L->diags, n, "'end' is before 'start'");
        rc = WEIR_EINVALID;
    }
    pl->catchup = bool_of(root, "catchup", 1);
    pl->max_active_runs = (int)int_of(root, "max_active_runs", 16);
    pl->concurrency = (int)int_of(root, "concurrency", 16);
    n = weir_yaml_map_get(root, "alert");
    pl->alert_webhook = n ? str_of(n, "webhook") : NULL;
    pl->alert_stderr = n ? bool_of(n, "stderr", 1) : 1;

    memset(&dflt, 0, sizeof(dflt));
    dflt.retries = (int)int_of(root, "retries", p ? p->defaults.retries : 0);
    dflt.retry_delay_ms = dur_of(root, "retry_delay", p ? p->defaults.retry_delay * 1000 : 300000);
    dflt.max_retry_delay_ms = dur_of(root, "max_retry_delay", 3600 * 1000);
    dflt.timeout_ms = dur_of(root, "timeout", 0);
    dflt.poke_interval_ms = 60 * 1000;
    dflt.depends_on_past = bool_of(root, "depends_on_past", 0);
    dflt.trigger = WEIR_TRIGGER_ALL_SUCCESS;

    /* stage 0: inputs */
    stage_start[n_stages++] = L->tasks.len;
    n = weir_yaml_map_get(root, "inputs");
    for (size_t i = 0; n && i < n->n_items; i++) {
        const weir_yaml_node *in = n->items[i];
        static const char *const kinds[] = { "table", "file", "sql", "pipeline" };
        const char *which = NULL, *text = NULL, *id;
        int count = 0;
        weir_task_spec *t;
        for (size_t k = 0; k < WEIR_ARRAY_SIZE(kinds); k++)
            if (str_of(in, kinds[k])) {
                count++;
                if (!which) {
                    which = kinds[k];
                    text = str_of(in, kinds[k]);
                }
            }
        if (count != 1) {
            weir_yaml_error(L->diags, in,
                            count ? "input %zu has more than one of 'table', 'file', 'sql', "
                                    "'pipeline' (one sensor per item)"
                                  : "input %zu needs one of 'table', 'file', 'sql', 'pipeline'",
                            i + 1);
            rc = WEIR_EINVALID;
            continue;
        }
        id = str_of(in, "name");
        if (!id) {
            if (!strcmp(which, "table") || !strcmp(which, "pipeline"))
                id = make_id(pl, "wait_", text);
            else
                id = weir_arena_printf(&pl->arena, "wait_%s_%zu", which, i + 1);
        }
        t = add_task(L, id,
                     !strcmp(which, "table")  ? WEIR_TASK_SENSOR_TABLE
                     : !strcmp(which, "file") ? WEIR_TASK_SENSOR_FILE
                     : !strcmp(which, "sql")  ? WEIR_TASK_SENSOR_SQL
                                              : WEIR_TASK_SENSOR_PIPELINE,
                     text, in, &dflt);
        t->partition = str_of(in, "partition");
        if (!strcmp(which, "table") && !t->partition) {
            weir_yaml_error(L->diags, in,
                            "input %zu: table sensor on '%s' needs 'partition' (the date column "
                            "whose value is the run's ds)",
                            i + 1, text);
            rc = WEIR_EINVALID;
        }
        t->poke_interval_ms = dur_of(in, "poke_interval", 60 * 1000);
        t->timeout_ms = dur_of(in, "timeout", 24 * 3600 * 1000);
        t->soft_fail = bool_of(in, "soft_fail", 0);
        t->retries = (int)int_of(in, "retries", 0);
    }
    /* stage 1: ingest (placeholders) */
    stage_start[n_stages++] = L->tasks.len;
    add_strings(L, weir_yaml_map_get(root, "ingest"), "ingest_", WEIR_TASK_INGEST, &dflt);
    /* stage 2: tasks */
    stage_start[n_stages++] = L->tasks.len;
    n = weir_yaml_map_get(root, "tasks");
    for (size_t i = 0; n && i < n->n_items; i++) {
        const weir_yaml_node *tn = n->items[i];
        const char *run = str_of(tn, "run"), *sql = str_of(tn, "sql");
        const char *rule;
        weir_task_spec *t;
        if (!!run + !!sql != 1) {
            weir_yaml_error(L->diags, tn, "task '%s' needs exactly one of 'run' (a shell command) "
                                          "or 'sql'",
                            str_of(tn, "name") ? str_of(tn, "name") : "?");
            rc = WEIR_EINVALID;
            continue;
        }
        t = add_task(L, str_of(tn, "name"), run ? WEIR_TASK_RUN : WEIR_TASK_SQL, run ? run : sql,
                     tn, &dflt);
        t->retries = (int)int_of(tn, "retries", dflt.retries);
        t->retry_delay_ms = dur_of(tn, "retry_delay", dflt.retry_delay_ms);
        t->max_retry_delay_ms = dur_of(tn, "max_retry_delay", dflt.max_retry_delay_ms);
        t->timeout_ms = dur_of(tn, "timeout", dflt.timeout_ms);
        t->depends_on_past = bool_of(tn, "depends_on_past", dflt.depends_on_past);
        rule = str_of(tn, "trigger_rule");
        t->trigger = !rule || !strcmp(rule, "all_success") ? WEIR_TRIGGER_ALL_SUCCESS
                     : !strcmp(rule, "all_done")           ? WEIR_TRIGGER_ALL_DONE
                                                           : WEIR_TRIGGER_ONE_FAILED;
        L->deps_nodes.items[L->tasks.len - 1] = weir_yaml_map_get(tn, "depends_on");
    }
    /* stages 3-5: placeholders */
    stage_start[n_stages++] = L->tasks.len;
    if ((n = weir_yaml_map_get(root, "models")) && !weir_yaml_is_null(n)) {
        weir_buf sel = WEIR_BUF_INIT;
        if (n->kind == WEIR_YAML_SCALAR)
            weir_buf_adds(&sel, n->text);
        for (size_t i = 0; n->kind == WEIR_YAML_SEQUENCE && i < n->n_items; i++)
            weir_buf_addf(&sel, "%s%s", i ? " " : "", n->items[i]->text);
        add_task(L, "models", WEIR_TASK_MODELS, weir_arena_strdup(&pl->arena, sel.ptr), n, &dflt);
        weir_buf_release(&sel);
    }
    stage_start[n_stages++] = L->tasks.len;
    add_expectations(L, weir_yaml_map_get(root, "expectations"), &dflt);
    stage_start[n_stages++] = L->tasks.len;
    if ((n = weir_yaml_map_get(root, "monitor")))
        add_strings(L, weir_yaml_map_get(n, "row_count"), "monitor_row_count_", WEIR_TASK_MONITOR,
                    &dflt);
    stage_start[n_stages] = L->tasks.len;

    /* names are unique */
    for (size_t i = 0; i < L->tasks.len; i++) {
        weir_task_spec *t = &L->tasks.items[i];
        void *prev = weir_map_get(&names, t->id);
        if (prev) {
            if (L->diags)
                weir_diags_add(L->diags, WEIR_DIAG_ERROR, pl->file, t->line, t->col,
                               "duplicate task name '%s' (first at line %u)", t->id,
                               L->tasks.items[(uintptr_t)prev - 1].line);
            rc = WEIR_EINVALID;
            continue;
        }
        weir_map_put(&names, t->id, (void *)(uintptr_t)(i + 1));
    }

    /* edges */
    ups = weir_xcalloc(L->tasks.len ? L->tasks.len : 1, sizeof(idx_vec));
    for (size_t s = 0; s < n_stages; s++) {
        size_t prev_start = 0, prev_end = 0;
        for (size_t q = s; q-- > 0;)
            if (stage_start[q + 1] > stage_start[q]) {
                prev_start = stage_start[q];
                prev_end = stage_start[q + 1];
                break;
            }
        for (size_t i = stage_start[s]; i < stage_start[s + 1]; i++) {
            const weir_yaml_node *dn = L->deps_nodes.items[i];
            if (dn) {
                size_t nd = dn->kind == WEIR_YAML_SEQUENCE ? dn->n_items
                            : weir_yaml_is_null(dn)        ? 0
                                                           : 1;
                for (size_t k = 0; k < nd; k++) {
                    const weir_yaml_node *d = dn->kind == WEIR_YAML_SEQUENCE ? dn->items[k] : dn;
                    void *v = weir_map_get(&names, d->text);
                    if (!v) {
                        const char **cands = weir_xcalloc(L->tasks.len + 1, sizeof(char *));
                        const char *sugg;
                        for (size_t c = 0; c < L->tasks.len; c++)
                            cands[c] = L->tasks.items[c].id;
                        sugg = weir_str_suggest(d->text, cands, L->tasks.len);
                        if (sugg)
                            weir_yaml_error(L->diags, d,
                                            "task '%s' depends on unknown task '%s' (did you mean "
                                            "'%s'?)",
                                            L->tasks.items[i].id, d->text, sugg);
                        else
                            weir_yaml_error(L->diags, d, "task '%s' depends on unknown task '%s'",
                                            L->tasks.items[i].id, d->text);
                        free(cands);
                        rc = WEIR_EINVALID;
                        continue;
                    }
                    weir_vec_push(&ups[i], (size_t)(uintptr_t)v - 1);
                }
            } else {
                for (size_t u = prev_start; u < prev_end; u++)
                    weir_vec_push(&ups[i], u);
            }
        }
    }
    /* Stages after `tasks:` wait for every task of it, not only those with
     * default wiring (the loop above already does that by stage). */
    link_tasks(pl, L, ups);
    if (rc == 0) {
        unsigned char *mark = weir_xcalloc(L->tasks.len ? L->tasks.len : 1, 1);
        for (size_t i = 0; i < L->tasks.len; i++)
            if (find_cycle(L, i, mark)) {
                rc = WEIR_EINVALID;
                break;
            }
        free(mark);
    }

    /* outputs */
    n = weir_yaml_map_get(root, "outputs");
    pl->n_outputs = n ? n->n_items : 0;
    pl->outputs = weir_arena_calloc(&pl->arena, pl->n_outputs ? pl->n_outputs : 1,
                                    sizeof(weir_output_spec));
    for (size_t i = 0; i < pl->n_outputs; i++) {
        pl->outputs[i].table = str_of(n->items[i], "table");
        pl->outputs[i].date_column = str_of(n->items[i], "date_column");
        pl->outputs[i].line = n->items[i]->line;
        pl->outputs[i].col = n->items[i]->col;
    }

    pl->n_tasks = L->tasks.len;
    pl->tasks = weir_arena_calloc(&pl->arena, pl->n_tasks ? pl->n_tasks : 1, sizeof(weir_task_spec));
    if (pl->n_tasks)
        memcpy(pl->tasks, L->tasks.items, pl->n_tasks * sizeof(weir_task_spec));
    if (pl->n_tasks == 0 && L->diags)
        weir_diags_add(L->diags, WEIR_DIAG_WARNING, pl->file, root->line, root->col,
                       "pipeline '%s' has no tasks", pl->name);
cleanup:
    if (ups) {
        for (size_t i = 0; i < L->tasks.len; i++)
            weir_vec_release(&ups[i]);
        free(ups);
    }
    weir_map_release(&names);
    weir_error_release(&err);
    return rc;
}

int weir_pipeline_load_buf(const weir_project *p, const char *name, const char *data,
                           size_t len, weir_pipeline **out, weir_diags *diags)
{
    weir_pipeline *pl = weir_xcalloc(1, sizeof(*pl));
    weir_yaml_options yo = { 0 };
    loader L = { pl, diags, WEIR_VEC_INIT, WEIR_VEC_INIT, 0 };
    size_t h;
    int rc;

    *out = NULL;
    weir_arena_init(&pl->arena, 0);
    pl->doc = (weir_yaml_doc)WEIR_YAML_DOC_INIT;
    pl->project_dir = p ? p->dir : ".";
    yo.flags = WEIR_YAML_INTERPOLATE;
    if (p) {
        yo.getenv = p->getenv;
        yo.getenv_data = p->getenv_data;
    }
    rc = weir_yaml_load_buf(&pl->doc, name, data, len, &yo, diags);
    if (rc || !pl->doc.root) {
        rc = WEIR_EINVALID;
        goto cleanup;
    }
    pl->file = pl->doc.file;
    if ((rc = weir_schema_validate(&pipeline_schema, pl->doc.root, diags)) != 0)
        goto cleanup;
    if ((rc = build(&L, p)) != 0)
        goto cleanup;
    h = weir_hash_str(data, len);
    snprintf(pl->spec_hash, sizeof(pl->spec_hash), "%016llx", (unsigned long long)h);
    *out = pl;
    pl = NULL;
cleanup:
    weir_vec_release(&L.tasks);
    weir_vec_release(&L.deps_nodes);
    weir_pipeline_free(pl);
    return rc;
}

int weir_pipeline_load_file(const weir_project *p, const char *path, const char *display_name,
                            weir_pipeline **out, weir_diags *diags)
{
    weir_buf data = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_fs_read_file(path, &data, 0, &err);
    *out = NULL;
    if (rc) {
        weir_error_wrap(&err, "cannot read '%s'", display_name ? display_name : path);
        if (diags)
            weir_diags_add_error(diags, &err);
    } else {
        rc = weir_pipeline_load_buf(p, display_name ? display_name : path, data.ptr, data.len, out,
                                    diags);
    }
    weir_buf_release(&data);
    weir_error_release(&err);
    return rc;
}

void weir_pipeline_free(weir_pipeline *pl)
{
    if (!pl)
        return;
    weir_schedule_release(&pl->schedule);
    weir_yaml_doc_release(&pl->doc);
    weir_arena_release(&pl->arena);
    free(pl);
}

static int by_name(const void *a, const void *b)
{
    const weir_pipeline *x = *(weir_pipeline *const *)a, *y = *(weir_pipeline *const *)b;
    return strcmp(x->name, y->name);
}

int weir_pipeline_load_all(const weir_project *p, weir_pipeline_list *out, weir_diags *diags)
{
    static const char *const exts[] = { ".yml", ".yaml" };
    int rc = 0;
    for (size_t i = 0; i < p->paths.pipelines.len; i++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_fs_list(p->paths.pipelines.items[i], exts, 2, 1, &files, &err)) {
            if (diags)
                weir_diags_add_error(diags, &err);
            rc = WEIR_EINVALID;
        }
        for (size_t j = 0; j < files.len; j++) {
            weir_buf shown = WEIR_BUF_INIT;
            weir_pipeline *pl;
            size_t n = strlen(p->dir);
            if (!strncmp(files.items[j], p->dir, n) && files.items[j][n] == '/')
                weir_path_join(&shown, p->display_dir, files.items[j] + n + 1);
            else
                weir_buf_adds(&shown, files.items[j]);
            if (weir_pipeline_load_file(p, files.items[j], shown.ptr, &pl, diags)) {
                rc = WEIR_EINVALID;
            } else {
                weir_pipeline *prev = weir_pipeline_list_find(out, pl->name);
                if (prev) {
                    if (diags)
                        weir_diags_add(diags, WEIR_DIAG_ERROR, pl->file, pl->doc.root->line,
                                       pl->doc.root->col,
                                       "pipeline '%s' is already defined in '%s'", pl->name,
                                       prev->file);
                    weir_pipeline_free(pl);
                    rc = WEIR_EINVALID;
                } else {
                    weir_vec_push(out, pl);
                }
            }
            weir_buf_release(&shown);
        }
        weir_strvec_release(&files);
        weir_error_release(&err);
    }
    if (out->len > 1)
        qsort(out->items, out->len, sizeof(out->items[0]), by_name);
    return rc;
}

void weir_pipeline_list_release(weir_pipeline_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        weir_pipeline_free(l->items[i]);
    weir_vec_release(l);
}

int weir_pipeline_check_project(const weir_project *p, weir_diags *diags)
{
    weir_pipeline_list l = WEIR_VEC_INIT;
    weir_diags local = WEIR_DIAGS_INIT;
    int rc = weir_pipeline_load_all(p, &l, &local);
    /* weir_project_check already reported syntax errors of these files:
     * keep only what the pipeline checks add (a file that does not parse
     * gives no diagnostics beyond the parser's) */
    for (size_t i = 0; i < local.list.len; i++) {
        weir_diag *d = &local.list.items[i];
        int dup = 0;
        for (size_t k = 0; k < diags->list.len && !dup; k++) {
            weir_diag *e = &diags->list.items[k];
            dup = e->line == d->line && e->col == d->col && !strcmp(e->msg, d->msg) &&
                  (!e->file == !d->file) && (!e->file || !strcmp(e->file, d->file));
        }
        if (!dup)
            weir_diags_add(diags, d->level, d->file, d->line, d->col, "%s", d->msg);
    }
    weir_diags_release(&local);
    weir_pipeline_list_release(&l);
    return rc;
}

weir_pipeline *weir_pipeline_list_find(const weir_pipeline_list *l, const char *name)
{
    for (size_t i = 0; i < l->len; i++)
        if (!strcmp(l->items[i]->name, name))
            return l->items[i];
    return NULL;
}

long weir_pipeline_task_index(const weir_pipeline *pl, const char *id)
{
    for (size_t i = 0; i < pl->n_tasks; i++)
        if (!strcmp(pl->tasks[i].id, id))
            return (long)i;
    return -1;
}

const char *weir_task_kind_name(weir_task_kind k)
{
    switch (k) {
    case WEIR_TASK_SENSOR_TABLE: return "sensor:table";
    case WEIR_TASK_SENSOR_FILE: return "sensor:file";
    case WEIR_TASK_SENSOR_SQL: return "sensor:sql";
    case WEIR_TASK_SENSOR_PIPELINE: return "sensor:pipeline";
    case WEIR_TASK_RUN: return "run";
    case WEIR_TASK_SQL: return "sql";
    case WEIR_TASK_INGEST: return "ingest";
    case WEIR_TASK_MODELS: return "models";
    case WEIR_TASK_EXPECTATION: return "expectation";
    case WEIR_TASK_MONITOR: return "monitor";
    }
    return "?";
}

const char *weir_trigger_rule_name(weir_trigger_rule r)
{
    return r == WEIR_TRIGGER_ALL_DONE ? "all_done"
           : r == WEIR_TRIGGER_ONE_FAILED ? "one_failed" : "all_success";
}
