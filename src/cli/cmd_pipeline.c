/*
 * cmd_pipeline.c: `weir pipeline SUBCOMMAND`: list, run, backfill, runs,
 * logs, clear, requests (and requests cancel), pause, unpause, rollback,
 * restore, purge, trash.
 *
 * Commands that execute or delete (run, backfill, rollback, restore, purge)
 * take the project's warehouse lock (orchestrate/lock.h) and recover the
 * instances a dead process left running before they start; the others only
 * read or write the store, so they work while `weir serve` runs. While it
 * runs, run, backfill and clear hand their work to it (orchestrate/handoff.h)
 * and follow it to the end.
 */
#include "core/compat.h"

#include <jansson.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/workspace.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "orchestrate/executor.h"
#include "orchestrate/handoff.h"
#include "orchestrate/lock.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/rollback.h"
#include "orchestrate/state.h"
#include "transform/transform.h"

/* --- what every subcommand shares ----------------------------------------- */

typedef struct ctx {
    const char *dir;    /* --project-dir */
    const char *format; /* --format, parsed into out */
    weir_out_format out;
    weir_strvec args;   /* the positional arguments */
    weir_workspace ws;
    weir_pipeline_list pipelines;
    weir_transform *tf; /* the project's models, when a pipeline has model tasks */
    long server_pid;    /* MAY_HAND_OVER: the `weir serve` holding the warehouse */
} ctx;

/* What a subcommand starts with: its options point into it. */
#define CTX_INIT { .format = "text" }

static void ctx_release(ctx *c)
{
    weir_strvec_release(&c->args);
    weir_transform_free(c->tf);
    weir_pipeline_list_release(&c->pipelines);
    weir_workspace_release(&c->ws);
    weir_warehouse_unlock();
}

static int load_pipelines(const weir_project *p, void *out, weir_diags *diags)
{
    return weir_pipeline_load_all(p, out, diags);
}

enum { NEED_WAREHOUSE = 1, NEED_LOCK = 2, NEED_RECOVER = 4, MAY_HAND_OVER = 8 };

/* Loads the project, its pipelines and store (and the warehouse, locked,
 * when asked). With MAY_HAND_OVER, when `weir serve` holds the warehouse,
 * only the store is opened and c->server_pid names the server. Returns
 * WEIR_CLI_GO or an exit code. */
static int ctx_open(ctx *c, unsigned need, const char *what)
{
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_workspace_load(&c->ws, c->dir, load_pipelines, &c->pipelines);
    if (rc != WEIR_CLI_GO)
        return rc;
    if (need & NEED_LOCK) {
        if (weir_warehouse_lock(c->ws.project->dir, what, &err)) {
            if ((need & MAY_HAND_OVER) && weir_handoff_server(c->ws.project->dir, &c->server_pid)) {
                weir_error_release(&err);
                return weir_workspace_open_store(&c->ws);
            }
            weir_cli_error(&err);
            weir_error_release(&err);
            return WEIR_EXIT_FAILED;
        }
    }
    if ((rc = weir_workspace_open_store(&c->ws)) != WEIR_CLI_GO)
        return rc;
    if (need & NEED_RECOVER) {
        size_t n = 0;
        if (weir_state_recover(c->ws.store, 60000, &n, &err)) {
            weir_cli_error(&err);
            weir_error_release(&err);
            return WEIR_EXIT_FAILED;
        }
        if (n)
            fprintf(stderr, "weir: recovered %zu task instance%s left running by a process that "
                            "is gone; they will be retried\n",
                    n, n == 1 ? "" : "s");
    }
    if (need & NEED_WAREHOUSE)
        return weir_workspace_open_warehouse(&c->ws);
    return WEIR_CLI_GO;
}

/*
 * Loads the project's models (once for the process) and turns pl's
 * `models:` task into one task per model; first is the first run's
 * interval (its vars give var('ds') a value while compiling), or NULL.
 * Returns WEIR_CLI_GO or an exit code.
 */
static int bind_models(ctx *c, weir_pipeline *pl, const weir_interval *first)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vars v;
    int rc = WEIR_CLI_GO;
    if (!weir_pipeline_has_models(pl))
        return WEIR_CLI_GO;
    if (first)
        weir_schedule_vars(&pl->schedule, first, &v);
    if (!c->tf && weir_pipeline_load_models(c->ws.project, c->ws.engine, first ? &v : NULL, &c->tf,
                                            &diags, &err)) {
        weir_diags_sort(&diags);
        weir_diags_print(&diags, stderr);
        weir_error_wrap(&err, "pipeline '%s'", pl->name);
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    weir_diags_print(&diags, stderr);
    if (weir_pipeline_bind_models(pl, c->tf, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_USAGE;
    }
cleanup:
    weir_diags_release(&diags);
    weir_error_release(&err);
    return rc;
}

static weir_pipeline *find(ctx *c, const char *name)
{
    weir_pipeline *pl = weir_pipeline_list_find(&c->pipelines, name);
    if (!pl) {
        const char *names[256];
        size_t n = 0;
        const char *s;
        for (size_t i = 0; i < c->pipelines.len && n < 256; i++)
            names[n++] = c->pipelines.items[i]->name;
        s = weir_str_suggest(name, names, n);
        if (s)
            fprintf(stderr, "weir: error: no pipeline '%s' (did you mean '%s'?)\n", name, s);
        else
            fprintf(stderr, "weir: error: no pipeline '%s' in %s\n", name,
                    c->ws.project->paths.pipelines.len ? c->ws.project->paths.pipelines.items[0]
                                                    : "the project");
    }
    return pl;
}

/* ctx_open(), then the pipeline named by the first argument in *pl.
 * Returns WEIR_CLI_GO or an exit code (WEIR_EXIT_USAGE when there is no
 * such pipeline). */
static int open_pipeline(ctx *c, unsigned need, const char *what, weir_pipeline **pl)
{
    int rc = ctx_open(c, need, what);
    if (rc != WEIR_CLI_GO)
        return rc;
    if (!(*pl = find(c, c->args.items[0])))
        return WEIR_EXIT_USAGE;
    return WEIR_CLI_GO;
}

/* What parse_args() says when a subcommand that works on one pipeline
 * gets no name, or more. */
static const char ONE_PIPELINE[] = "expected one pipeline name";

/*
 * Parses a subcommand's arguments into c (opts start with COMMON_OPTS(c))
 * and its --format; with one_arg, checks that there is one positional
 * argument, else says one_arg. Returns WEIR_CLI_GO or the exit code (0
 * after --help).
 */
static int parse_args(const weir_command *cmd, const weir_option *opts, size_t n_opts, int argc,
                      char **argv, ctx *c, const char *one_arg)
{
    int rc = weir_cli_parse(cmd, opts, n_opts, argc, argv, &c->args);
    if (rc != WEIR_CLI_GO)
        return rc;
    if ((rc = weir_cli_parse_out_format(cmd, c->format, &c->out)))
        return rc;
    if (one_arg && c->args.len != 1)
        return weir_cli_usage_error(cmd, "%s", one_arg);
    return WEIR_CLI_GO;
}

static int parse_date(const weir_command *cmd, const char *what, const char *s, weir_date *out)
{
    if (!s)
        return weir_cli_usage_error(cmd, "missing %s DATE", what);
    if (weir_date_parse(s, out))
        return weir_cli_usage_error(cmd, "invalid date '%s' for %s (expected YYYY-MM-DD)", s,
                                    what);
    return 0;
}

/* Adds the grid's columns from the SQL's aliases, written AS "name": text,
 * or a number when the name ends with '#' (which is dropped). */
static void grid_columns(const char *sql, weir_grid *g)
{
    const char *p = sql;
    while ((p = strstr(p, " AS \""))) {
        const char *q = strchr(p + 5, '"');
        size_t len = (size_t)(q - p - 5);
        char name[64];
        int number = len && p[5 + len - 1] == '#';
        snprintf(name, sizeof(name), "%.*s", (int)(len - (size_t)number), p + 5);
        weir_grid_add_column(g, name, number ? WEIR_COL_NUMBER : WEIR_COL_TEXT);
        p = q;
    }
}

/* Runs a store query (params bound as text) and fills a grid with its rows. */
static int store_grid(weir_store *s, const char *sql, const char *const *params, size_t n_params,
                      weir_grid *g, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, sql, &st, err);
    size_t ncols;
    if (rc)
        return rc;
    grid_columns(sql, g);
    ncols = g->names.len;
    for (size_t i = 0; i < n_params; i++)
        weir_store_bind_text(st, (int)i + 1, params[i], NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        for (size_t k = 0; k < ncols; k++)
            weir_grid_add_cell(g, weir_store_col_text(st, (int)k));
        weir_grid_end_row(g);
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

static void print_grid(const weir_grid *g, weir_out_format f)
{
    weir_grid_print(g, f == WEIR_OUT_JSON ? WEIR_GRID_JSON : WEIR_GRID_TABLE, stdout);
}

#define COMMON_OPTS(c)                                                                        \
    { "project-dir", 'C', WEIR_OPT_STRING, &(c).dir, "DIR",                                    \
      "the project (default: the current folder)" },                                          \
    {                                                                                          \
        "format", 0, WEIR_OPT_STRING, &(c).format, "FMT", "'text' (default) or 'json'"         \
    }

/* --- list ------------------------------------------------------------------ */

static int cmd_list(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const weir_option opts[] = { COMMON_OPTS(c) };
    weir_grid g = WEIR_GRID_INIT;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, NULL);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = ctx_open(&c, 0, NULL)) != WEIR_CLI_GO)
        goto cleanup;
    weir_grid_add_column(&g, "pipeline", WEIR_COL_TEXT);
    weir_grid_add_column(&g, "schedule", WEIR_COL_TEXT);
    weir_grid_add_column(&g, "timezone", WEIR_COL_TEXT);
    weir_grid_add_column(&g, "tasks", WEIR_COL_NUMBER);
    weir_grid_add_column(&g, "paused", WEIR_COL_BOOL);
    weir_grid_add_column(&g, "last_ds", WEIR_COL_TEXT);
    weir_grid_add_column(&g, "last_state", WEIR_COL_TEXT);
    weir_grid_add_column(&g, "file", WEIR_COL_TEXT);
    for (size_t i = 0; i < c.pipelines.len; i++) {
        weir_pipeline *pl = c.pipelines.items[i];
        weir_store_stmt *st = NULL;
        char n[32];
        int paused = 0;
        char last_ds[16] = "", last_state[16] = "";
        if (weir_store_prepare(c.ws.store,
                               "SELECT p.paused, r.ds, r.state FROM pipelines p LEFT JOIN runs r ON "
                               "r.pipeline_id = p.id WHERE p.name = ?1 ORDER BY r.ds DESC LIMIT 1",
                               &st, NULL) == 0) {
            weir_store_bind_text(st, 1, pl->name, NULL);
            if (weir_store_step(st, NULL) == 1) {
                paused = (int)weir_store_col_int(st, 0);
                if (weir_store_col_text(st, 1)) {
                    snprintf(last_ds, sizeof(last_ds), "%s", weir_store_col_text(st, 1));
                    snprintf(last_state, sizeof(last_state), "%s", weir_store_col_text(st, 2));
                }
            }
            weir_store_stmt_free(st);
        }
        weir_grid_add_cell(&g, pl->name);
        weir_grid_add_cell(&g, pl->schedule_expr);
        weir_grid_add_cell(&g, pl->timezone);
        snprintf(n, sizeof(n), "%zu", pl->n_tasks);
        weir_grid_add_cell(&g, n);
        weir_grid_add_cell(&g, paused ? "true" : "false");
        weir_grid_add_cell(&g, *last_ds ? last_ds : NULL);
        weir_grid_add_cell(&g, *last_state ? last_state : NULL);
        weir_grid_add_cell(&g, pl->file);
        weir_grid_end_row(&g);
    }
    print_grid(&g, c.out);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_grid_release(&g);
    ctx_release(&c);
    return rc;
}

/* --- run and backfill -------------------------------------------------------- */

typedef struct progress {
    int tty, json;
    size_t total, done, failed, running, skipped;
    int64_t t0;
    json_t *events;
} progress;

static void fmt_dur(int64_t us, char *out, size_t n)
{
    int64_t s = us / 1000000;
    if (s >= 3600)
        snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, n, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void draw(progress *p)
{
    char el[32], eta[32] = "--:--";
    int64_t elapsed = weir_monotonic_us() - p->t0;
    size_t remaining = p->total - p->done - p->skipped;
    if (!p->tty)
        return;
    fmt_dur(elapsed, el, sizeof(el));
    if (p->done > 0)
        fmt_dur(elapsed / (int64_t)p->done * (int64_t)(remaining), eta, sizeof(eta));
    fprintf(stderr, "\r\033[K%zu done, %zu running, %zu failed, %zu remaining | %s elapsed, ETA %s",
            p->done - p->failed, p->running, p->failed, remaining - p->running, el, eta);
    fflush(stderr);
}

static void on_event(void *data, const weir_exec_event *ev)
{
    progress *p = data;
    char d[32];
    if (p->tty)
        fputs("\r\033[K", stderr);
    switch (ev->kind) {
    case WEIR_EXEC_RUN_STARTED:
        p->running++;
        break;
    case WEIR_EXEC_RUN_DONE:
        p->running--;
        p->done++;
        if (!strcmp(ev->state, "failed"))
            p->failed++;
        fmt_dur(ev->duration_us, d, sizeof(d));
        if (!p->tty && !p->json)
            printf("%s %s: %s (%.2fs)\n", ev->pipeline, ev->ds, ev->state, ev->duration_us / 1e6);
        if (!p->tty && !p->json)
            fflush(stdout);
        break;
    case WEIR_EXEC_TASK_DONE:
        if (ev->error && (!strcmp(ev->state, "failed") || !strcmp(ev->state, "up_for_retry")))
            fprintf(stderr, "%s %s: task '%s' %s: %s\n", ev->pipeline, ev->ds, ev->task,
                    ev->state, ev->error);
        else if (weir_log_enabled(WEIR_LOG_INFO))
            fprintf(stderr, "%s %s: task '%s' %s\n", ev->pipeline, ev->ds, ev->task, ev->state);
        break;
    }
    draw(p);
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig)
{
    stop_signal = sig;
}

static int workers_for(const weir_project *p, long long asked, int parallel)
{
    if (asked > 0)
        return (int)asked;
    if (p->warehouse.threads > 0)
        return p->warehouse.threads;
    return WEIR_MAX(4, parallel);
}

/* Runs x to the end; an interrupt stops it cleanly. Returns the exit code. */
static int drive(weir_exec *x, progress *pr)
{
    weir_error err = WEIR_ERROR_INIT;
    struct sigaction sa, old_int, old_term;
    int rc;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    while ((rc = weir_exec_step(x, 200, &err)) == 1) {
        if (stop_signal)
            break;
        draw(pr);
    }
    if (pr->tty)
        fputs("\r\033[K", stderr);
    if (rc == 1) {
        fprintf(stderr, "weir: stopping: running tasks are interrupted and will be retried by the "
                        "next run\n");
        rc = weir_exec_stop(x, &err);
        if (rc == 0)
            rc = WEIR_EXIT_FAILED;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc < 0) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
    }
    weir_error_release(&err);
    return rc;
}

static json_t *run_report(weir_store *s, int64_t run_id)
{
    weir_store_stmt *st = NULL;
    json_t *tasks = json_array(), *o;
    if (weir_store_prepare(s,
                           "SELECT task_id, state, try_number, error FROM task_instances WHERE "
                           "run_id = ?1 ORDER BY id",
                           &st, NULL) == 0) {
        weir_store_bind_int(st, 1, run_id, NULL);
        while (weir_store_step(st, NULL) == 1) {
            o = json_pack("{s:s, s:s, s:I}", "task", weir_store_col_text(st, 0), "state",
                          weir_store_col_text(st, 1), "attempts",
                          (json_int_t)weir_store_col_int(st, 2));
            json_object_set_new(o, "error",
                                weir_store_col_text(st, 3) ? json_string(weir_store_col_text(st, 3))
                                                           : json_null());
            json_array_append_new(tasks, o);
        }
        weir_store_stmt_free(st);
    }
    return tasks;
}

/* --- handing work to a running `weir serve` ------------------------------------ */

typedef struct handover {
    progress pr;
    weir_out_format out;
    weir_request *req;
    const char *from_s, *to_s; /* as the user wrote them */
} handover;

static void on_taken(void *data, const weir_request *r)
{
    handover *h = data;
    if (h->pr.tty)
        fputs("\r\033[K", stderr);
    if (!strcmp(r->state, "failed") || !strcmp(r->state, "cancelled"))
        return; /* said at the end */
    if (h->out != WEIR_OUT_JSON) {
        fprintf(stderr, "the server (pid %lld) took request %lld\n", (long long)r->server_pid,
                (long long)r->id);
        if (r->message)
            fprintf(stderr, "weir: note: %s\n", r->message);
        if (!strcmp(r->kind, "backfill"))
            fprintf(stderr, "backfill of '%s' from %s to %s: %lld interval%s to run, %lld already "
                            "successful%s\n",
                    r->pipeline, h->from_s, h->to_s, (long long)r->runs, r->runs == 1 ? "" : "s",
                    (long long)r->skipped,
                    r->skipped && !r->rerun ? " (skipped; --rerun runs them again)" : "");
        else if (!strcmp(r->kind, "clear"))
            printf("cleared %lld task instance%s of '%s' on %s; the server runs them\n",
                   (long long)r->cleared, r->cleared == 1 ? "" : "s", r->pipeline, r->date_from);
        fflush(stdout);
    }
    h->pr.total = (size_t)r->runs;
    h->pr.skipped = 0;
    draw(&h->pr);
}

static void on_cancelling(void *data, const weir_request *r)
{
    handover *h = data;
    if (h->pr.tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "weir: request %lld is being cancelled (by %s): its runs not started yet are "
                    "dropped, those started finish\n",
            (long long)r->id, r->cancelled_by ? r->cancelled_by : "someone");
    draw(&h->pr);
}

static void on_new_server(void *data, long old_pid, long new_pid)
{
    (void)data;
    fprintf(stderr, "weir: the server (pid %ld) stopped; 'weir serve' (pid %ld) carries on\n",
            old_pid, new_pid);
}

/* What a hand-over with --no-wait prints: the request's id. */
static void print_queued(const weir_request *r, weir_out_format out)
{
    if (out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:I, s:I, s:s}", "request", (json_int_t)r->id,
                                      "server_pid", (json_int_t)r->server_pid, "state",
                                      "pending"));
    else
        printf("request %lld queued for 'weir serve' (pid %lld); 'weir pipeline requests' shows "
               "how it goes\n",
               (long long)r->id, (long long)r->server_pid);
}

/*
 * Records req for the server c->server_pid and, unless no_wait, follows it
 * to the end, reporting its runs as a local run would. Fills *final (the
 * request's last row) and returns WEIR_CLI_GO; with no_wait it prints the
 * request's id and returns WEIR_EXIT_OK; otherwise it prints why it cannot
 * and returns an exit code.
 */
static int hand_over(ctx *c, weir_request *req, int no_wait, weir_out_format out, int tty,
                     const char *from_s, const char *to_s, weir_request *final)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_handoff_follow_opts fo = { 0 };
    handover h = { 0 };
    struct sigaction sa, old_int, old_term;
    char who[256];
    int rc;

    weir_handoff_requester(who, sizeof(who));
    req->requested_by = who;
    {
        weir_pipeline *pl = weir_pipeline_list_find(&c->pipelines, req->pipeline);
        if (pl)
            snprintf(req->spec_hash, sizeof(req->spec_hash), "%s", pl->spec_hash);
    }
    rc = weir_store_request_add(c->ws.store, req, &err);
    req->requested_by = NULL;
    if (rc) {
        weir_cli_error(&err);
        weir_error_release(&err);
        return WEIR_EXIT_FAILED;
    }
    if (out != WEIR_OUT_JSON || !no_wait)
        fprintf(stderr, "weir: 'weir serve' (pid %ld) holds the warehouse: handed over to it as "
                        "request %lld\n",
                c->server_pid, (long long)req->id);
    if (no_wait) {
        memset(final, 0, sizeof(*final));
        final->id = req->id;
        final->server_pid = c->server_pid;
        snprintf(final->state, sizeof(final->state), "pending");
        print_queued(final, out);
        return WEIR_EXIT_OK;
    }
    h.pr.tty = tty;
    h.pr.json = out == WEIR_OUT_JSON;
    h.pr.t0 = weir_monotonic_us();
    h.out = out;
    h.req = req;
    h.from_s = from_s;
    h.to_s = to_s;
    fo.project_dir = c->ws.project->dir;
    fo.server_pid = c->server_pid;
    fo.on_event = on_event;
    fo.event_data = &h; /* progress is its first member */
    fo.on_taken = on_taken;
    fo.on_new_server = on_new_server;
    fo.on_cancelling = on_cancelling;
    fo.stop = &stop_signal;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = weir_handoff_follow(c->ws.store, req->id, &fo, final, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (h.pr.tty)
        fputs("\r\033[K", stderr);
    if (rc) {
        weir_cli_error(&err);
        weir_error_release(&err);
        return WEIR_EXIT_FAILED;
    }
    if (!strcmp(final->state, "failed")) {
        fprintf(stderr, "weir: error: the server (pid %lld) could not do request %lld: %s\n",
                (long long)final->server_pid, (long long)final->id,
                final->message ? final->message : "no reason given");
        weir_request_release(final);
        return WEIR_EXIT_FAILED;
    }
    if (!strcmp(final->state, "cancelled")) {
        fprintf(stderr, "weir: error: request %lld was %s\n", (long long)final->id,
                final->message ? final->message : "cancelled");
        weir_request_release(final);
        return WEIR_EXIT_FAILED;
    }
    return WEIR_CLI_GO;
}

/* Options that only a local run uses, named when the server runs the work. */
static void note_ignored(const char *what)
{
    fprintf(stderr, "weir: note: %s does not apply: the server runs the work with its own "
                    "workers and the pipeline's max_active_runs\n",
            what);
}

static int cmd_run(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *date = NULL;
    long long workers = 0;
    int no_wait = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "date", 'd', WEIR_OPT_STRING, &date, "DATE", "the logical date (ds) of the run" },
        { "workers", 'j', WEIR_OPT_INT, &workers, "N", "worker threads (default: warehouse threads or 4)" },
        { "no-wait", 0, WEIR_OPT_FLAG, &no_wait, NULL,
          "when the server runs it, return at once with the request's id" },
    };
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = NULL;
    weir_exec_options eo = { 0 };
    progress pr = { 0 };
    weir_interval iv;
    weir_pipeline *pl;
    weir_date d;
    int64_t run_id = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_date(cmd, "--date", date, &d)))
        goto cleanup;
    if ((rc = open_pipeline(&c, NEED_WAREHOUSE | NEED_LOCK | NEED_RECOVER | MAY_HAND_OVER,
                            "weir pipeline run", &pl)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_schedule_interval_on(&pl->schedule, d, &iv)) {
        fprintf(stderr, "weir: error: pipeline '%s' has no run on %s (schedule '%s')\n", pl->name,
                date, pl->schedule_expr);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (c.server_pid) {
        weir_request req = { 0 }, fin = { 0 };
        weir_id_vec ids = WEIR_VEC_INIT;
        snprintf(req.kind, sizeof(req.kind), "run");
        req.pipeline = (char *)pl->name; /* borrowed: req is never released */
        weir_date_format(d, req.date_from);
        weir_date_format(d, req.date_to);
        if (workers)
            note_ignored("--workers");
        if ((rc = hand_over(&c, &req, no_wait, c.out, 0, date, date, &fin)) != WEIR_CLI_GO)
            goto cleanup;
        rc = fin.failed || !fin.succeeded ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        if (c.out == WEIR_OUT_JSON) {
            json_t *o;
            weir_handoff_run_ids(c.ws.store, fin.id, &ids, NULL);
            o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "pipeline", pl->name, "ds", date,
                          "state", rc ? "failed" : "success", "tasks",
                          ids.len ? run_report(c.ws.store, ids.items[0]) : json_array(), "request",
                          (json_int_t)fin.id, "server_pid", (json_int_t)fin.server_pid);
            weir_cli_print_json(o);
        }
        weir_vec_release(&ids);
        weir_request_release(&fin);
        goto cleanup;
    }
    if (no_wait)
        fprintf(stderr, "weir: note: no 'weir serve' holds the warehouse: running here "
                        "(--no-wait applies when the server runs it)\n");
    if ((rc = bind_models(&c, pl, &iv)) != WEIR_CLI_GO)
        goto cleanup;
    pr.tty = 0;
    pr.json = c.out == WEIR_OUT_JSON;
    pr.t0 = weir_monotonic_us();
    pr.total = 1;
    eo.workers = workers_for(c.ws.project, workers, 1);
    eo.on_event = on_event;
    eo.event_data = &pr;
    if (weir_exec_new(c.ws.project, c.ws.store, c.ws.engine, &eo, &x, &err))
        goto fail;
    rc = weir_exec_add_run(x, pl, &iv, "manual", 0, &run_id, &err);
    if (rc == WEIR_EEXISTS) /* an explicit run of a successful date runs it again */
        rc = weir_exec_add_run(x, pl, &iv, "manual", WEIR_EXEC_RERUN, &run_id, &err);
    if (rc)
        goto fail;
    rc = drive(x, &pr);
    if (rc == 0) {
        weir_exec_stats stats;
        weir_exec_get_stats(x, &stats);
        rc = stats.runs_failed ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        if (c.out == WEIR_OUT_JSON)
            weir_cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "pipeline", pl->name, "ds", date,
                                          "state", stats.runs_failed ? "failed" : "success",
                                          "tasks", run_report(c.ws.store, run_id)));
    }
    goto cleanup;
fail:
    weir_cli_error(&err);
    rc = WEIR_EXIT_FAILED;
cleanup:
    weir_exec_free(x);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int cmd_backfill(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *from_s = NULL, *to_s = NULL;
    long long parallel = 0, workers = 0;
    int rerun = 0, no_wait = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "from", 0, WEIR_OPT_STRING, &from_s, "DATE", "first logical date" },
        { "to", 0, WEIR_OPT_STRING, &to_s, "DATE", "last logical date (inclusive)" },
        { "parallel", 'p', WEIR_OPT_INT, &parallel, "N", "runs at once (default: max_active_runs)" },
        { "workers", 'j', WEIR_OPT_INT, &workers, "N", "worker threads" },
        { "rerun", 0, WEIR_OPT_FLAG, &rerun, NULL, "run intervals that already succeeded again" },
        { "no-wait", 0, WEIR_OPT_FLAG, &no_wait, NULL,
          "when the server runs it, return at once with the request's id" },
    };
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = NULL;
    weir_exec_options eo = { 0 };
    weir_interval_vec ivs = WEIR_VEC_INIT;
    progress pr = { 0 };
    weir_pipeline *pl;
    weir_date from, to;
    size_t skipped = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_date(cmd, "--from", from_s, &from)) || (rc = parse_date(cmd, "--to", to_s, &to)))
        goto cleanup;
    if (parallel < 0 || parallel > 1000) {
        rc = weir_cli_usage_error(cmd, "--parallel must be between 1 and 1000");
        goto cleanup;
    }
    if ((rc = open_pipeline(&c, NEED_WAREHOUSE | NEED_LOCK | NEED_RECOVER | MAY_HAND_OVER,
                            "weir pipeline backfill", &pl)) != WEIR_CLI_GO)
        goto cleanup;
    if (c.server_pid) {
        weir_request req = { 0 }, fin = { 0 };
        char el[32];
        int64_t t0 = weir_monotonic_us();
        snprintf(req.kind, sizeof(req.kind), "backfill");
        req.pipeline = (char *)pl->name; /* borrowed: req is never released */
        weir_date_format(from, req.date_from);
        weir_date_format(to, req.date_to);
        req.rerun = rerun;
        if (parallel)
            note_ignored("--parallel");
        if (workers)
            note_ignored("--workers");
        if ((rc = hand_over(&c, &req, no_wait, c.out, isatty(2) && c.out != WEIR_OUT_JSON, from_s,
                            to_s, &fin)) != WEIR_CLI_GO)
            goto cleanup;
        rc = fin.failed ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        fmt_dur(weir_monotonic_us() - t0, el, sizeof(el));
        if (c.out == WEIR_OUT_JSON)
            weir_cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "pipeline",
                                          pl->name, "from", from_s, "to", to_s, "runs",
                                          (json_int_t)(fin.succeeded + fin.failed), "failed",
                                          (json_int_t)fin.failed, "skipped",
                                          (json_int_t)fin.skipped, "request", (json_int_t)fin.id,
                                          "server_pid", (json_int_t)fin.server_pid));
        else
            fprintf(stderr, "backfill of '%s': %lld run%s, %lld succeeded, %lld failed, %lld "
                            "skipped in %s (by the server, request %lld)\n",
                    pl->name, (long long)(fin.succeeded + fin.failed),
                    fin.succeeded + fin.failed == 1 ? "" : "s", (long long)fin.succeeded,
                    (long long)fin.failed, (long long)fin.skipped, el, (long long)fin.id);
        weir_request_release(&fin);
        goto cleanup;
    }
    if (no_wait)
        fprintf(stderr, "weir: note: no 'weir serve' holds the warehouse: running here "
                        "(--no-wait applies when the server runs it)\n");
    if (parallel)
        pl->max_active_runs = (int)parallel;
    if (weir_schedule_intervals_between(&pl->schedule, from, to, 0, &ivs, &err))
        goto fail;
    if ((rc = bind_models(&c, pl, ivs.len ? &ivs.items[0] : NULL)) != WEIR_CLI_GO)
        goto cleanup;
    pr.tty = isatty(2) && c.out != WEIR_OUT_JSON;
    pr.json = c.out == WEIR_OUT_JSON;
    pr.t0 = weir_monotonic_us();
    eo.workers = workers_for(c.ws.project, workers, pl->max_active_runs);
    eo.on_event = on_event;
    eo.event_data = &pr;
    if (weir_exec_new(c.ws.project, c.ws.store, c.ws.engine, &eo, &x, &err))
        goto fail;
    for (size_t i = 0; i < ivs.len; i++) {
        rc = weir_exec_add_run(x, pl, &ivs.items[i], "backfill", rerun ? WEIR_EXEC_RERUN : 0, NULL,
                               &err);
        if (rc == WEIR_EEXISTS) {
            skipped++;
            continue;
        }
        if (rc)
            goto fail;
        pr.total++;
    }
    if (!pr.json)
        fprintf(stderr, "backfill of '%s' from %s to %s: %zu interval%s to run, %zu already "
                        "successful%s\n",
                pl->name, from_s, to_s, pr.total, pr.total == 1 ? "" : "s", skipped,
                skipped && !rerun ? " (skipped; --rerun runs them again)" : "");
    rc = drive(x, &pr);
    if (rc == 0) {
        weir_exec_stats stats;
        char el[32];
        weir_exec_get_stats(x, &stats);
        fmt_dur(weir_monotonic_us() - pr.t0, el, sizeof(el));
        rc = stats.runs_failed ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        if (pr.json)
            weir_cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "pipeline",
                                          pl->name, "from", from_s, "to", to_s, "runs",
                                          (json_int_t)stats.runs_done, "failed",
                                          (json_int_t)stats.runs_failed, "skipped",
                                          (json_int_t)skipped, "tasks",
                                          (json_int_t)stats.tasks_done));
        else
            fprintf(stderr, "backfill of '%s': %zu run%s, %zu succeeded, %zu failed, %zu skipped "
                            "in %s\n",
                    pl->name, stats.runs_done, stats.runs_done == 1 ? "" : "s",
                    stats.runs_done - stats.runs_failed, stats.runs_failed, skipped, el);
    }
    goto cleanup;
fail:
    weir_cli_error(&err);
    rc = WEIR_EXIT_FAILED;
cleanup:
    weir_exec_free(x);
    weir_vec_release(&ivs);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

/* --- runs, tasks, requests, trash: a store query shown as a grid ----------- */

typedef enum {
    ARGS_NONE,     /* refuses positional arguments */
    ARGS_PIPELINE  /* one pipeline NAME, bound as ?1 */
} listing_args;

typedef struct listing {
    listing_args args;
    const char *limit_help; /* takes --limit N (newest N, default 50), bound next */
    const char *date_help;  /* takes --date DATE (NULL when not given), bound next */
    const char *sql;        /* its columns named as grid_columns() says */
} listing;

static const listing runs_listing = {
    ARGS_PIPELINE, "newest N runs (default 50)", NULL,
    "SELECT * FROM (SELECT r.ds AS \"ds\", r.state AS \"state\", r.kind AS "
    "\"kind\", r.started_at AS \"started_at\", r.ended_at AS \"ended_at\", "
    "(SELECT count(*) FROM task_instances t WHERE t.run_id = r.id AND t.state "
    "= 'success') AS \"succeeded#\", (SELECT count(*) FROM task_instances t "
    "WHERE t.run_id = r.id AND t.state IN ('failed', 'upstream_failed')) AS "
    "\"failed#\", (SELECT count(*) FROM task_instances t WHERE t.run_id = r.id) "
    "AS \"tasks#\" FROM runs r JOIN pipelines p ON p.id = r.pipeline_id WHERE "
    "p.name = ?1 ORDER BY r.ds DESC LIMIT CAST(?2 AS INTEGER)) ORDER BY 1",
};

static const listing tasks_listing = {
    ARGS_PIPELINE, NULL, "only the run of this logical date",
    "SELECT r.ds AS \"ds\", t.task_id AS \"task\", t.state AS \"state\", "
    "t.try_number AS \"attempts#\", t.started_at AS \"started_at\", t.ended_at "
    "AS \"ended_at\", t.error AS \"error\" FROM task_instances t JOIN runs r ON "
    "r.id = t.run_id JOIN pipelines p ON p.id = r.pipeline_id WHERE p.name = ?1 "
    "AND (?2 IS NULL OR r.ds = ?2) ORDER BY r.ds, t.id",
};

static const listing requests_listing = {
    ARGS_NONE, "newest N requests (default 50)", NULL,
    "SELECT * FROM (SELECT id AS \"request#\", kind AS \"kind\", pipeline AS "
    "\"pipeline\", date_from AS \"from\", date_to AS \"to\", state AS "
    "\"state\", runs AS \"runs#\", succeeded AS \"succeeded#\", failed AS "
    "\"failed#\", skipped AS \"skipped#\", server_pid AS \"server_pid#\", "
    "requested_by AS \"requested_by\", requested_at AS \"requested_at\", "
    "message AS \"message\" FROM requests ORDER BY id DESC LIMIT CAST(?1 AS "
    "INTEGER)) ORDER BY 1",
};

static const listing trash_listing = {
    ARGS_NONE, NULL, NULL,
    "SELECT id AS \"action#\", pipeline AS \"pipeline\", date_from AS \"from\", "
    "date_to AS \"to\", state AS \"state\", rows AS \"rows#\", actor AS \"actor\", "
    "created_at AS \"at\" FROM trash_actions ORDER BY id",
};

/* Runs the listing l as the subcommand cmd. */
static int show_listing(const weir_command *cmd, int argc, char **argv, const listing *l)
{
    ctx c = CTX_INIT;
    const char *date = NULL;
    long long limit = 50;
    weir_option opts[4] = { COMMON_OPTS(c) };
    size_t n_opts = 2, n_params = 0;
    const char *params[2];
    weir_error err = WEIR_ERROR_INIT;
    weir_grid g = WEIR_GRID_INIT;
    char lim[32];
    weir_pipeline *pl;
    weir_date d;
    int rc;
    if (l->limit_help)
        opts[n_opts++] = (weir_option){ "limit", 'n', WEIR_OPT_INT, &limit, "N", l->limit_help };
    if (l->date_help)
        opts[n_opts++] = (weir_option){ "date", 'd', WEIR_OPT_STRING, &date, "DATE", l->date_help };
    rc = parse_args(cmd, opts, n_opts, argc, argv, &c,
                    l->args == ARGS_PIPELINE ? ONE_PIPELINE : NULL);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (l->args == ARGS_NONE && c.args.len) {
        rc = weir_cli_usage_error(cmd, "unexpected argument '%s'", c.args.items[0]);
        goto cleanup;
    }
    if (date && (rc = parse_date(cmd, "--date", date, &d)))
        goto cleanup;
    rc = l->args == ARGS_PIPELINE ? open_pipeline(&c, 0, NULL, &pl)
                                  : ctx_open(&c, 0, NULL);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (l->args == ARGS_PIPELINE)
        params[n_params++] = c.args.items[0];
    if (l->limit_help) {
        snprintf(lim, sizeof(lim), "%lld", limit > 0 ? limit : 50);
        params[n_params++] = lim;
    }
    if (l->date_help)
        params[n_params++] = date;
    if (store_grid(c.ws.store, l->sql, params, n_params, &g, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    print_grid(&g, c.out);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_grid_release(&g);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int cmd_runs(const weir_command *cmd, int argc, char **argv)
{
    return show_listing(cmd, argc, argv, &runs_listing);
}

static int cmd_tasks(const weir_command *cmd, int argc, char **argv)
{
    return show_listing(cmd, argc, argv, &tasks_listing);
}

/* `pipeline requests cancel ID`: only the store; the server does the rest. */
static int cmd_request_cancel(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const weir_option opts[] = { COMMON_OPTS(c) };
    weir_error err = WEIR_ERROR_INIT;
    weir_request r = { 0 };
    char who[256];
    long long id = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c,
                        "expected one request id (see 'weir pipeline requests')");
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (weir_str_to_i64(c.args.items[0], &id) || id <= 0) {
        rc = weir_cli_usage_error(cmd, "invalid request id '%s'", c.args.items[0]);
        goto cleanup;
    }
    if ((rc = ctx_open(&c, 0, NULL)) != WEIR_CLI_GO)
        goto cleanup;
    weir_handoff_requester(who, sizeof(who));
    if (weir_store_request_cancel(c.ws.store, id, who, &r, &err)) {
        if (err.code == WEIR_ENOTFOUND)
            weir_error_wrap(&err, "cannot cancel (see 'weir pipeline requests')");
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:I, s:s, s:b}", "request", (json_int_t)r.id, "state",
                                      r.state, "cancel_requested", 1));
    else if (!strcmp(r.state, "cancelled"))
        printf("request %lld cancelled: no server had taken it, nothing of it runs\n",
               (long long)r.id);
    else
        printf("request %lld: cancel requested; the server (pid %lld) drops its runs not started "
               "yet and lets those started finish ('weir pipeline requests' shows when it is "
               "cancelled)\n",
               (long long)r.id, (long long)r.server_pid);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_request_release(&r);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static const weir_command request_subs[] = {
    { "pipeline requests cancel", "cancel a request handed to the server",
      "weir pipeline requests cancel ID [--project-dir DIR] [--format text|json]",
      "Cancels request ID ('weir pipeline requests' lists them). A pending\n"
      "request (no server took it yet) is cancelled at once and never runs.\n"
      "A running one is marked for its server, which on its next tick drops\n"
      "the request's runs that have not started (recorded cancelled; a later\n"
      "backfill runs them) and lets the started ones finish, then marks the\n"
      "request cancelled, saying how many runs were dropped and how many\n"
      "finished. The command that handed the request over exits 1 then. A\n"
      "request already done, failed or cancelled cannot be cancelled (exit 1).\n"
      "Works whether or not 'weir serve' runs; the audit log records it.\n",
      cmd_request_cancel },
};

static int cmd_requests(const weir_command *cmd, int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "cancel"))
        return weir_cli_dispatch("pipeline requests", request_subs, WEIR_ARRAY_SIZE(request_subs),
                                 argc, argv);
    return show_listing(cmd, argc, argv, &requests_listing);
}

static int cmd_trash(const weir_command *cmd, int argc, char **argv)
{
    return show_listing(cmd, argc, argv, &trash_listing);
}

/* --- logs --------------------------------------------------------------- */

static int cmd_logs(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *date = NULL, *task = NULL;
    long long attempt = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "date", 'd', WEIR_OPT_STRING, &date, "DATE", "the run's logical date" },
        { "task", 't', WEIR_OPT_STRING, &task, "TASK", "only this task" },
        { "attempt", 'a', WEIR_OPT_INT, &attempt, "K", "only attempt K" },
    };
    weir_error err = WEIR_ERROR_INIT;
    weir_store_stmt *st = NULL;
    json_t *arr = NULL;
    weir_pipeline *pl;
    weir_date d;
    size_t shown = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_date(cmd, "--date", date, &d)))
        goto cleanup;
    if ((rc = open_pipeline(&c, 0, NULL, &pl)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_store_prepare(c.ws.store,
                           "SELECT t.task_id, a.try_number, a.state, a.started_at, a.ended_at, "
                           "a.log_path, a.error FROM task_attempts a JOIN task_instances t ON t.id "
                           "= a.task_instance_id JOIN runs r ON r.id = t.run_id JOIN pipelines p ON "
                           "p.id = r.pipeline_id WHERE p.name = ?1 AND r.ds = ?2 AND (?3 IS NULL "
                           "OR t.task_id = ?3) AND (?4 = 0 OR a.try_number = ?4) ORDER BY "
                           "a.started_at, t.id, a.try_number",
                           &st, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    weir_store_bind_text(st, 1, c.args.items[0], NULL);
    weir_store_bind_text(st, 2, date, NULL);
    weir_store_bind_text(st, 3, task, NULL);
    weir_store_bind_int(st, 4, attempt, NULL);
    arr = json_array();
    while (weir_store_step(st, NULL) == 1) {
        weir_buf text = WEIR_BUF_INIT;
        const char *path = weir_store_col_text(st, 5);
        weir_error ferr = WEIR_ERROR_INIT;
        if (path && weir_fs_read_file(path, &text, 16 << 20, &ferr))
            weir_buf_addf(&text, "(log unavailable: %s)\n", weir_error_str(&ferr));
        weir_error_release(&ferr);
        if (c.out == WEIR_OUT_JSON) {
            json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "task", weir_store_col_text(st, 0),
                                  "attempt", (json_int_t)weir_store_col_int(st, 1), "state",
                                  weir_store_col_text(st, 2), "log_path", path ? path : "",
                                  "log", text.ptr);
            json_object_set_new(o, "error", weir_store_col_text(st, 6)
                                                ? json_string(weir_store_col_text(st, 6))
                                                : json_null());
            json_array_append_new(arr, o);
        } else {
            printf("== task %s, attempt %lld (%s) ==\n%s", weir_store_col_text(st, 0),
                   (long long)weir_store_col_int(st, 1), weir_store_col_text(st, 2), text.ptr);
        }
        weir_buf_release(&text);
        shown++;
    }
    if (c.out == WEIR_OUT_JSON) {
        weir_cli_print_json(arr);
        arr = NULL;
    }
    if (!shown && c.out != WEIR_OUT_JSON) {
        fprintf(stderr, "weir: error: no attempts of pipeline '%s' on %s%s%s\n", c.args.items[0],
                date, task ? " for task " : "", task ? task : "");
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    rc = WEIR_EXIT_OK;
cleanup:
    json_decref(arr);
    weir_store_stmt_free(st);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

/* --- clear, pause ------------------------------------------------------------- */

static int cmd_clear(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *date = NULL, *task = NULL;
    int downstream = 0, no_wait = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "date", 'd', WEIR_OPT_STRING, &date, "DATE", "the run's logical date" },
        { "task", 't', WEIR_OPT_STRING, &task, "TASK", "only this task (default: every task)" },
        { "downstream", 0, WEIR_OPT_FLAG, &downstream, NULL, "and the tasks downstream of it" },
        { "no-wait", 0, WEIR_OPT_FLAG, &no_wait, NULL,
          "when the server runs it, return at once with the request's id" },
    };
    weir_error err = WEIR_ERROR_INIT;
    weir_pipeline *pl;
    weir_date d;
    size_t n = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_date(cmd, "--date", date, &d)))
        goto cleanup;
    if ((rc = open_pipeline(&c, 0, NULL, &pl)) != WEIR_CLI_GO)
        goto cleanup;
    if (task) { /* model tasks are named after the models: bind them (parse only, no warehouse) */
        weir_interval iv;
        if ((rc = bind_models(&c, pl, weir_schedule_interval_on(&pl->schedule, d, &iv) ? NULL : &iv)) !=
            WEIR_CLI_GO)
            goto cleanup;
    }
    if (task && weir_pipeline_task_index(pl, task) < 0) {
        fprintf(stderr, "weir: error: pipeline '%s' has no task '%s'\n", pl->name, task);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    /* while the server runs, it clears and runs the instances itself, so
     * that nothing changes under a run it has in flight */
    if (weir_handoff_server(c.ws.project->dir, &c.server_pid)) {
        weir_request req = { 0 }, fin = { 0 };
        snprintf(req.kind, sizeof(req.kind), "clear");
        req.pipeline = (char *)pl->name; /* borrowed: req is never released */
        weir_date_format(d, req.date_from);
        weir_date_format(d, req.date_to);
        req.task = (char *)task;
        req.downstream = downstream;
        if ((rc = hand_over(&c, &req, no_wait, c.out, 0, date, date, &fin)) != WEIR_CLI_GO)
            goto cleanup;
        rc = fin.failed || !fin.succeeded ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        if (c.out == WEIR_OUT_JSON)
            weir_cli_print_json(json_pack("{s:s, s:s, s:I, s:s, s:I, s:I}", "pipeline", pl->name,
                                          "ds", date, "cleared", (json_int_t)fin.cleared, "state",
                                          rc ? "failed" : "success", "request",
                                          (json_int_t)fin.id, "server_pid",
                                          (json_int_t)fin.server_pid));
        weir_request_release(&fin);
        goto cleanup;
    }
    if (weir_state_clear(c.ws.store, pl, d, task, downstream, &n, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:s, s:s, s:I}", "pipeline", pl->name, "ds", date,
                                      "cleared", (json_int_t)n));
    else
        printf("cleared %zu task instance%s of '%s' on %s; 'weir pipeline run %s --date %s' (or "
               "the server) runs them\n",
               n, n == 1 ? "" : "s", pl->name, date, pl->name, date);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int pause_common(const weir_command *cmd, int argc, char **argv, int paused)
{
    ctx c = CTX_INIT;
    const weir_option opts[] = { COMMON_OPTS(c) };
    weir_error err = WEIR_ERROR_INIT;
    weir_pipeline *pl;
    int64_t id;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = open_pipeline(&c, 0, NULL, &pl)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_state_pipeline_sync(c.ws.store, pl, &id, NULL, &err) ||
        weir_state_set_paused(c.ws.store, pl->name, paused, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:s, s:b}", "pipeline", pl->name, "paused", paused));
    else
        printf("pipeline '%s' %s\n", pl->name,
               paused ? "paused: the server creates no new runs for it" : "unpaused");
    rc = WEIR_EXIT_OK;
cleanup:
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int cmd_pause(const weir_command *cmd, int argc, char **argv)
{
    return pause_common(cmd, argc, argv, 1);
}

static int cmd_unpause(const weir_command *cmd, int argc, char **argv)
{
    return pause_common(cmd, argc, argv, 0);
}

/* --- rollback, restore, purge, trash ----------------------------------------- */

static int confirm(const char *question)
{
    char line[32];
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

static int cmd_rollback(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const char *from_s = NULL, *to_s = NULL;
    int dry = 0, yes = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "from", 0, WEIR_OPT_STRING, &from_s, "DATE", "first date to delete" },
        { "to", 0, WEIR_OPT_STRING, &to_s, "DATE", "last date to delete (inclusive)" },
        { "dry-run", 'n', WEIR_OPT_FLAG, &dry, NULL, "show what would be deleted, delete nothing" },
        { "yes", 'y', WEIR_OPT_FLAG, &yes, NULL, "do not ask for confirmation" },
    };
    weir_error err = WEIR_ERROR_INIT;
    weir_rollback_plan plan = { 0 };
    weir_pipeline *pl;
    weir_date from, to;
    int64_t action = 0;
    json_t *tables = NULL;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, ONE_PIPELINE);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_date(cmd, "--from", from_s, &from)) || (rc = parse_date(cmd, "--to", to_s, &to)))
        goto cleanup;
    if ((rc = open_pipeline(&c, NEED_WAREHOUSE | NEED_LOCK,
                            "weir pipeline rollback", &pl)) != WEIR_CLI_GO)
        goto cleanup;
    {
        weir_interval first;
        if ((rc = bind_models(&c, pl,
                              weir_schedule_interval_on(&pl->schedule, from, &first) ? NULL
                                                                                     : &first)) !=
            WEIR_CLI_GO)
            goto cleanup;
    }
    if (weir_rollback_plan_make(c.ws.conn, pl, from, to, &plan, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    tables = json_array();
    if (c.out != WEIR_OUT_JSON)
        printf("rollback of '%s' from %s to %s%s:\n", pl->name, from_s, to_s,
               dry ? " (dry run)" : "");
    for (size_t i = 0; i < plan.n; i++) {
        if (c.out != WEIR_OUT_JSON)
            printf("  %-40s %10lld rows  (by %s)\n", plan.tables[i].table,
                   (long long)plan.tables[i].rows, plan.tables[i].date_column);
        json_array_append_new(tables, json_pack("{s:s, s:s, s:I}", "table", plan.tables[i].table,
                                                "date_column", plan.tables[i].date_column, "rows",
                                                (json_int_t)plan.tables[i].rows));
    }
    if (c.out != WEIR_OUT_JSON)
        printf("  %-40s %10lld rows\n", "total", (long long)plan.total);
    fflush(stdout);
    if (!dry && !yes) {
        if (!isatty(0)) {
            fprintf(stderr, "weir: error: not deleting without confirmation: stdin is not a "
                            "terminal (pass --yes, or --dry-run to only look)\n");
            rc = WEIR_EXIT_USAGE;
            goto cleanup;
        }
        if (!confirm("delete these rows? they stay recoverable until 'weir pipeline purge'")) {
            fprintf(stderr, "nothing deleted\n");
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
    }
    if (!dry && weir_rollback_apply(c.ws.conn, c.ws.store, pl, &plan, weir_rollback_actor(), &action,
                                    &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:O}", "pipeline", pl->name, "from",
                              from_s, "to", to_s, "dry_run", dry, "rows", (json_int_t)plan.total,
                              "tables", tables);
        json_object_set_new(o, "action_id", dry ? json_null() : json_integer(action));
        weir_cli_print_json(o);
    } else if (!dry) {
        printf("rolled back: action %lld; 'weir pipeline restore %lld' puts the rows back, "
               "'weir pipeline backfill %s --from %s --to %s' rebuilds them\n",
               (long long)action, (long long)action, pl->name, from_s, to_s);
    }
    rc = WEIR_EXIT_OK;
cleanup:
    json_decref(tables);
    weir_rollback_plan_release(&plan);
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int parse_action(const weir_command *cmd, const char *s, int64_t *out)
{
    long long v;
    if (weir_str_to_i64(s, &v) || v <= 0)
        return weir_cli_usage_error(cmd, "invalid action id '%s'", s);
    *out = v;
    return 0;
}

static int cmd_restore(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    const weir_option opts[] = { COMMON_OPTS(c) };
    weir_error err = WEIR_ERROR_INIT;
    int64_t action = 0, rows = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c,
                        "expected one action id (see 'weir pipeline trash')");
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = parse_action(cmd, c.args.items[0], &action)))
        goto cleanup;
    if ((rc = ctx_open(&c, NEED_WAREHOUSE | NEED_LOCK, "weir pipeline restore")) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_rollback_restore(c.ws.conn, c.ws.store, action, weir_rollback_actor(), &rows, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:I, s:I}", "action_id", (json_int_t)action, "rows",
                                      (json_int_t)rows));
    else
        printf("restored %lld rows of action %lld\n", (long long)rows, (long long)action);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

static int cmd_purge(const weir_command *cmd, int argc, char **argv)
{
    ctx c = CTX_INIT;
    int all = 0, yes = 0;
    const weir_option opts[] = {
        COMMON_OPTS(c),
        { "all", 0, WEIR_OPT_FLAG, &all, NULL, "every rollback not yet restored or purged" },
        { "yes", 'y', WEIR_OPT_FLAG, &yes, NULL, "do not ask for confirmation" },
    };
    weir_error err = WEIR_ERROR_INIT;
    int64_t action = 0;
    size_t n = 0;
    int rc = parse_args(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &c, NULL);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((c.args.len != 1) == !all) {
        rc = weir_cli_usage_error(cmd, "expected one action id, or --all");
        goto cleanup;
    }
    if (c.args.len && (rc = parse_action(cmd, c.args.items[0], &action)))
        goto cleanup;
    if (!yes) {
        if (!isatty(0)) {
            fprintf(stderr, "weir: error: not purging without confirmation: stdin is not a "
                            "terminal (pass --yes)\n");
            rc = WEIR_EXIT_USAGE;
            goto cleanup;
        }
        if (!confirm("purge for good? rolled-back rows cannot be restored afterwards")) {
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
    }
    if ((rc = ctx_open(&c, NEED_WAREHOUSE | NEED_LOCK, "weir pipeline purge")) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_rollback_purge(c.ws.conn, c.ws.store, action, weir_rollback_actor(), &n, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (c.out == WEIR_OUT_JSON)
        weir_cli_print_json(json_pack("{s:I}", "purged", (json_int_t)n));
    else
        printf("purged %zu rollback action%s\n", n, n == 1 ? "" : "s");
    rc = WEIR_EXIT_OK;
cleanup:
    weir_error_release(&err);
    ctx_release(&c);
    return rc;
}

/* --- the dispatcher ------------------------------------------------------------ */

static const weir_command subs[] = {
    { "pipeline list", "list the project's pipelines",
      "weir pipeline list [--project-dir DIR] [--format text|json]", NULL, cmd_list },
    { "pipeline run", "run one interval now",
      "weir pipeline run NAME --date DATE [--workers N] [--no-wait] [--project-dir DIR] "
      "[--format text|json]",
      "Runs the pipeline's run for logical date DATE in this process, its\n"
      "independent tasks in parallel. A run that failed before resumes (its\n"
      "successful tasks are kept); a run that succeeded runs again.\n"
      "While 'weir serve' runs (it holds the warehouse), the run is handed to\n"
      "it as a request: this command follows it to the end and exits 0 or 1\n"
      "as a local run would, or with --no-wait returns at once with the\n"
      "request's id ('weir pipeline requests' lists them). A request survives\n"
      "the server: if it stops, the next 'weir serve' runs it.\n",
      cmd_run },
    { "pipeline backfill", "run every interval of a date range",
      "weir pipeline backfill NAME --from D1 --to D2 [--parallel N] [--rerun] [--workers N] "
      "[--no-wait] [--project-dir DIR] [--format text|json]",
      "Runs every interval whose logical date is in [D1, D2], N runs at once\n"
      "(default: the pipeline's max_active_runs). Intervals that already\n"
      "succeeded are skipped unless --rerun; interrupted or failed ones resume.\n"
      "A terminal shows a progress line; otherwise one line per finished run.\n"
      "While 'weir serve' runs, the backfill is handed to it as a request and\n"
      "followed to the end (--no-wait: return at once with the request's id);\n"
      "the server runs it with its own workers and max_active_runs.\n",
      cmd_backfill },
    { "pipeline runs", "show a pipeline's runs",
      "weir pipeline runs NAME [--limit N] [--project-dir DIR] [--format text|json]", NULL,
      cmd_runs },
    { "pipeline tasks", "show the task instances of runs and their states",
      "weir pipeline tasks NAME [--date DATE] [--project-dir DIR] [--format text|json]", NULL,
      cmd_tasks },
    { "pipeline logs", "show the logs of a run's attempts",
      "weir pipeline logs NAME --date DATE [--task TASK] [--attempt K] [--project-dir DIR] "
      "[--format text|json]",
      NULL, cmd_logs },
    { "pipeline clear", "make task instances run again",
      "weir pipeline clear NAME --date DATE [--task TASK [--downstream]] [--no-wait] "
      "[--project-dir DIR] [--format text|json]",
      "Resets the run's task instances (all, or TASK and with --downstream\n"
      "the tasks after it) so they run again: by 'weir pipeline run', or by\n"
      "the server. While 'weir serve' runs, the clear is handed to it: it\n"
      "clears the instances (after the run in flight, if any, finishes) and\n"
      "runs them, and this command follows the run to the end (--no-wait:\n"
      "return at once with the request's id).\n",
      cmd_clear },
    { "pipeline requests", "show the work handed to the server, or cancel it",
      "weir pipeline requests [--limit N] [--project-dir DIR] [--format text|json]\n"
      "       weir pipeline requests cancel ID [--project-dir DIR] [--format text|json]",
      "Lists the requests that 'weir pipeline run', 'backfill' and 'clear'\n"
      "handed to 'weir serve': pending (waiting for a server), running,\n"
      "done (with how many runs succeeded and failed), failed (why) or\n"
      "cancelled (by whom, how many runs were dropped and how many finished).\n"
      "'weir pipeline requests cancel ID' cancels one (see its --help).\n",
      cmd_requests },
    { "pipeline pause", "stop the server from creating runs of a pipeline",
      "weir pipeline pause NAME [--project-dir DIR] [--format text|json]", NULL, cmd_pause },
    { "pipeline unpause", "let the server create runs of a pipeline again",
      "weir pipeline unpause NAME [--project-dir DIR] [--format text|json]", NULL, cmd_unpause },
    { "pipeline rollback", "delete a date range from every table a pipeline writes",
      "weir pipeline rollback NAME --from D1 --to D2 [--dry-run] [--yes] [--project-dir DIR] "
      "[--format text|json]",
      "Deletes the rows of dates D1..D2 from every table in the pipeline's\n"
      "'outputs:' (by each table's date_column), downstream tables first,\n"
      "after showing how many rows each loses; asks on a terminal unless\n"
      "--yes. The rows are kept in the warehouse's weir_trash schema:\n"
      "'weir pipeline restore ACTION' puts them back until 'weir pipeline purge'.\n"
      "The runs of the range are cancelled, so a backfill rebuilds them.\n",
      cmd_rollback },
    { "pipeline restore", "put back the rows of a rollback",
      "weir pipeline restore ACTION_ID [--project-dir DIR] [--format text|json]", NULL,
      cmd_restore },
    { "pipeline purge", "drop rolled-back rows for good",
      "weir pipeline purge (ACTION_ID | --all) [--yes] [--project-dir DIR] [--format text|json]",
      NULL, cmd_purge },
    { "pipeline trash", "list rollback actions",
      "weir pipeline trash [--project-dir DIR] [--format text|json]", NULL, cmd_trash },
};

static int run(const weir_command *cmd, int argc, char **argv)
{
    (void)cmd;
    return weir_cli_dispatch("pipeline", subs, WEIR_ARRAY_SIZE(subs), argc, argv);
}

const weir_command weir_cmd_pipeline = {
    "pipeline",
    "list, run, backfill, inspect and roll back pipelines",
    "weir pipeline SUBCOMMAND [ARGS]",
    NULL,
    run,
};
