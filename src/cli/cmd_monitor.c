/*
 * cmd_monitor.c: `weir monitor SUBCOMMAND`: backfill, check, plot, list,
 * explain. The volume monitor from the command line: build a series'
 * history from the warehouse, judge days against their forecasts, draw a
 * series with its band and anomalies, and say why each model was chosen.
 *
 * Series are named as monitor/monitor.h says ("row_count:raw.events", or a
 * custom metric's name); a bare table name stands for its row count. The
 * settings of a series (calendar, level, min_history, on_anomaly) come from
 * monitors/ when it is declared there, else the defaults apply.
 */
#include "core/compat.h"

#include <jansson.h>
#include <math.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/workspace.h"
#include "core/alloc.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "monitor/monitor.h"

/* --- what every subcommand shares ----------------------------------------- */

typedef struct ctx {
    const char *dir;  /* --project-dir */
    weir_strvec args; /* the positional arguments */
    weir_workspace ws;
    weir_monitor_config cfg;
    weir_error err;   /* what stopped the subcommand (see ctx_failed) */
} ctx;

#define CTX_INIT { .err = WEIR_ERROR_INIT }

static void ctx_release(ctx *c)
{
    weir_strvec_release(&c->args);
    weir_monitor_config_release(&c->cfg);
    weir_workspace_release(&c->ws);
    weir_error_release(&c->err);
}

/* Prints c->err and returns the exit code of a subcommand that failed. */
static int ctx_failed(const ctx *c)
{
    weir_cli_error(&c->err);
    return WEIR_EXIT_FAILED;
}

static int load_monitors(const weir_project *p, void *out, weir_diags *diags)
{
    return weir_monitor_config_load(p, out, diags);
}

/* Loads the project, monitors/ and the store (and the warehouse when asked). */
static int ctx_open(ctx *c, int warehouse)
{
    int rc = weir_workspace_load(&c->ws, c->dir, load_monitors, &c->cfg);
    if (rc == WEIR_CLI_GO)
        rc = weir_workspace_open_store(&c->ws);
    if (rc == WEIR_CLI_GO && warehouse)
        rc = weir_workspace_open_warehouse(&c->ws);
    return rc;
}

static int parse_date(const weir_command *cmd, const char *what, const char *s, weir_date *out)
{
    if (weir_date_parse(s, out))
        return weir_cli_usage_error(cmd, "invalid date '%s' for %s (expected YYYY-MM-DD)", s,
                                    what);
    return 0;
}

/* The settings of series name: its def in monitors/, else the defaults. */
static void def_for(const ctx *c, const char *name, weir_monitor_def *out)
{
    const weir_monitor_def *d = weir_monitor_config_find(&c->cfg, name);
    if (weir_str_starts_with(name, "row_count:"))
        weir_monitor_def_init_table(out, name + 10, d ? d->date_column : NULL);
    else
        weir_monitor_def_init_table(out, name, d ? d->date_column : NULL);
    if (d) {
        free(out->name);
        out->name = weir_xstrdup(d->name);
        out->opts = d->opts;
        out->warn_only = d->warn_only;
        for (size_t i = 0; i < d->calendars.len; i++)
            weir_strvec_push(&out->calendars, d->calendars.items[i]);
    } else if (!weir_str_starts_with(name, "row_count:")) {
        /* a series of the store's not declared in monitors/: keep its name as is */
        weir_strvec names = WEIR_VEC_INIT;
        int known = 0;
        weir_monitor_series_names(c->ws.store, &names, NULL);
        for (size_t i = 0; i < names.len && !known; i++)
            known = strcmp(names.items[i], name) == 0;
        if (known) {
            free(out->name);
            out->name = weir_xstrdup(name);
        }
        weir_strvec_release(&names);
    }
}

/* Says there is no such series, suggesting a near name. */
static void no_series(const ctx *c, const char *name)
{
    weir_strvec names = WEIR_VEC_INIT;
    const char *s;
    weir_monitor_series_names(c->ws.store, &names, NULL);
    /* compare with a table's name too: 'raw.evnts' is near 'row_count:raw.events' */
    for (size_t i = 0, n = names.len; i < n; i++)
        if (weir_str_starts_with(names.items[i], "row_count:"))
            weir_strvec_push(&names, names.items[i] + 10);
    s = weir_str_suggest(name, (const char *const *)names.items, names.len);
    if (s)
        fprintf(stderr, "weir: error: no series '%s' (did you mean '%s'?)\n", name, s);
    else
        fprintf(stderr, "weir: error: no series '%s' in the store (build its history with "
                        "'weir monitor backfill %s --date-column COLUMN')\n", name, name);
    weir_strvec_release(&names);
}

/*
 * Fills def with the settings of series name (see def_for) and s with its
 * points. Returns WEIR_ENOTFOUND after saying that the store has no such
 * series (or, with need_points, none with points), else what
 * weir_monitor_load() returned.
 */
static int load_series(const ctx *c, const char *name, int need_points, weir_monitor_def *def,
                       weir_series *s, weir_error *err)
{
    int r;
    def_for(c, name, def);
    r = weir_monitor_load(c->ws.store, def->name, s, err);
    if (r == WEIR_ENOTFOUND || (need_points && s->len == 0)) {
        no_series(c, name);
        return WEIR_ENOTFOUND;
    }
    return r;
}

/* ctx_open() (no warehouse), then load_series() for the first argument.
 * Returns WEIR_CLI_GO or an exit code (WEIR_EXIT_FAILED for no series). */
static int open_series(ctx *c, int need_points, weir_monitor_def *def, weir_series *s)
{
    int rc = ctx_open(c, 0);
    if (rc != WEIR_CLI_GO)
        return rc;
    if (load_series(c, c->args.items[0], need_points, def, s, &c->err) == WEIR_ENOTFOUND)
        return WEIR_EXIT_FAILED;
    return WEIR_CLI_GO;
}

/* Parses the --format of a grid. Returns 0 or WEIR_EXIT_USAGE. */
static int parse_style(const weir_command *cmd, const char *format, weir_grid_style *style)
{
    if (weir_grid_parse_format(format, style))
        return weir_cli_usage_error(cmd, "unknown format '%s' (expected 'table', 'csv' or 'json')",
                                    format);
    return 0;
}

static void cell_num(weir_grid *g, double v, const char *fmt)
{
    char buf[64];
    if (!isfinite(v)) {
        weir_grid_add_cell(g, NULL);
        return;
    }
    snprintf(buf, sizeof(buf), fmt, v);
    weir_grid_add_cell(g, buf);
}

#define PROJECT_OPT(dir)                                                                      \
    { "project-dir", 'C', WEIR_OPT_STRING, &(dir), "DIR",                                      \
      "the project (default: the current folder)" }
#define GRID_FORMAT_OPT(format)                                                               \
    { "format", 'f', WEIR_OPT_STRING, &(format), "FMT", "'table' (default), 'csv' or 'json'" }

/* --- backfill -------------------------------------------------------------- */

static int backfill_one(const weir_command *cmd, ctx *c, const weir_monitor_def *def,
                        weir_date from, weir_date to)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_series s = WEIR_SERIES_INIT;
    size_t n = 0;
    char a[WEIR_DATE_STRLEN], b[WEIR_DATE_STRLEN];
    int rc = WEIR_EXIT_OK;
    (void)cmd;
    int64_t t0 = weir_monotonic_us();
    if (weir_monitor_backfill(c->ws.conn, c->ws.store, def, from, to, &n, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
    } else if (weir_monitor_load(c->ws.store, def->name, &s, &err) == 0 && s.len) {
        printf("%s: recorded %zu point%s; history %s .. %s (%.0f ms)\n", def->name, n,
               n == 1 ? "" : "s", weir_date_format(s.start, a),
               weir_date_format(weir_series_end(&s), b),
               (double)(weir_monotonic_us() - t0) / 1000.0);
    } else {
        printf("%s: recorded %zu points\n", def->name, n);
    }
    weir_series_release(&s);
    weir_error_release(&err);
    return rc;
}

static int cmd_backfill(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *date_column = NULL, *from_s = NULL, *to_s = NULL;
    const weir_option opts[] = {
        PROJECT_OPT(c.dir),
        { "date-column", 0, WEIR_OPT_STRING, &date_column, "COLUMN",
          "the column giving each row's day (default: the one in monitors/)" },
        { "from", 0, WEIR_OPT_STRING, &from_s, "D1", "first day to record" },
        { "to", 0, WEIR_OPT_STRING, &to_s, "D2", "last day to record" },
    };
    weir_date from = 1, to = 0;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c.args);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (c.args.len > 1) {
        rc = weir_cli_usage_error(cmd, "expected one table or series, got %zu", c.args.len);
        goto cleanup;
    }
    if (!from_s != !to_s) {
        rc = weir_cli_usage_error(cmd, "--from and --to go together");
        goto cleanup;
    }
    if (from_s && ((rc = parse_date(cmd, "--from", from_s, &from)) ||
                   (rc = parse_date(cmd, "--to", to_s, &to))))
        goto cleanup;
    if (from_s && to < from) {
        rc = weir_cli_usage_error(cmd, "--to %s is before --from %s", to_s, from_s);
        goto cleanup;
    }
    if (!c.args.len && date_column) {
        rc = weir_cli_usage_error(cmd, "--date-column needs a TABLE");
        goto cleanup;
    }
    if ((rc = ctx_open(&c, 1)) != WEIR_CLI_GO)
        goto cleanup;
    rc = WEIR_EXIT_OK;
    if (!c.args.len) {
        /* every series declared in monitors/ */
        if (!c.cfg.monitors.len)
            fprintf(stderr, "weir: no monitors declared in monitors/ (name a TABLE to backfill)\n");
        for (size_t i = 0; i < c.cfg.monitors.len; i++)
            if (backfill_one(cmd, &c, &c.cfg.monitors.items[i], from, to))
                rc = WEIR_EXIT_FAILED;
    } else {
        const weir_monitor_def *declared = weir_monitor_config_find(&c.cfg, c.args.items[0]);
        weir_monitor_def def;
        if (declared && !date_column) {
            rc = backfill_one(cmd, &c, declared, from, to);
        } else {
            const char *table = c.args.items[0];
            if (declared && declared->sql) {
                rc = weir_cli_usage_error(cmd, "'%s' is a custom metric: --date-column applies "
                                               "to tables", table);
                goto cleanup;
            }
            if (weir_str_starts_with(table, "row_count:"))
                table += 10;
            weir_monitor_def_init_table(&def, table, date_column);
            if (declared) {
                free(def.name);
                def.name = weir_xstrdup(declared->name);
            }
            rc = backfill_one(cmd, &c, &def, from, to);
            weir_monitor_def_release(&def);
        }
    }
cleanup:
    ctx_release(&c);
    return rc;
}

/* --- check ----------------------------------------------------------------- */

static int cmd_check(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *format = "table", *date_s = NULL, *from_s = NULL, *to_s = NULL;
    const weir_option opts[] = {
        PROJECT_OPT(c.dir),
        { "date", 'd', WEIR_OPT_STRING, &date_s, "D", "the day to judge (default: each series' last)" },
        { "from", 0, WEIR_OPT_STRING, &from_s, "D1", "judge every day from D1 (with --to)" },
        { "to", 0, WEIR_OPT_STRING, &to_s, "D2", "to D2, each against the days before it" },
        GRID_FORMAT_OPT(format),
    };
    weir_strvec names = WEIR_VEC_INIT;
    weir_grid g = WEIR_GRID_INIT;
    weir_grid_style style;
    weir_date date = 0, from = 0, to = -1;
    size_t failed = 0, warned = 0, anomalies = 0;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c.args);
    if (rc != WEIR_CLI_GO || (rc = parse_style(cmd, format, &style)))
        goto cleanup;
    if (date_s && (rc = parse_date(cmd, "--date", date_s, &date)))
        goto cleanup;
    if (!from_s != !to_s) {
        rc = weir_cli_usage_error(cmd, "--from and --to go together");
        goto cleanup;
    }
    if (from_s && date_s) {
        rc = weir_cli_usage_error(cmd, "give --date or --from and --to, not both");
        goto cleanup;
    }
    if (from_s && ((rc = parse_date(cmd, "--from", from_s, &from)) ||
                   (rc = parse_date(cmd, "--to", to_s, &to))))
        goto cleanup;
    if (from_s && (to < from || to - from > 3660)) {
        rc = weir_cli_usage_error(cmd, to < from ? "--to %s is before --from %s"
                                                 : "%s .. %s is more than ten years: judge "
                                                   "less at once",
                                  to_s, from_s);
        goto cleanup;
    }
    if ((rc = ctx_open(&c, 0)) != WEIR_CLI_GO)
        goto cleanup;
    if (c.args.len) {
        for (size_t i = 0; i < c.args.len; i++)
            weir_strvec_push(&names, c.args.items[i]);
    } else {
        weir_error err = WEIR_ERROR_INIT;
        if (weir_monitor_series_names(c.ws.store, &names, &err)) {
            weir_cli_error(&err);
            weir_error_release(&err);
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
        if (!names.len)
            fprintf(stderr, "weir: no series in the store yet (build one with 'weir monitor "
                            "backfill TABLE --date-column COLUMN')\n");
    }
    static const char *const cols[] = { "series", "date", "actual", "expected", "lower",
                                        "upper", "deviation", "score", "verdict", "severity",
                                        "model", "event" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(cols); i++)
        weir_grid_add_column(&g, cols[i],
                             i >= 2 && i <= 7 ? WEIR_COL_NUMBER : WEIR_COL_TEXT);
    rc = WEIR_EXIT_OK;
    for (size_t i = 0; i < names.len; i++) {
        weir_monitor_def def;
        weir_calendar cal = WEIR_CALENDAR_INIT;
        weir_series s = WEIR_SERIES_INIT;
        weir_forecaster f = WEIR_FORECASTER_INIT;
        weir_error err = WEIR_ERROR_INIT;
        weir_check ck;
        char day[WEIR_DATE_STRLEN];
        if (load_series(&c, names.items[i], 0, &def, &s, &err) == WEIR_ENOTFOUND) {
            rc = WEIR_EXIT_FAILED;
        } else if (weir_monitor_config_calendar(&c.cfg, &def, &cal, &err)) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
        } else {
            weir_date d0 = from_s ? from : date ? date : weir_series_end(&s);
            weir_date d1 = from_s ? to : d0;
            for (weir_date d = d0; d <= d1; d++) {
                if (weir_monitor_check_series(c.ws.store, &def, &cal, d, &ck, &f, &err)) {
                    weir_cli_error(&err);
                    rc = WEIR_EXIT_FAILED;
                    break;
                }
                weir_grid_add_cell(&g, def.name);
                weir_grid_add_cell(&g, weir_date_format(ck.date, day));
                cell_num(&g, ck.actual, "%.0f");
                cell_num(&g, ck.expected, "%.1f");
                cell_num(&g, ck.lo, "%.1f");
                cell_num(&g, ck.hi, "%.1f");
                cell_num(&g, ck.deviation, "%.3f");
                cell_num(&g, ck.score, "%.2f");
                weir_grid_add_cell(&g, weir_verdict_name(ck.verdict));
                weir_grid_add_cell(&g, weir_severity_name(ck.severity));
                weir_grid_add_cell(&g, f.priv ? weir_model_spec_name(&f.spec) : NULL);
                weir_grid_add_cell(&g, ck.event);
                weir_grid_end_row(&g);
                if (ck.verdict == WEIR_VERDICT_ANOMALY) {
                    anomalies++;
                    if (def.warn_only)
                        warned++;
                    else
                        failed++;
                }
                if (d < d1) /* the next day's check sees this one's verdict */
                    weir_monitor_load(c.ws.store, def.name, &s, NULL);
            }
        }
        weir_forecaster_release(&f);
        weir_series_release(&s);
        weir_calendar_release(&cal);
        weir_monitor_def_release(&def);
        weir_error_release(&err);
    }
    if (g.nrows || rc == WEIR_EXIT_OK)
        weir_grid_print(&g, style, stdout);
    fflush(stdout); /* the summary goes after the table on a terminal */
    if (anomalies && style == WEIR_GRID_TABLE)
        fprintf(stderr, "%zu anomal%s: %zu failing, %zu warning only\n", anomalies,
                anomalies == 1 ? "y" : "ies", failed, warned);
    if (failed)
        rc = WEIR_EXIT_FAILED;
cleanup:
    weir_grid_release(&g);
    ctx_release(&c);
    weir_strvec_release(&names);
    return rc;
}

/* --- plot ------------------------------------------------------------------ */

static int cmd_plot(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *from_s = NULL, *to_s = NULL, *output = NULL;
    long long horizon = 14;
    const weir_option opts[] = {
        PROJECT_OPT(c.dir),
        { "from", 0, WEIR_OPT_STRING, &from_s, "D1", "first day shown (default: the first)" },
        { "to", 0, WEIR_OPT_STRING, &to_s, "D2", "last day shown (default: the last)" },
        { "output", 'o', WEIR_OPT_STRING, &output, "FILE", "the SVG file to write (required)" },
        { "horizon", 0, WEIR_OPT_INT, &horizon, "DAYS",
          "days of forecast drawn past the last day (default 14, 0 for none)" },
    };
    weir_monitor_def def = { 0 };
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_series s = WEIR_SERIES_INIT;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_check *checks = NULL;
    size_t n_checks = 0;
    weir_buf svg = WEIR_BUF_INIT, sub = WEIR_BUF_INIT;
    weir_plot_options po;
    weir_date from = 0, to = 0;
    int have_fc = 0;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c.args);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (c.args.len != 1) {
        rc = weir_cli_usage_error(cmd, "expected one SERIES, got %zu", c.args.len);
        goto cleanup;
    }
    if (!output) {
        rc = weir_cli_usage_error(cmd, "missing -o FILE (where to write the SVG)");
        goto cleanup;
    }
    if (horizon < 0 || horizon > 366) {
        rc = weir_cli_usage_error(cmd, "--horizon must be between 0 and 366, got %lld", horizon);
        goto cleanup;
    }
    if ((from_s && (rc = parse_date(cmd, "--from", from_s, &from))) ||
        (to_s && (rc = parse_date(cmd, "--to", to_s, &to))))
        goto cleanup;
    if ((rc = open_series(&c, 1, &def, &s)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_monitor_config_calendar(&c.cfg, &def, &cal, &c.err))
        goto failed;
    if (!from_s || from < s.start)
        from = s.start;
    if (!to_s || to > weir_series_end(&s))
        to = weir_series_end(&s);
    if (to < from) {
        rc = weir_cli_usage_error(cmd, "nothing to draw: the series has no days in that range");
        goto cleanup;
    }
    /* each day against the forecast a daily monitor would have made */
    if (weir_monitor_scan(&s, &cal, &def.opts, from, to, &checks, &n_checks, NULL, &c.err))
        goto failed;
    if (horizon > 0 && to == weir_series_end(&s)) {
        int r = weir_forecaster_fit(&f, &s, &cal, NULL, &def.opts, s.len, &c.err);
        if (r == 0) {
            if (weir_forecaster_predict(&f, &s, &cal, s.len, (size_t)horizon, def.opts.level, &fc,
                                        &c.err))
                goto failed;
            have_fc = 1;
            weir_buf_addf(&sub, "model %s, %.0f%% interval", weir_model_spec_name(&f.spec),
                          100 * def.opts.level);
        } else if (r != WEIR_MONITOR_ESHORT) {
            goto failed;
        }
        weir_error_clear(&c.err);
    }
    weir_plot_options_init(&po);
    po.title = def.name;
    po.subtitle = sub.len ? sub.ptr : NULL;
    po.from = from;
    po.to = have_fc ? to + (weir_date)horizon : to;
    if (weir_monitor_plot_svg(&s, &cal, checks, n_checks, have_fc ? &fc : NULL, &po, &svg,
                              &c.err))
        goto failed;
    {
        /* like -o elsewhere: the folder (build/, target/) is made when missing */
        const char *slash = strrchr(output, '/');
        if (slash && slash != output) {
            char *parent = weir_xstrndup(output, (size_t)(slash - output));
            int r = weir_fs_mkdir_p(parent, &c.err);
            free(parent);
            if (r)
                goto failed;
        }
    }
    if (weir_fs_write_atomic(output, svg.ptr, svg.len, &c.err))
        goto failed;
    {
        size_t n_anom = 0;
        for (size_t i = 0; i < n_checks; i++)
            n_anom += checks[i].verdict == WEIR_VERDICT_ANOMALY;
        printf("wrote %s: %s, %zu day%s, %zu anomal%s\n", output, def.name, n_checks,
               n_checks == 1 ? "" : "s", n_anom, n_anom == 1 ? "y" : "ies");
    }
    rc = WEIR_EXIT_OK;
    goto cleanup;
failed:
    rc = ctx_failed(&c);
cleanup:
    free(checks);
    weir_buf_release(&svg);
    weir_buf_release(&sub);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
    weir_calendar_release(&cal);
    weir_monitor_def_release(&def);
    ctx_release(&c);
    return rc;
}

/* --- list ------------------------------------------------------------------ */

static int cmd_list(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *format = "table";
    const weir_option opts[] = {
        PROJECT_OPT(c.dir),
        GRID_FORMAT_OPT(format),
    };
    static const char sql[] =
        "SELECT s.name, count(p.ds), min(p.ds), max(p.ds),"
        " (SELECT value FROM metric_points x WHERE x.series_id = s.id ORDER BY ds DESC LIMIT 1),"
        " m.model,"
        " (SELECT ds FROM monitor_checks k WHERE k.series_id = s.id ORDER BY ds DESC LIMIT 1),"
        " (SELECT verdict FROM monitor_checks k WHERE k.series_id = s.id ORDER BY ds DESC LIMIT 1),"
        " (SELECT count(*) FROM anomalies a WHERE a.series_id = s.id)"
        " FROM metric_series s LEFT JOIN metric_points p ON p.series_id = s.id"
        " LEFT JOIN monitor_models m ON m.series_id = s.id GROUP BY s.id ORDER BY s.name";
    static const char *const cols[] = { "series", "points", "first", "last", "last_value",
                                        "model", "last_check", "verdict", "anomalies" };
    weir_grid g = WEIR_GRID_INIT;
    weir_grid_style style;
    weir_store_stmt *st = NULL;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c.args);
    if (rc != WEIR_CLI_GO || (rc = parse_style(cmd, format, &style)))
        goto cleanup;
    if (c.args.len) {
        rc = weir_cli_usage_error(cmd, "unexpected argument '%s'", c.args.items[0]);
        goto cleanup;
    }
    if ((rc = ctx_open(&c, 0)) != WEIR_CLI_GO)
        goto cleanup;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(cols); i++)
        weir_grid_add_column(&g, cols[i], i == 1 || i == 4 || i == 8 ? WEIR_COL_NUMBER
                                                                     : WEIR_COL_TEXT);
    if ((rc = weir_store_prepare(c.ws.store, sql, &st, &c.err)))
        goto failed;
    while ((rc = weir_store_step(st, &c.err)) == 1) {
        for (int k = 0; k < (int)WEIR_ARRAY_SIZE(cols); k++) {
            const char *t = weir_store_col_text(st, k);
            if (k == 7 && t && strcmp(t, "insufficient_history") == 0)
                t = "insufficient history";
            if (k == 4 && t)
                cell_num(&g, weir_store_col_double(st, k), "%.0f");
            else
                weir_grid_add_cell(&g, t);
        }
        weir_grid_end_row(&g);
    }
    if (rc < 0)
        goto failed;
    /* declared in monitors/ but with no history yet */
    for (size_t i = 0; i < c.cfg.monitors.len; i++) {
        weir_series s = WEIR_SERIES_INIT;
        if (weir_monitor_load(c.ws.store, c.cfg.monitors.items[i].name, &s, NULL) == WEIR_ENOTFOUND) {
            weir_grid_add_cell(&g, c.cfg.monitors.items[i].name);
            weir_grid_add_cell(&g, "0");
            for (int k = 2; k < (int)WEIR_ARRAY_SIZE(cols); k++)
                weir_grid_add_cell(&g, k == 8 ? "0" : NULL);
            weir_grid_end_row(&g);
        }
        weir_series_release(&s);
    }
    weir_grid_print(&g, style, stdout);
    rc = WEIR_EXIT_OK;
    goto cleanup;
failed:
    rc = ctx_failed(&c);
cleanup:
    weir_store_stmt_free(st);
    weir_grid_release(&g);
    ctx_release(&c);
    return rc;
}

/* --- explain --------------------------------------------------------------- */

static int cmd_explain(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *format = "text";
    const weir_option opts[] = {
        PROJECT_OPT(c.dir),
        { "format", 'f', WEIR_OPT_STRING, &format, "FMT", "'text' (default) or 'json'" },
    };
    weir_monitor_def def = { 0 };
    weir_store_stmt *st = NULL;
    weir_series s = WEIR_SERIES_INIT;
    weir_out_format out;
    json_t *scores = NULL;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c.args);
    if (rc != WEIR_CLI_GO || (rc = weir_cli_parse_out_format(cmd, format, &out)))
        goto cleanup;
    if (c.args.len != 1) {
        rc = weir_cli_usage_error(cmd, "expected one SERIES, got %zu", c.args.len);
        goto cleanup;
    }
    if ((rc = open_series(&c, 0, &def, &s)) != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_store_prepare(c.ws.store,
                                 "SELECT m.model, m.fitted_through, m.sigma, m.scores, m.fitted_at "
                                 "FROM monitor_models m JOIN metric_series s ON s.id = "
                                 "m.series_id WHERE s.name = ?1", &st, &c.err)))
        goto failed;
    weir_store_bind_text(st, 1, def.name, NULL);
    if ((rc = weir_store_step(st, &c.err)) < 0)
        goto failed;
    if (rc == 0) {
        fprintf(stderr, "weir: error: no model chosen for '%s' yet (run 'weir monitor check "
                        "%s' first)\n", def.name, c.args.items[0]);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    const char *text = weir_store_col_text(st, 3);
    if (weir_json_parse(text, strlen(text), "monitor_models.scores", &scores, &c.err))
        goto failed;
    if (out == WEIR_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O}", "series", def.name, "model",
                              weir_store_col_text(st, 0), "fitted_through",
                              weir_store_col_text(st, 1), "fitted_at", weir_store_col_text(st, 4),
                              "scores", scores);
        json_object_set_new(o, "sigma", weir_store_col_is_null(st, 2)
                                            ? json_null()
                                            : json_real(weir_store_col_double(st, 2)));
        weir_cli_print_json(o);
    } else {
        size_t i;
        json_t *sc;
        printf("%s: model %s, chosen by backtest on the history through %s (at %s)\n",
               def.name, weir_store_col_text(st, 0), weir_store_col_text(st, 1),
               weir_store_col_text(st, 4));
        /* the window actually scored: shorter than configured on a short history */
        json_int_t days = json_integer_value(json_object_get(json_array_get(scores, 0),
                                                             "backtest_days"));
        printf("rolling-origin backtest over the last %lld days, %d days ahead; the lowest MASE "
               "wins (sMAPE breaks ties)\n\n",
               (long long)(days > 0 ? days : def.opts.backtest_days), def.opts.horizon);
        printf("  %-16s %8s %8s %10s %6s\n", "model", "sMAPE%", "MASE", "coverage95", "n");
        json_array_foreach(scores, i, sc) {
            json_t *sm = json_object_get(sc, "smape"), *ma = json_object_get(sc, "mase"),
                   *cv = json_object_get(sc, "coverage");
            char a[32] = "-", b[32] = "-", cc[32] = "-";
            if (json_is_number(sm))
                snprintf(a, sizeof(a), "%.2f", json_number_value(sm));
            if (json_is_number(ma))
                snprintf(b, sizeof(b), "%.3f", json_number_value(ma));
            if (json_is_number(cv))
                snprintf(cc, sizeof(cc), "%.0f%%", 100 * json_number_value(cv));
            printf("%c %-16s %8s %8s %10s %6lld\n",
                   json_is_true(json_object_get(sc, "chosen")) ? '*' : ' ',
                   json_string_value(json_object_get(sc, "model")), a, b, cc,
                   (long long)json_integer_value(json_object_get(sc, "n")));
        }
        printf("\nsMAPE: symmetric mean absolute percentage error; MASE: mean absolute error "
               "over the\nin-sample error of last week's same weekday (lower is better for "
               "both); coverage95:\nthe share of held-out days inside their 95%% interval "
               "(near 95%% is honest).\nDays of calendar events whose effect is not known "
               "yet are not scored; the baseline,\nsnaive, gives way only to a lower MASE.\n");
    }
    rc = WEIR_EXIT_OK;
    goto cleanup;
failed:
    rc = ctx_failed(&c);
cleanup:
    json_decref(scores);
    weir_store_stmt_free(st);
    weir_series_release(&s);
    weir_monitor_def_release(&def);
    ctx_release(&c);
    return rc;
}

/* --- the command ------------------------------------------------------------ */

static const weir_command subs[] = {
    { "monitor backfill", "build series' histories from the warehouse",
      "weir monitor backfill [TABLE|SERIES] [--date-column COLUMN] [--from D1 --to D2] "
      "[--project-dir DIR]",
      "Counts a table's rows per day of COLUMN in one GROUP BY query (or runs a\n"
      "custom metric's SQL) and records each day's value in the store, replacing\n"
      "values recorded before. Days without rows between the first and the last\n"
      "count 0. Without TABLE, backfills every series declared in monitors/.\n",
      cmd_backfill },
    { "monitor check", "judge days against their forecasts",
      "weir monitor check [SERIES...] [--date D | --from D1 --to D2] [--format table|csv|json] "
      "[--project-dir DIR]",
      "For each series (default: every series in the store), forecasts day D\n"
      "(default: the series' last day; with --from and --to, every day of the\n"
      "range in order) from the days before it, with the model that did best\n"
      "in a backtest on the series' own history, and prints the\n"
      "expected value, the interval at the series' level (default 99%), the\n"
      "actual value and the verdict: ok, anomaly (with severity), insufficient\n"
      "history (fewer usable days before D than the series' min_history, 21 by\n"
      "default; calendar events and past anomalies do not count), or missing.\n"
      "Intervals on short histories are wider: never under about +-5% at 99%\n"
      "with three weeks of history, +-3.3% with ten. The verdict, model and\n"
      "anomaly are recorded; anomalous days are left out of later fits. Exits 1\n"
      "when a series with on_anomaly: fail (the default) has an anomaly.\n",
      cmd_check },
    { "monitor plot", "draw a series, its forecast band and anomalies as SVG",
      "weir monitor plot SERIES -o FILE.svg [--from D1] [--to D2] [--horizon DAYS] "
      "[--project-dir DIR]",
      "Judges every day shown as a daily monitor would have (each against the\n"
      "forecast from the days before it), and draws the history, the expected\n"
      "line and interval band, anomalies in red, calendar events shaded, and\n"
      "the forecast of the next days.\n",
      cmd_plot },
    { "monitor list", "list series: last value, model, last verdict",
      "weir monitor list [--format table|csv|json] [--project-dir DIR]", NULL, cmd_list },
    { "monitor explain", "say why a series' model was chosen",
      "weir monitor explain SERIES [--format text|json] [--project-dir DIR]",
      "Prints the backtest scores (sMAPE, MASE, interval coverage) of every\n"
      "candidate model at the series' last check, the chosen one marked '*'.\n",
      cmd_explain },
};

static int run(const weir_command *cmd, int argc, char **argv)
{
    (void)cmd;
    return weir_cli_dispatch("monitor", subs, WEIR_ARRAY_SIZE(subs), argc, argv);
}

const weir_command weir_cmd_monitor = {
    "monitor",
    "watch row counts and metrics: backfill, check, plot, list, explain",
    "weir monitor SUBCOMMAND [ARGS]",
    NULL,
    run,
};
