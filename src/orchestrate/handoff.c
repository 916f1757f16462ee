/*
 * handoff.c: requests handed to the running `weir serve` (see handoff.h).
 *
 * The server's side turns pending requests into runs of its executor and
 * settles requests whose runs finished; the client's side polls the store
 * for the request and its runs, and the warehouse lock for the server.
 *
 * Crash safety: a request becomes `running` in the same store transaction
 * that creates or resumes its runs (the executor's, committed on its next
 * step), so a server dying in between leaves it pending and the next one
 * takes it again. A clear commits on its own just before; when the server
 * dies between the two, the next server clears that run once more (it
 * waits for the resumed run to finish first), which runs it again but
 * loses nothing.
 *
 * Cancelling: the client only marks the request (store.h); the server
 * drops runs on its own thread, between executor steps, each drop
 * committed at once, then adds them to the request's count. A server dying
 * in between undercounts the dropped runs in the message, nothing else. A
 * request cancelled in the instant after the server read it pending but
 * before it took it has the runs just added for it dropped; a clear may
 * have reset its instances by then, which only means they run next time.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "orchestrate/generation.h"
#include "orchestrate/handoff.h"
#include "orchestrate/lock.h"
#include "orchestrate/rollback.h"
#include "orchestrate/state.h"

/* --- the server's side -------------------------------------------------------- */

static void tell(weir_handoff_note_fn note, void *data, const weir_request *r, const char *what)
{
    if (note)
        note(data, r, what);
}

/* The id and state (16 bytes) of the latest run of pl for ds; 0 when none. */
static int run_of(weir_store *s, const char *pipeline, const char *ds, int64_t *id, char *state,
                  weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s,
                                "SELECT r.id, r.state FROM runs r JOIN pipelines p ON p.id = "
                                "r.pipeline_id WHERE p.name = ?1 AND r.ds = ?2 ORDER BY r.id DESC "
                                "LIMIT 1",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_text(st, 1, pipeline, NULL);
    weir_store_bind_text(st, 2, ds, NULL);
    rc = weir_store_step(st, err);
    if (rc == 1) {
        *id = weir_store_col_int(st, 0);
        snprintf(state, 16, "%s", weir_store_col_text(st, 1));
    }
    weir_store_stmt_free(st);
    return rc;
}

/*
 * Adds the run of iv to x. When the executor says it exists: a run that
 * succeeded before is run again when again is set, else counted in
 * *skipped; any other (in flight here) is joined. *run_id gets the run to
 * follow, 0 when skipped.
 */
static int add_one(weir_exec *x, weir_store *s, const weir_pipeline *pl, const weir_interval *iv,
                   const char *kind, unsigned flags, int again, int64_t *run_id,
                   int64_t *skipped, weir_error *err)
{
    char ds[WEIR_DATE_STRLEN], state[16] = "";
    /* in flight under an older load of the pipeline (the server reloaded
     * its files since): that object joins it */
    const weir_pipeline *flying = weir_generation_in_flight(x, pl->name, iv->start);
    int rc = weir_exec_add_run(x, flying ? flying : pl, iv, kind, flags, run_id, err);
    if (rc != WEIR_EEXISTS)
        return rc;
    weir_error_clear(err);
    weir_date_format(weir_schedule_ds(&pl->schedule, iv), ds);
    *run_id = 0;
    if ((rc = run_of(s, pl->name, ds, run_id, state, err)) < 0)
        return rc;
    if (rc == 1 && strcmp(state, "success"))
        return 0; /* in flight: follow it */
    if (!again) {
        (*skipped)++;
        *run_id = 0;
        return 0;
    }
    rc = weir_exec_add_run(x, pl, iv, kind, flags | WEIR_EXEC_RERUN, run_id, err);
    if (rc == WEIR_EEXISTS) {
        weir_error_clear(err);
        rc = 0;
    }
    return rc;
}

/* Marks r failed with a message; the server goes on. */
static int fail_request(weir_store *s, weir_request *r, int64_t server_pid,
                        weir_handoff_note_fn note, void *data, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int fail_request(weir_store *s, weir_request *r, int64_t server_pid,
                        weir_handoff_note_fn note, void *data, const char *fmt, ...)
{
    weir_buf msg = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    weir_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    rc = weir_store_request_fail(s, r->id, server_pid, msg.ptr, &err);
    if (rc == WEIR_ENOTFOUND)
        rc = 0; /* cancelled since it was read: nothing to do */
    else if (rc == 0) {
        free(r->message);
        r->message = weir_buf_detach(&msg, NULL);
        snprintf(r->state, sizeof(r->state), "failed");
        tell(note, data, r, "failed");
    }
    weir_error_release(&err);
    weir_buf_release(&msg);
    return rc;
}

/* Whether the run of a clear request is in flight (queued or running). */
static int clear_must_wait(weir_store *s, const weir_request *r, weir_error *err)
{
    char state[16] = "";
    int64_t id = 0;
    int rc = run_of(s, r->pipeline, r->date_from, &id, state, err);
    if (rc < 0)
        return rc;
    return rc == 1 && (!strcmp(state, "queued") || !strcmp(state, "running"));
}

int weir_handoff_take(weir_exec *x, weir_store *s, const weir_pipeline_list *pls,
                      int64_t server_pid, weir_handoff_note_fn note, void *data, size_t *taken,
                      weir_error *err)
{
    weir_request_list pending = WEIR_VEC_INIT;
    weir_id_vec runs = WEIR_VEC_INIT;
    weir_interval_vec ivs = WEIR_VEC_INIT;
    int64_t *cleared = NULL;
    unsigned char *ready = NULL;
    size_t n_taken = 0;
    int rc;

    if ((rc = weir_store_request_list(s, "pending", 0, &pending, err)))
        return rc;
    cleared = weir_xcalloc(pending.len + 1, sizeof(*cleared));
    ready = weir_xcalloc(pending.len + 1, 1);

    /* First the clears, each in its own transaction, before the executor
     * opens its own for the runs below. */
    for (size_t i = 0; i < pending.len; i++) {
        weir_request *r = &pending.items[i];
        const weir_pipeline *pl = weir_pipeline_list_find(pls, r->pipeline);
        weir_date d;
        size_t n = 0;
        ready[i] = 1;
        if (strcmp(r->kind, "clear") || !pl || weir_date_parse(r->date_from, &d))
            continue;
        if ((rc = clear_must_wait(s, r, err)) < 0)
            goto cleanup;
        if (rc == 1) {
            static const char waiting[] = "waiting for the run in flight to finish";
            ready[i] = 0;
            if (r->message && !strcmp(r->message, waiting))
                continue; /* said so already */
            if ((rc = weir_store_request_note(s, r->id, waiting, err)))
                goto cleanup;
            tell(note, data, r, "waiting");
            continue;
        }
        rc = weir_state_clear(s, pl, d, r->task, r->downstream, &n, err);
        if (rc == WEIR_ENOTFOUND || rc == WEIR_EINVALID) {
            ready[i] = 0;
            n_taken++;
            rc = fail_request(s, r, server_pid, note, data, "%s", weir_error_str(err));
            weir_error_clear(err);
            if (rc)
                goto cleanup;
            continue;
        }
        if (rc < 0)
            goto cleanup;
        cleared[i] = (int64_t)n;
    }

    for (size_t i = 0; i < pending.len; i++) {
        weir_request *r = &pending.items[i];
        const weir_pipeline *pl = weir_pipeline_list_find(pls, r->pipeline);
        weir_date from, to;
        int64_t skipped = 0, run_id = 0;
        if (!ready[i])
            continue;
        n_taken++;
        runs.len = 0;
        if (!pl) {
            if ((rc = fail_request(s, r, server_pid, note, data,
                                   "the server has no pipeline '%s' (it picks up new and "
                                   "edited files within a tick; when it did not, its output "
                                   "says what is wrong in them)",
                                   r->pipeline)))
                goto cleanup;
            continue;
        }
        if (weir_date_parse(r->date_from, &from) || weir_date_parse(r->date_to, &to)) {
            if ((rc = fail_request(s, r, server_pid, note, data, "invalid dates '%s' and '%s'",
                                   r->date_from, r->date_to)))
                goto cleanup;
            continue;
        }
        if (!strcmp(r->kind, "backfill")) {
            ivs.len = 0;
            if (weir_schedule_intervals_between(&pl->schedule, from, to, 0, &ivs, err)) {
                rc = fail_request(s, r, server_pid, note, data, "%s", weir_error_str(err));
                weir_error_clear(err);
                if (rc)
                    goto cleanup;
                continue;
            }
            for (size_t k = 0; k < ivs.len; k++) {
                if ((rc = add_one(x, s, pl, &ivs.items[k], "backfill",
                                  r->rerun ? WEIR_EXEC_RERUN : 0, 0, &run_id, &skipped, err)))
                    goto cleanup;
                if (run_id)
                    weir_vec_push(&runs, run_id);
            }
        } else {
            weir_interval iv;
            if (weir_schedule_interval_on(&pl->schedule, from, &iv)) {
                if ((rc = fail_request(s, r, server_pid, note, data,
                                       "pipeline '%s' has no run on %s (schedule '%s')",
                                       pl->name, r->date_from, pl->schedule_expr)))
                    goto cleanup;
                continue;
            }
            /* an explicit run of a successful date runs it again; a cleared
             * run resumes with the instances the clear reset */
            if ((rc = add_one(x, s, pl, &iv, "manual", 0, !strcmp(r->kind, "run"), &run_id,
                              &skipped, err)))
                goto cleanup;
            if (run_id)
                weir_vec_push(&runs, run_id);
        }
        {
            /* the server runs the pipeline as it last loaded it: say so
             * when the requester's file differs (the server has not looked
             * yet, or the file does not load) */
            char changed[300] = "";
            if (r->spec_hash[0] && strcmp(r->spec_hash, pl->spec_hash))
                snprintf(changed, sizeof(changed),
                         "the server runs pipeline '%s' as it last loaded it; its file changed "
                         "since (the server loads the edit within a tick, unless it has errors: "
                         "see the server's output)",
                         pl->name);
            rc = weir_store_request_take(s, r->id, server_pid, runs.items, runs.len, skipped,
                                         cleared[i], changed[0] ? changed : NULL, err);
            if (rc == WEIR_ENOTFOUND) {
                /* cancelled since it was read: the runs just added for it
                 * go again (none of them started) */
                weir_error_clear(err);
                for (size_t k = 0; k < runs.len; k++)
                    if ((rc = weir_exec_drop_run(x, runs.items[k], err)) < 0 &&
                        rc != WEIR_ENOTFOUND)
                        goto cleanup;
                weir_error_clear(err);
                continue;
            }
            if (rc)
                goto cleanup;
            free(r->message);
            r->message = changed[0] ? weir_xstrdup(changed) : NULL;
        }
        r->server_pid = server_pid;
        r->runs = (int64_t)runs.len;
        r->skipped = skipped;
        r->cleared = cleared[i];
        snprintf(r->state, sizeof(r->state), "running");
        tell(note, data, r, "taken");
    }
    rc = 0;
    if (taken)
        *taken = n_taken;
cleanup:
    free(cleared);
    free(ready);
    weir_vec_release(&runs);
    weir_vec_release(&ivs);
    weir_request_list_release(&pending);
    return rc;
}

int weir_handoff_settle(weir_store *s, weir_handoff_note_fn note, void *data, weir_error *err)
{
    weir_request_list running = WEIR_VEC_INIT;
    size_t n = 0;
    int rc;
    /* a read first: most ticks have nothing running, and then the server
     * takes no write lock on the store */
    if ((rc = weir_store_request_list(s, "running", 0, &running, err)))
        return rc;
    if (!running.len)
        goto cleanup;
    if ((rc = weir_store_request_settle(s, &n, err)))
        goto cleanup;
    for (size_t i = 0; n && i < running.len; i++) {
        weir_request r = { 0 };
        if (weir_store_request_get(s, running.items[i].id, &r, NULL) == 0 &&
            !strcmp(r.state, "done"))
            tell(note, data, &r, "done");
        weir_request_release(&r);
    }
cleanup:
    weir_request_list_release(&running);
    return rc;
}

int weir_handoff_cancel(weir_exec *x, weir_store *s, weir_handoff_note_fn note, void *data,
                        weir_error *err)
{
    weir_request_list running = WEIR_VEC_INIT;
    weir_id_vec open = WEIR_VEC_INIT;
    weir_buf msg = WEIR_BUF_INIT;
    int rc;
    if ((rc = weir_store_request_list(s, "running", 0, &running, err)))
        return rc;
    for (size_t i = 0; i < running.len; i++) {
        weir_request *r = &running.items[i];
        int64_t dropped = 0, finished;
        int settled = 0;
        if (!r->cancel_requested_at[0])
            continue;
        open.len = 0;
        if ((rc = weir_store_request_open_runs(s, r->id, &open, err)))
            goto cleanup;
        for (size_t k = 0; k < open.len; k++) {
            rc = weir_exec_drop_run(x, open.items[k], err);
            if (rc == WEIR_ENOTFOUND) {
                /* not in flight here: left queued by a server that stopped */
                int d = 0;
                weir_error_clear(err);
                if ((rc = weir_store_request_drop_queued(s, open.items[k], &d, err)))
                    goto cleanup;
                rc = d;
            }
            if (rc < 0)
                goto cleanup;
            dropped += rc;
        }
        if (dropped && (rc = weir_store_request_add_dropped(s, r->id, dropped, err)))
            goto cleanup;
        r->dropped += dropped;
        finished = r->runs - r->dropped;
        weir_buf_reset(&msg);
        weir_buf_addf(&msg, "cancelled by %s: %lld run%s dropped, %lld finished",
                      r->cancelled_by ? r->cancelled_by : "someone", (long long)r->dropped,
                      r->dropped == 1 ? "" : "s", (long long)finished);
        if ((rc = weir_store_request_settle_cancelled(s, r->id, msg.ptr, &settled, err)))
            goto cleanup;
        if (settled) {
            weir_request last = { 0 };
            if (weir_store_request_get(s, r->id, &last, NULL) == 0)
                tell(note, data, &last, "cancelled");
            weir_request_release(&last);
        } else if (dropped) {
            tell(note, data, r, "cancelling");
        }
    }
    rc = 0;
cleanup:
    weir_buf_release(&msg);
    weir_vec_release(&open);
    weir_request_list_release(&running);
    return rc;
}

/* --- the client's side -------------------------------------------------------- */

int weir_handoff_server(const char *dir, long *pid)
{
    char what[200];
    long p = 0;
    if (!weir_warehouse_holder(dir, &p, what, sizeof(what)) || strncmp(what, "weir serve", 10))
        return 0;
    *pid = p;
    return 1;
}

void weir_handoff_requester(char *out, size_t n)
{
    snprintf(out, n, "%s@%s (pid %ld)", weir_rollback_actor(), weir_state_hostname(),
             (long)getpid());
}

int weir_handoff_run_ids(weir_store *s, int64_t id, weir_id_vec *out, weir_error *err)
{
    return weir_store_request_run_ids(s, id, out, err);
}

/* What the client has reported of one run. */
typedef struct seen_run {
    int64_t id;
    int reported; /* 1 started, 2 finished */
} seen_run;
typedef WEIR_VEC(seen_run) seen_vec;

/* A task attempt's outcome reported: instance, try and state. */
typedef struct seen_task {
    int64_t id, try_number;
    int failed;
} seen_task;
typedef WEIR_VEC(seen_task) seen_task_vec;

typedef struct follow_state {
    seen_vec runs;
    seen_task_vec tasks;
} follow_state;

static void emit(const weir_handoff_follow_opts *o, weir_exec_event_kind kind,
                 const char *pipeline, const char *ds, const char *task, const char *state,
                 const char *error, int64_t dur)
{
    weir_exec_event ev = { kind, pipeline, ds, task, state, error, dur };
    if (o->on_event)
        o->on_event(o->event_data, &ev);
}

/*
 * Reports the tasks that failed or wait for a retry, once each attempt, as
 * a local run does: those of run_id, or with run_id 0 those of every run of
 * request id still in flight.
 */
static int report_tasks(weir_store *s, const weir_handoff_follow_opts *o, int64_t id,
                        int64_t run_id, seen_task_vec *seen, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s,
                                "SELECT t.id, t.try_number, t.state, t.task_id, t.error, p.name, "
                                "r.ds FROM request_runs q JOIN runs r ON r.id = q.run_id JOIN "
                                "pipelines p ON p.id = r.pipeline_id JOIN task_instances t ON "
                                "t.run_id = r.id WHERE q.request_id = ?1 AND (?2 = 0 OR r.id = "
                                "?2) AND t.state IN ('failed', 'up_for_retry') ORDER BY t.ended_at, "
                                "t.id",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_int(st, 2, run_id, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        seen_task k = { weir_store_col_int(st, 0), weir_store_col_int(st, 1),
                        !strcmp(weir_store_col_text(st, 2), "failed") };
        int known = 0;
        for (size_t i = 0; i < seen->len && !known; i++)
            known = seen->items[i].id == k.id && seen->items[i].try_number == k.try_number &&
                    seen->items[i].failed == k.failed;
        if (known)
            continue;
        weir_vec_push(seen, k);
        emit(o, WEIR_EXEC_TASK_DONE, weir_store_col_text(st, 5), weir_store_col_text(st, 6),
             weir_store_col_text(st, 3), weir_store_col_text(st, 2), weir_store_col_text(st, 4),
             0);
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

/* Reports the runs of request id whose state changed since last time. */
static int report_runs(weir_store *s, int64_t id, const weir_handoff_follow_opts *o,
                       follow_state *fs, weir_error *err)
{
    seen_vec *seen = &fs->runs;
    weir_store_stmt *st = NULL;
    int rc = report_tasks(s, o, id, 0, &fs->tasks, err);
    if (rc)
        return rc;
    rc = weir_store_prepare(s,
                                /* a run resumed or run again keeps its first start:
                                 * time it from when the server took it; a run
                                 * dropped by a cancel never started */
                                "SELECT r.id, p.name, r.ds, r.state, CASE WHEN r.started_at IS "
                                "NULL THEN NULL WHEN r.started_at > rq.taken_at THEN "
                                "r.started_at ELSE rq.taken_at END, r.ended_at "
                                "FROM request_runs q JOIN requests rq ON rq.id = q.request_id "
                                "JOIN runs r ON r.id = q.run_id JOIN pipelines p ON p.id = "
                                "r.pipeline_id WHERE q.request_id = ?1 "
                                "ORDER BY r.ended_at IS NULL, r.ended_at, r.ds",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        int64_t run_id = weir_store_col_int(st, 0);
        const char *pipeline = weir_store_col_text(st, 1), *ds = weir_store_col_text(st, 2);
        const char *state = weir_store_col_text(st, 3);
        int finished = !strcmp(state, "success") || !strcmp(state, "failed") ||
                       !strcmp(state, "cancelled");
        seen_run *sr = NULL;
        for (size_t i = 0; i < seen->len; i++)
            if (seen->items[i].id == run_id)
                sr = &seen->items[i];
        if (!sr) {
            seen_run fresh = { run_id, 0 };
            weir_vec_push(seen, fresh);
            sr = &weir_vec_last(seen);
        }
        if (sr->reported < 1 && (finished || !strcmp(state, "running"))) {
            emit(o, WEIR_EXEC_RUN_STARTED, pipeline, ds, NULL, "running", NULL, 0);
            sr->reported = 1;
        }
        if (sr->reported < 2 && finished) {
            weir_ts a = 0, b = 0;
            char *p = weir_xstrdup(pipeline), *d = weir_xstrdup(ds), *stt = weir_xstrdup(state);
            const char *sa = weir_store_col_text(st, 4), *sb = weir_store_col_text(st, 5);
            int64_t dur = sa && sb && !weir_ts_parse(sa, &a) && !weir_ts_parse(sb, &b) && b > a
                              ? b - a
                              : 0;
            /* another statement runs in between: keep this row's text */
            rc = report_tasks(s, o, id, run_id, &fs->tasks, err);
            if (rc == 0)
                emit(o, WEIR_EXEC_RUN_DONE, p, d, NULL, stt, NULL, dur);
            free(p);
            free(d);
            free(stt);
            sr->reported = 2;
            if (rc)
                break;
        }
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

static void nap_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int weir_handoff_follow(weir_store *s, int64_t id, const weir_handoff_follow_opts *o,
                        weir_request *final, weir_error *err)
{
    follow_state fs = { WEIR_VEC_INIT, WEIR_VEC_INIT };
    weir_request r = { 0 };
    long server = o->server_pid;
    int taken = 0, cancelling = 0, rc;
    int poll = o->poll_ms > 0 ? o->poll_ms : 200;

    for (;;) {
        long now_pid = 0;
        int finished;
        weir_request_release(&r);
        if ((rc = weir_store_request_get(s, id, &r, err)))
            goto cleanup;
        if (!taken && strcmp(r.state, "pending")) {
            taken = 1;
            if (o->on_taken)
                o->on_taken(o->event_data, &r);
        }
        if (!cancelling && r.cancel_requested_at[0] && !strcmp(r.state, "running")) {
            cancelling = 1;
            if (o->on_cancelling)
                o->on_cancelling(o->event_data, &r);
        }
        if (taken && (rc = report_runs(s, id, o, &fs, err)))
            goto cleanup;
        finished = !strcmp(r.state, "done") || !strcmp(r.state, "failed") ||
                   !strcmp(r.state, "cancelled");
        if (finished) {
            *final = r;
            memset(&r, 0, sizeof(r));
            rc = 0;
            goto cleanup;
        }
        if (o->stop && *o->stop) {
            rc = weir_error_set(err, WEIR_EINTERRUPTED,
                                "stopped following request %lld; the server goes on with it",
                                (long long)id);
            goto cleanup;
        }
        if (!weir_handoff_server(o->project_dir, &now_pid)) {
            /* it may have finished the request just before it went */
            weir_request last = { 0 };
            if (weir_store_request_get(s, id, &last, NULL) == 0 && strcmp(last.state, r.state)) {
                weir_request_release(&last);
                continue;
            }
            weir_request_release(&last);
            if (!strcmp(r.state, "pending"))
                rc = weir_error_set(err, WEIR_ENOTFOUND,
                                    "the server (pid %ld) is gone before it took request %lld: the "
                                    "request is kept, and the next 'weir serve' on this project "
                                    "runs it",
                                    server, (long long)id);
            else
                rc = weir_error_set(err, WEIR_ENOTFOUND,
                                    "the server (pid %ld) is gone while running request %lld: "
                                    "its runs are kept, and the next 'weir serve' on this project "
                                    "resumes them (see 'weir pipeline requests')",
                                    server, (long long)id);
            goto cleanup;
        }
        if (now_pid != server) {
            if (o->on_new_server)
                o->on_new_server(o->event_data, server, now_pid);
            server = now_pid;
        }
        nap_ms(poll);
    }
cleanup:
    weir_request_release(&r);
    weir_vec_release(&fs.runs);
    weir_vec_release(&fs.tasks);
    return rc;
}
