/*
 * cmd_serve.c: `weir serve`, the long-running scheduler (the UI's HTTP
 * server joins it later). Every second it creates the runs whose interval
 * has closed (catching up missed ones unless `catchup: false`, never more
 * than max_active_runs in flight per pipeline, none for paused pipelines),
 * and drives the executor. It holds the project's warehouse lock so other
 * commands can say plainly who holds the warehouse; `weir pipeline run`,
 * `backfill` and `clear` hand their work to it as requests in the store
 * (orchestrate/handoff.h), which it takes on every tick; it drops the runs
 * not started yet of requests someone cancels. Every tick it
 * also looks whether weir.yml, the pipelines or the models changed and
 * loads them again (orchestrate/generation.h): new runs use what loaded,
 * runs in flight finish with what they started with, and files with errors
 * are reported once and leave the server as it was. It stops cleanly on
 * SIGTERM/SIGINT: running tasks are interrupted and left up_for_retry,
 * their runs queued, nothing running.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "cli/workspace.h"
#include "core/log.h"
#include "orchestrate/executor.h"
#include "orchestrate/generation.h"
#include "orchestrate/handoff.h"
#include "orchestrate/lock.h"
#include "orchestrate/state.h"
#include "transform/transform.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void on_event(void *data, const weir_exec_event *ev)
{
    (void)data;
    if (ev->kind == WEIR_EXEC_RUN_DONE)
        printf("%s %s: %s (%.2fs)\n", ev->pipeline, ev->ds, ev->state, ev->duration_us / 1e6);
    else if (ev->kind == WEIR_EXEC_RUN_STARTED)
        printf("%s %s: started\n", ev->pipeline, ev->ds);
    else if (ev->error && strcmp(ev->state, "success"))
        printf("%s %s: task '%s' %s: %s\n", ev->pipeline, ev->ds, ev->task, ev->state, ev->error);
    fflush(stdout);
}

/* What happens to requests other commands handed over. */
static void on_request(void *data, const weir_request *r, const char *what)
{
    char dates[2 * WEIR_DATE_STRLEN + 8];
    (void)data;
    if (strcmp(r->date_from, r->date_to))
        snprintf(dates, sizeof(dates), "%s..%s", r->date_from, r->date_to);
    else
        snprintf(dates, sizeof(dates), "%s", r->date_from);
    printf("request %lld (%s %s %s, from %s): %s", (long long)r->id, r->kind, r->pipeline, dates,
           r->requested_by ? r->requested_by : "?", what);
    if (!strcmp(what, "taken"))
        printf(", %lld run%s%s", (long long)r->runs, r->runs == 1 ? "" : "s",
               r->skipped ? " (some already successful, skipped)" : "");
    else if (!strcmp(what, "done"))
        printf(", %lld succeeded, %lld failed", (long long)r->succeeded, (long long)r->failed);
    else if (!strcmp(what, "cancelled"))
        printf(" by %s, %lld run%s dropped, %lld finished (%lld succeeded, %lld failed)",
               r->cancelled_by ? r->cancelled_by : "?", (long long)r->dropped,
               r->dropped == 1 ? "" : "s", (long long)(r->runs - r->dropped),
               (long long)r->succeeded, (long long)r->failed);
    else if (!strcmp(what, "cancelling"))
        printf(" (asked by %s), %lld run%s dropped; those started finish first",
               r->cancelled_by ? r->cancelled_by : "?", (long long)r->dropped,
               r->dropped == 1 ? "" : "s");
    else if (r->message)
        printf(": %s", r->message);
    printf("\n");
    fflush(stdout);
}

/* The end of the newest run of pl in the store, or 0 when it has none. */
static weir_ts last_end(weir_store *s, const weir_pipeline *pl)
{
    weir_store_stmt *st = NULL;
    weir_ts t = 0;
    if (weir_store_prepare(s,
                           "SELECT max(r.interval_end) FROM runs r JOIN pipelines p ON p.id = "
                           "r.pipeline_id WHERE p.name = ?1",
                           &st, NULL))
        return 0;
    weir_store_bind_text(st, 1, pl->name, NULL);
    if (weir_store_step(st, NULL) == 1 && weir_store_col_text(st, 0))
        weir_ts_parse(weir_store_col_text(st, 0), &t);
    weir_store_stmt_free(st);
    return t;
}

/* Adds the runs left queued or running (by a previous server, a crash, or
 * `weir pipeline clear`) that are not in flight here. */
static int resume(weir_exec *x, weir_store *s, const weir_pipeline_list *l, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s,
                                "SELECT p.name, r.interval_start, r.interval_end FROM runs r JOIN "
                                "pipelines p ON p.id = r.pipeline_id WHERE r.state IN ('queued', "
                                "'running') ORDER BY r.interval_start",
                                &st, err);
    WEIR_VEC(weir_interval) ivs = WEIR_VEC_INIT;
    WEIR_VEC(weir_pipeline *) pls = WEIR_VEC_INIT;
    if (rc)
        return rc;
    while ((rc = weir_store_step(st, err)) == 1) {
        weir_pipeline *pl = weir_pipeline_list_find(l, weir_store_col_text(st, 0));
        weir_interval iv;
        if (!pl || weir_ts_parse(weir_store_col_text(st, 1), &iv.start) ||
            weir_ts_parse(weir_store_col_text(st, 2), &iv.end))
            continue;
        /* in flight here, maybe with an older load of pl */
        if (weir_generation_in_flight(x, pl->name, iv.start))
            continue;
        weir_vec_push(&ivs, iv);
        weir_vec_push(&pls, pl);
    }
    weir_store_stmt_free(st);
    for (size_t i = 0; rc == 0 && i < ivs.len; i++) {
        rc = weir_exec_add_run(x, pls.items[i], &ivs.items[i], "scheduled", 0, NULL, err);
        if (rc == WEIR_EEXISTS)
            rc = 0;
    }
    weir_vec_release(&ivs);
    weir_vec_release(&pls);
    return rc < 0 ? rc : 0;
}

/* Creates the runs of pl that are due now. */
static int schedule(weir_exec *x, weir_store *s, weir_pipeline *pl, weir_ts now, weir_error *err)
{
    weir_interval latest, iv;
    weir_ts from;
    int64_t id;
    int paused = 0, rc;
    if ((rc = weir_state_pipeline_sync(s, pl, &id, &paused, err)))
        return rc;
    if (paused || weir_schedule_latest_closed(&pl->schedule, now, &latest))
        return 0;
    if (pl->has_end && weir_schedule_ds(&pl->schedule, &latest) > pl->end)
        return 0;
    from = last_end(s, pl);
    if (!pl->catchup || (!from && !pl->has_start)) {
        /* only the latest interval */
        if (from >= latest.end)
            return 0;
        iv = latest;
    } else {
        if (!from)
            from = weir_tz_day_start(pl->schedule.tz, pl->start);
        if (weir_schedule_interval_from(&pl->schedule, from, &iv) || iv.end > now)
            return 0;
    }
    while (iv.end <= now && weir_exec_unfinished(x, pl->name) < (size_t)pl->max_active_runs) {
        const weir_pipeline *flying;
        if (pl->has_end && weir_schedule_ds(&pl->schedule, &iv) > pl->end)
            break;
        /* a run in flight with an older load is that load's (WEIR_EEXISTS) */
        flying = weir_generation_in_flight(x, pl->name, iv.start);
        rc = weir_exec_add_run(x, flying ? flying : pl, &iv, "scheduled", 0, NULL, err);
        if (rc && rc != WEIR_EEXISTS)
            return rc;
        if (weir_schedule_interval_from(&pl->schedule, iv.end, &iv))
            break;
        if (!pl->catchup)
            break;
    }
    return 0;
}

typedef WEIR_VEC(weir_generation *) generation_list;

/* What the server loaded: the current generation, the ones it replaced
 * that runs in flight still use, and the stamp of files that failed to
 * load (not tried again until they change). */
typedef struct loaded {
    const char *dir;
    weir_generation *cur;
    generation_list old;
    uint64_t failed_stamp;
} loaded;

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* What the server opened when it started and keeps until it stops. */
static int same_resources(const weir_project *a, const weir_project *b)
{
    return a->warehouse.kind == b->warehouse.kind && same_str(a->warehouse.path, b->warehouse.path) &&
           same_str(a->warehouse.dsn, b->warehouse.dsn) &&
           a->warehouse.threads == b->warehouse.threads && a->store.kind == b->store.kind &&
           same_str(a->store.path, b->store.path) && same_str(a->store.dsn, b->store.dsn);
}

/*
 * Loads the project's files again, which changed (to stamp) since the
 * current generation and since the last load that failed. A generation
 * with any error is dropped and the server goes on with the current one,
 * saying so once; else it becomes current and the replaced one waits in
 * l->old for its runs to finish.
 */
static void reload_once(loaded *l, weir_engine *engine, uint64_t stamp)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_generation *g = NULL;
    size_t added, removed, changed;
    int rc = weir_generation_load(l->dir, engine, &g, &diags, &err);
    weir_diags_sort(&diags);
    weir_diags_print(&diags, stderr);
    if (rc) {
        if (err.code)
            fprintf(stderr, "weir: error: %s\n", weir_error_str(&err));
        fprintf(stderr,
                "weir: warning: the project's files changed but do not load (%zu error%s): "
                "'weir serve' goes on with what it loaded before, until they change again\n",
                diags.errors ? diags.errors : 1, diags.errors > 1 ? "s" : "");
        weir_generation_free(g);
        l->failed_stamp = stamp;
        goto cleanup;
    }
    weir_generation_diff(l->cur, g, &added, &removed, &changed);
    if (!same_resources(l->cur->project, g->project))
        fprintf(stderr, "weir: warning: the warehouse or store in weir.yml changed: 'weir serve' "
                        "keeps those it opened when it started (restart it to use the new ones)\n");
    printf("reloaded: %zu pipeline%s (added %zu, removed %zu, changed %zu)\n", g->pipelines.len,
           g->pipelines.len == 1 ? "" : "s", added, removed, changed);
    fflush(stdout);
    weir_vec_push(&l->old, l->cur);
    l->cur = g;
    l->failed_stamp = 0;
cleanup:
    fflush(stderr);
    weir_diags_release(&diags);
    weir_error_release(&err);
}

static void reload(loaded *l, weir_engine *engine)
{
    /* files that change while they load are looked at again at once (a
     * few times at most): a request handed over right after an edit then
     * finds it loaded */
    for (int i = 0; i < 3; i++) {
        uint64_t stamp = weir_generation_stamp(l->cur->project);
        if (stamp == l->cur->stamp || stamp == l->failed_stamp)
            return;
        reload_once(l, engine, stamp);
    }
}

/* Frees the replaced generations the executor holds no run of: none in
 * flight, and none of the finished ones it keeps until it is idle (it
 * compares their pipeline pointers, which must not be reused meanwhile). */
static void collect(loaded *l, const weir_exec *x)
{
    size_t k = 0;
    for (size_t i = 0; i < l->old.len; i++) {
        if (weir_generation_in_use(l->old.items[i], x)) {
            l->old.items[k++] = l->old.items[i];
        } else {
            weir_generation_free(l->old.items[i]);
            weir_info("a replaced load of the project is freed: no run uses it any more");
        }
    }
    l->old.len = k;
}

static void loaded_release(loaded *l)
{
    for (size_t i = 0; i < l->old.len; i++)
        weir_generation_free(l->old.items[i]);
    weir_vec_release(&l->old);
    weir_generation_free(l->cur);
    l->cur = NULL;
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *dir = NULL;
    long long workers = 0, tick_ms = 1000;
    const weir_option opts[] = {
        { "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" },
        { "workers", 'j', WEIR_OPT_INT, &workers, "N", "worker threads (default: warehouse threads or 4)" },
        { "tick", 0, WEIR_OPT_INT, &tick_ms, "MS", "how often to look for due runs, requests and edited files (default 1000)" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    loaded gens = { 0 };
    weir_store *store = NULL;
    weir_engine *engine = NULL;
    weir_exec *x = NULL;
    weir_exec_options eo = { 0 };
    struct sigaction sa;
    size_t recovered = 0;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (pos.len) {
        rc = weir_cli_usage_error(cmd, "unexpected argument '%s'", pos.items[0]);
        goto cleanup;
    }
    gens.dir = dir ? dir : ".";
    /* the project as the server starts: its warehouse, store and folder
     * stay for the server's life; the first generation, loaded below with
     * the warehouse, reports the problems of its files (warnings too), so
     * they are not printed twice */
    if ((rc = weir_project_load(gens.dir, &p, &diags))) {
        weir_diags_sort(&diags);
        weir_diags_print(&diags, stderr);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    weir_diags_release(&diags);
    if (weir_warehouse_lock(p->dir, "weir serve", &err))
        goto fail;
    if ((rc = weir_cli_open_store(p, &store)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_state_recover(store, 60000, &recovered, &err))
        goto fail;
    if ((rc = weir_cli_open_warehouse(p, &engine)) != WEIR_CLI_GO)
        goto cleanup;
    /* pipelines and their model tasks, for scheduled runs and for the work
     * handed over; a pipeline whose models do not bind is reported and its
     * model tasks fail, the others run */
    rc = weir_generation_load(gens.dir, engine, &gens.cur, &diags, &err);
    weir_diags_sort(&diags);
    weir_diags_print(&diags, stderr);
    if (!gens.cur) {
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (rc) {
        weir_error_wrap(&err, "weir serve goes on without it");
        fprintf(stderr, "weir: warning: %s\n", weir_error_str(&err));
        weir_error_clear(&err);
    }
    weir_diags_release(&diags);
    eo.workers = workers > 0 ? (int)workers : p->warehouse.threads > 0 ? p->warehouse.threads : 4;
    eo.on_event = on_event;
    /* requests cancelled while no server ran first: their runs left queued
     * are dropped rather than resumed */
    if (weir_exec_new(p, store, engine, &eo, &x, &err) ||
        weir_handoff_cancel(x, store, on_request, NULL, &err) ||
        resume(x, store, &gens.cur->pipelines, &err))
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("weir serve: project '%s', %zu pipeline%s, pid %ld%s\n", p->name,
           gens.cur->pipelines.len, gens.cur->pipelines.len == 1 ? "" : "s", (long)getpid(),
           recovered ? " (recovered orphaned task instances)" : "");
    fflush(stdout);
    while (!stop_signal) {
        int64_t next = weir_monotonic_us() + tick_ms * 1000;
        weir_ts now = weir_ts_now();
        weir_pipeline_list *pls;
        /* a step first, so that the executor's store transaction is
         * committed; then the files, right before the requests, so that a
         * request for a pipeline just written finds it */
        if (weir_exec_step(x, 0, &err) < 0)
            goto fail;
        reload(&gens, engine);
        collect(&gens, x);
        pls = &gens.cur->pipelines;
        /* work handed over by `weir pipeline run/backfill/clear` */
        if (weir_handoff_take(x, store, pls, (int64_t)getpid(), on_request, NULL, NULL, &err))
            goto fail;
        for (size_t i = 0; i < pls->len; i++)
            if (schedule(x, store, pls->items[i], now, &err) < 0)
                goto fail;
        /* runs cleared by `weir pipeline clear` while serving */
        if (resume(x, store, pls, &err))
            goto fail;
        while (!stop_signal && weir_monotonic_us() < next) {
            int64_t left = (next - weir_monotonic_us()) / 1000;
            /* cancels between steps, before the next step admits a run a
             * cancelled request no longer wants; settling skips those */
            if (weir_exec_step(x, (int)WEIR_MAX(1, WEIR_MIN(left, 200)), &err) < 0 ||
                weir_handoff_cancel(x, store, on_request, NULL, &err) ||
                weir_handoff_settle(store, on_request, NULL, &err))
                goto fail;
        }
    }
    printf("weir serve: stopping (signal %d)\n", (int)stop_signal);
    if (weir_exec_stop(x, &err))
        goto fail;
    printf("weir serve: stopped, nothing left running\n");
    rc = WEIR_EXIT_OK;
    goto cleanup;
fail:
    weir_cli_error(&err);
    rc = WEIR_EXIT_FAILED;
cleanup:
    weir_exec_free(x);
    loaded_release(&gens); /* after the runs that point into them */
    weir_engine_free(engine);
    weir_store_free(store);
    weir_project_free(p);
    weir_warehouse_unlock();
    weir_diags_release(&diags);
    weir_error_release(&err);
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_serve = {
    "serve",
    "run the scheduler: create runs as intervals close, run them",
    "weir serve [--project-dir DIR] [--workers N] [--tick MS]",
    "Runs until SIGTERM or SIGINT (Ctrl-C). Creates each pipeline's run when\n"
    "its data interval closes, catches up missed intervals (unless the\n"
    "pipeline says 'catchup: false'), at most max_active_runs at a time, and\n"
    "skips paused pipelines. While it runs it holds the warehouse:\n"
    "'weir pipeline run', 'backfill' and 'clear' hand their work to it as\n"
    "requests in the store, which it takes within a tick (--tick) and runs\n"
    "with its workers; requests left by a server that stopped are taken by\n"
    "the next one. 'weir pipeline requests cancel ID' cancels a request:\n"
    "the server drops its runs that have not started and lets the others\n"
    "finish. Other commands that need the warehouse say that the server\n"
    "holds it and name its pid.\n"
    "\n"
    "Every tick it also looks whether weir.yml, the pipelines or the models\n"
    "(models, seeds, snapshots, macros, tests) changed, and loads them again:\n"
    "it prints 'reloaded: N pipelines (added X, removed Y, changed Z)', new\n"
    "runs use what it loaded, and runs in flight finish as they started. A\n"
    "pipeline whose file is removed gets no new runs. When the files have\n"
    "errors it prints them as 'weir check' does, once, and goes on with what\n"
    "it loaded before until they change again. The warehouse and store stay\n"
    "those it opened when it started: changing them needs a restart.\n",
    run,
};
