/*
 * config.c: monitors/ YAML files: the monitored series of a project and the
 * calendars of known events their forecasts take into account.
 *
 * Files are checked with config/schema.h first, so every problem of every
 * file is reported at once with its place; the reading code then walks
 * shapes it can trust, and keeps each valid entry even when another is
 * wrong (so `weir monitor` still works on the rest of the project).
 */
#include "core/compat.h"

#include <math.h>

#include "config/schema.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/str.h"
#include "monitor/monitor.h"

static const char *const kinds[] = { "holiday", "closure", "launch", "other", NULL };
static const char *const on_anomaly[] = { "fail", "warn", NULL };

static const weir_schema_field event_fields[] = {
    WEIR_FIELD("date", WEIR_SCHEMA_DATE),
    WEIR_FIELD("from", WEIR_SCHEMA_DATE),
    WEIR_FIELD("to", WEIR_SCHEMA_DATE),
    WEIR_FIELD("name", WEIR_SCHEMA_STRING),
    WEIR_FIELD("kind", WEIR_SCHEMA_STRING, .choices = kinds),
    WEIR_FIELDS_END
};
static const weir_schema event_schema = { .fields = event_fields };

static const weir_schema_field monitor_fields[] = {
    WEIR_FIELD("name", WEIR_SCHEMA_STRING),
    WEIR_FIELD("description", WEIR_SCHEMA_STRING),
    WEIR_FIELD("table", WEIR_SCHEMA_STRING),
    WEIR_FIELD("date_column", WEIR_SCHEMA_STRING),
    WEIR_FIELD("sql", WEIR_SCHEMA_STRING),
    WEIR_FIELD("calendar", WEIR_SCHEMA_STRINGS),
    WEIR_FIELD("level", WEIR_SCHEMA_NUMBER),
    /* the models need two of each weekday to fit at all (forecast.c) */
    WEIR_FIELD("min_history", WEIR_SCHEMA_INT, .min = 14, .max = 100000),
    WEIR_FIELD("on_anomaly", WEIR_SCHEMA_STRING, .choices = on_anomaly),
    WEIR_FIELDS_END
};
static const weir_schema monitor_schema = { .fields = monitor_fields };

static const weir_schema_field file_fields[] = {
    WEIR_FIELD("calendars", WEIR_SCHEMA_MAP),
    WEIR_FIELD("monitors", WEIR_SCHEMA_LIST, .item = WEIR_SCHEMA_MAP, .schema = &monitor_schema),
    WEIR_FIELDS_END
};
static const weir_schema file_schema = { .fields = file_fields };

/* --- defs and calendars -------------------------------------------------- */

void weir_monitor_def_init_table(weir_monitor_def *def, const char *table,
                                 const char *date_column)
{
    weir_buf name = WEIR_BUF_INIT;
    memset(def, 0, sizeof(*def));
    weir_buf_addf(&name, "row_count:%s", table);
    def->name = weir_buf_detach(&name, NULL);
    def->metric = weir_xstrdup("row_count");
    def->target = weir_xstrdup(table);
    def->date_column = date_column ? weir_xstrdup(date_column) : NULL;
    weir_monitor_options_init(&def->opts);
    def->opts.counts = true; /* row counts */
}

void weir_monitor_def_release(weir_monitor_def *def)
{
    free(def->name);
    free(def->metric);
    free(def->target);
    free(def->date_column);
    free(def->sql);
    free(def->file);
    weir_strvec_release(&def->calendars);
    memset(def, 0, sizeof(*def));
}

void weir_monitor_config_release(weir_monitor_config *cfg)
{
    for (size_t i = 0; i < cfg->monitors.len; i++)
        weir_monitor_def_release(&cfg->monitors.items[i]);
    for (size_t i = 0; i < cfg->calendars.len; i++) {
        free(cfg->calendars.items[i].name);
        weir_calendar_release(&cfg->calendars.items[i].cal);
    }
    weir_vec_release(&cfg->monitors);
    weir_vec_release(&cfg->calendars);
}

static const weir_monitor_calendar *find_calendar(const weir_monitor_config *cfg,
                                                  const char *name)
{
    for (size_t i = 0; i < cfg->calendars.len; i++)
        if (strcmp(cfg->calendars.items[i].name, name) == 0)
            return &cfg->calendars.items[i];
    return NULL;
}

const weir_monitor_def *weir_monitor_config_find(const weir_monitor_config *cfg,
                                                 const char *name)
{
    weir_buf alt = WEIR_BUF_INIT;
    const weir_monitor_def *found = NULL;
    weir_buf_addf(&alt, "row_count:%s", name);
    for (size_t i = 0; i < cfg->monitors.len && !found; i++)
        if (strcmp(cfg->monitors.items[i].name, name) == 0)
            found = &cfg->monitors.items[i];
    for (size_t i = 0; i < cfg->monitors.len && !found; i++)
        if (strcmp(cfg->monitors.items[i].name, alt.ptr) == 0)
            found = &cfg->monitors.items[i];
    weir_buf_release(&alt);
    return found;
}

int weir_monitor_config_calendar(const weir_monitor_config *cfg, const weir_monitor_def *def,
                                 weir_calendar *out, weir_error *err)
{
    weir_calendar_release(out);
    for (size_t i = 0; i < def->calendars.len; i++) {
        const weir_monitor_calendar *mc = cfg ? find_calendar(cfg, def->calendars.items[i]) : NULL;
        if (!mc)
            return weir_error_set(err, WEIR_ENOTFOUND, "no calendar '%s' for monitor '%s'",
                                  def->calendars.items[i], def->name);
        for (size_t k = 0; k < mc->cal.events.len; k++) {
            const weir_calendar_event *e = &mc->cal.events.items[k];
            int rc = weir_calendar_add(out, e->from, e->to, e->kind, e->name, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* One event: a bare date, or a mapping with date or from/to. */
static int parse_event(const weir_yaml_node *n, weir_calendar *cal, weir_diags *diags)
{
    weir_date from = 0, to = 0;
    const char *name = NULL, *kind_s = NULL;
    weir_event_kind kind = WEIR_EVENT_HOLIDAY;
    const weir_yaml_node *v;
    char shown[WEIR_DATE_STRLEN];
    if (n->kind == WEIR_YAML_SCALAR) {
        if (weir_yaml_get_date(n, "a calendar day", &from, diags))
            return WEIR_EINVALID;
        weir_date_format(from, shown);
        return weir_calendar_add(cal, from, from, kind, shown, NULL);
    }
    if (n->kind != WEIR_YAML_MAPPING) {
        weir_yaml_error(diags, n, "expected a date or a mapping with 'date' or 'from' and 'to' "
                                  "for a calendar day");
        return WEIR_EINVALID;
    }
    if (weir_schema_validate(&event_schema, n, diags))
        return WEIR_EINVALID;
    if ((v = weir_yaml_map_get(n, "date"))) {
        if (weir_yaml_map_get(n, "from") || weir_yaml_map_get(n, "to")) {
            weir_yaml_error(diags, v, "a calendar entry takes 'date' or 'from' and 'to', not both");
            return WEIR_EINVALID;
        }
        weir_yaml_get_date(v, "date", &from, NULL);
        to = from;
    } else {
        const weir_yaml_node *f = weir_yaml_map_get(n, "from"), *t = weir_yaml_map_get(n, "to");
        if (!f || !t) {
            weir_yaml_error(diags, n, "a calendar entry needs 'date', or 'from' and 'to'");
            return WEIR_EINVALID;
        }
        weir_yaml_get_date(f, "from", &from, NULL);
        weir_yaml_get_date(t, "to", &to, NULL);
        if (to < from) {
            weir_yaml_error(diags, t, "'to' is before 'from' in a calendar entry");
            return WEIR_EINVALID;
        }
    }
    if ((v = weir_yaml_map_get(n, "name")))
        weir_yaml_get_str(v, "name", &name, NULL);
    if ((v = weir_yaml_map_get(n, "kind"))) {
        weir_yaml_get_str(v, "kind", &kind_s, NULL);
        weir_event_kind_parse(kind_s, &kind);
    }
    if (!name) {
        weir_date_format(from, shown);
        name = shown;
    }
    return weir_calendar_add(cal, from, to, kind, name, NULL);
}

int weir_monitor_calendar_parse(const weir_yaml_node *list, weir_calendar *cal,
                                weir_diags *diags)
{
    int rc = 0;
    if (weir_yaml_is_null(list))
        return 0;
    if (list->kind != WEIR_YAML_SEQUENCE) {
        weir_yaml_error(diags, list, "expected a list of dates and ranges for a calendar");
        return WEIR_EINVALID;
    }
    for (size_t i = 0; i < list->n_items; i++)
        if (parse_event(list->items[i], cal, diags))
            rc = WEIR_EINVALID;
    return rc;
}

/* --- loading ----------------------------------------------------------- */

static char *dup_str(const weir_yaml_node *map, const char *key)
{
    const weir_yaml_node *v = weir_yaml_map_get(map, key);
    const char *s = NULL;
    if (!v || weir_yaml_get_str(v, key, &s, NULL))
        return NULL;
    return weir_xstrdup(s);
}

/* Reads one monitor entry (already schema-checked); 0 and *def set, or WEIR_EINVALID. */
static int read_monitor(weir_yaml_doc *doc, const weir_yaml_node *n, weir_monitor_def *def,
                        weir_diags *diags)
{
    const weir_yaml_node *v;
    char *table = dup_str(n, "table"), *sql = dup_str(n, "sql"), *name = dup_str(n, "name");
    int rc = 0;
    if (!table == !sql) {
        weir_yaml_error(diags, n, table ? "a monitor takes 'table' or 'sql', not both"
                                        : "a monitor needs 'table' (a row count) or 'sql' "
                                          "(a custom metric)");
        rc = WEIR_EINVALID;
        goto cleanup;
    }
    if (sql && !name) {
        weir_yaml_error(diags, n, "a custom metric ('sql') needs a 'name'");
        rc = WEIR_EINVALID;
        goto cleanup;
    }
    if (table) {
        char *dc = dup_str(n, "date_column");
        weir_monitor_def_init_table(def, table, dc);
        free(dc);
        if (name) {
            free(def->name);
            def->name = name;
            name = NULL;
        }
    } else {
        memset(def, 0, sizeof(*def));
        weir_monitor_options_init(&def->opts);
        def->name = name;
        def->metric = weir_xstrdup("custom");
        def->target = weir_xstrdup(name);
        def->sql = sql;
        name = sql = NULL;
    }
    if ((v = weir_yaml_map_get(n, "calendar"))) {
        const char **names = NULL;
        size_t k = 0;
        weir_yaml_get_strlist(doc, v, "calendar", &names, &k, NULL);
        for (size_t i = 0; i < k; i++)
            weir_strvec_push(&def->calendars, names[i]);
    }
    if ((v = weir_yaml_map_get(n, "level"))) {
        double level = 0;
        weir_yaml_get_double(v, "level", &level, NULL);
        if (!(level > 0.5 && level < 1)) {
            weir_yaml_error(diags, v, "expected a level between 0.5 and 1 (e.g. 0.99) for 'level'");
            rc = WEIR_EINVALID;
        } else {
            def->opts.level = level;
        }
    }
    if ((v = weir_yaml_map_get(n, "min_history"))) {
        int64_t m = 0;
        weir_yaml_get_int(v, "min_history", &m, NULL);
        def->opts.min_history = (int)m;
    }
    if ((v = weir_yaml_map_get(n, "on_anomaly"))) {
        const char *s = NULL;
        weir_yaml_get_str(v, "on_anomaly", &s, NULL);
        def->warn_only = s && strcmp(s, "warn") == 0;
    }
    def->file = weir_xstrdup(n->file);
    def->line = n->line;
    def->col = n->col;
    if (rc)
        weir_monitor_def_release(def);
cleanup:
    free(table);
    free(sql);
    free(name);
    return rc;
}

/* Where each kept monitor wrote its calendar (parallel to cfg->monitors). */
typedef WEIR_VEC(const weir_yaml_node *) node_vec;

static void load_doc(weir_yaml_doc *doc, weir_monitor_config *cfg, weir_diags *diags,
                     node_vec *cal_uses)
{
    const weir_yaml_node *root = doc->root, *cals, *mons;
    if (!root || weir_yaml_is_null(root))
        return;
    weir_schema_validate(&file_schema, root, diags);
    if (root->kind != WEIR_YAML_MAPPING)
        return;
    if ((cals = weir_yaml_map_get(root, "calendars")) && cals->kind == WEIR_YAML_MAPPING) {
        for (size_t i = 0; i < cals->n_pairs; i++) {
            const weir_yaml_pair *pr = &cals->pairs[i];
            weir_monitor_calendar mc = { NULL, WEIR_CALENDAR_INIT };
            if (find_calendar(cfg, pr->key->text)) {
                weir_yaml_error(diags, pr->key, "calendar '%s' is defined twice", pr->key->text);
                continue;
            }
            weir_monitor_calendar_parse(pr->value, &mc.cal, diags);
            mc.name = weir_xstrdup(pr->key->text);
            weir_vec_push(&cfg->calendars, mc);
        }
    }
    if ((mons = weir_yaml_map_get(root, "monitors")) && mons->kind == WEIR_YAML_SEQUENCE) {
        for (size_t i = 0; i < mons->n_items; i++) {
            const weir_yaml_node *n = mons->items[i];
            weir_monitor_def def;
            weir_diags mine = WEIR_DIAGS_INIT;
            if (n->kind != WEIR_YAML_MAPPING)
                continue; /* reported by the schema */
            if (weir_schema_validate(&monitor_schema, n, &mine) == 0 &&
                read_monitor(doc, n, &def, diags) == 0) {
                if (weir_monitor_config_find(cfg, def.name)) {
                    weir_yaml_error(diags, n, "series '%s' is monitored twice", def.name);
                    weir_monitor_def_release(&def);
                } else {
                    weir_vec_push(&cfg->monitors, def);
                    weir_vec_push(cal_uses, weir_yaml_map_get(n, "calendar"));
                }
            }
            weir_diags_release(&mine); /* the file's validation reported them */
        }
    }
}

/*
 * Reports and drops the monitors from index first on that name a calendar
 * no file defines (a monitor may name a calendar of another file, so this
 * runs once every file is read). uses[i - first] is where monitor i named
 * its calendars.
 */
static void drop_unknown_calendars(weir_monitor_config *cfg, size_t first, node_vec *uses,
                                   weir_diags *diags)
{
    for (size_t i = first; i < cfg->monitors.len;) {
        weir_monitor_def *def = &cfg->monitors.items[i];
        const weir_yaml_node *use = uses->items[i - first];
        int bad = 0;
        for (size_t k = 0; k < def->calendars.len; k++) {
            const char *name = def->calendars.items[k];
            if (!find_calendar(cfg, name)) {
                const char *names[64];
                size_t m = 0;
                for (size_t j = 0; j < cfg->calendars.len && m < 64; j++)
                    names[m++] = cfg->calendars.items[j].name;
                const char *s = weir_str_suggest(name, names, m);
                weir_diags_add(diags, WEIR_DIAG_ERROR, use->file, use->line, use->col,
                               "no calendar '%s'%s%s%s", name, s ? " (did you mean '" : "",
                               s ? s : "", s ? "'?)" : " in the monitors folder");
                bad = 1;
            }
        }
        if (bad) {
            weir_monitor_def_release(def);
            memmove(def, def + 1, (cfg->monitors.len - i - 1) * sizeof(*def));
            memmove(&uses->items[i - first], &uses->items[i - first + 1],
                    (uses->len - (i - first) - 1) * sizeof(uses->items[0]));
            cfg->monitors.len--;
            uses->len--;
        } else {
            i++;
        }
    }
}

int weir_monitor_config_load_buf(weir_monitor_config *cfg, const char *name, const char *data,
                                 size_t len, weir_diags *diags)
{
    weir_yaml_doc doc = WEIR_YAML_DOC_INIT;
    node_vec uses = WEIR_VEC_INIT;
    size_t errors0 = diags->errors, first = cfg->monitors.len;
    weir_yaml_load_buf(&doc, name, data, len, NULL, diags);
    load_doc(&doc, cfg, diags, &uses);
    drop_unknown_calendars(cfg, first, &uses, diags);
    weir_vec_release(&uses);
    weir_yaml_doc_release(&doc);
    return diags->errors > errors0 ? WEIR_EINVALID : 0;
}

int weir_monitor_config_load(const weir_project *p, weir_monitor_config *cfg,
                             weir_diags *diags)
{
    static const char *const exts[] = { ".yml", ".yaml" };
    size_t errors0 = diags->errors, n = strlen(p->dir), first = cfg->monitors.len;
    weir_yaml_doc *docs = NULL;
    size_t n_docs = 0;
    node_vec cal_uses = WEIR_VEC_INIT;
    weir_yaml_options yo = { 0 };
    yo.flags = WEIR_YAML_INTERPOLATE;
    yo.getenv = p->getenv;
    yo.getenv_data = p->getenv_data;
    for (size_t d = 0; d < p->paths.monitors.len; d++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_fs_list(p->paths.monitors.items[d], exts, 2, 1, &files, &err))
            weir_diags_add_error(diags, &err);
        for (size_t i = 0; i < files.len; i++) {
            const char *path = files.items[i];
            weir_buf shown = WEIR_BUF_INIT;
            if (strncmp(path, p->dir, n) == 0 && path[n] == '/') {
                if (strcmp(p->display_dir, ".") != 0)
                    weir_path_join(&shown, p->display_dir, path + n + 1);
                else
                    weir_buf_adds(&shown, path + n + 1);
            } else {
                weir_buf_adds(&shown, path);
            }
            docs = weir_xrealloc(docs, (n_docs + 1) * sizeof(*docs));
            weir_yaml_doc fresh = WEIR_YAML_DOC_INIT;
            docs[n_docs] = fresh;
            weir_yaml_load_file(&docs[n_docs], path, shown.ptr, &yo, diags);
            n_docs++;
            weir_buf_release(&shown);
        }
        weir_error_release(&err);
        weir_strvec_release(&files);
    }
    /* every file first, so a monitor may name a calendar of another file */
    for (size_t i = 0; i < n_docs; i++)
        load_doc(&docs[i], cfg, diags, &cal_uses);
    drop_unknown_calendars(cfg, first, &cal_uses, diags);
    for (size_t i = 0; i < n_docs; i++)
        weir_yaml_doc_release(&docs[i]);
    free(docs);
    weir_vec_release(&cal_uses);
    return diags->errors > errors0 ? WEIR_EINVALID : 0;
}

int weir_monitor_check_project(const weir_project *p, weir_diags *diags)
{
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    int rc = weir_monitor_config_load(p, &cfg, diags);
    weir_monitor_config_release(&cfg);
    return rc;
}
