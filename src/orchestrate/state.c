/*
 * state.c: the store's side of orchestration shared by commands and the
 * executor (see state.h): pipelines' rows, pause, clear, and recovery of
 * instances a dead process left running.
 */
#include "core/compat.h"

#include "core/buf.h"
#include "orchestrate/state.h"

static const char *const state_names[] = { "none", "scheduled", "queued", "running",
                                           "success", "failed", "up_for_retry",
                                           "upstream_failed", "skipped" };

const char *weir_ti_state_name(weir_ti_state s)
{
    return (size_t)s < WEIR_ARRAY_SIZE(state_names) ? state_names[s] : "none";
}

int weir_ti_state_parse(const char *s)
{
    for (size_t i = 0; s && i < WEIR_ARRAY_SIZE(state_names); i++)
        if (!strcmp(s, state_names[i]))
            return (int)i;
    return -1;
}

int weir_ti_state_is_terminal(weir_ti_state s)
{
    return s == WEIR_TI_SUCCESS || s == WEIR_TI_FAILED || s == WEIR_TI_UPSTREAM_FAILED ||
           s == WEIR_TI_SKIPPED;
}

static char host_name[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void init_host_name(void)
{
    if (gethostname(host_name, sizeof(host_name) - 1) != 0 || !host_name[0])
        snprintf(host_name, sizeof(host_name), "localhost");
}

const char *weir_state_hostname(void)
{
    pthread_once(&host_once, init_host_name);
    return host_name;
}

int weir_state_pipeline_sync(weir_store *s, const weir_pipeline *pl, int64_t *id, int *paused,
                             weir_error *err)
{
    weir_store_stmt *st = NULL;
    char start[WEIR_DATE_STRLEN];
    weir_ts now = weir_ts_now();
    int rc;
    if ((rc = weir_store_prepare(
             s,
             "INSERT INTO pipelines (name, owner, schedule, start_date, spec_hash, created_at, "
             "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
             "ON CONFLICT (name) DO UPDATE SET owner = ?2, schedule = ?3, start_date = ?4, "
             "spec_hash = ?5, updated_at = CASE WHEN spec_hash IS ?5 THEN updated_at ELSE ?6 END "
             "RETURNING id, paused",
             &st, err)))
        goto cleanup;
    weir_store_bind_text(st, 1, pl->name, NULL);
    weir_store_bind_text(st, 2, pl->owner, NULL);
    weir_store_bind_text(st, 3, pl->schedule_expr, NULL);
    weir_store_bind_text(st, 4, pl->has_start ? weir_date_format(pl->start, start) : NULL, NULL);
    weir_store_bind_text(st, 5, pl->spec_hash, NULL);
    weir_store_bind_ts(st, 6, now, NULL);
    if ((rc = weir_store_step(st, err)) != 1) {
        if (rc == 0)
            rc = weir_error_set(err, WEIR_ERROR, "cannot register pipeline '%s'", pl->name);
        goto cleanup;
    }
    *id = weir_store_col_int(st, 0);
    if (paused)
        *paused = (int)weir_store_col_int(st, 1);
    rc = 0;
cleanup:
    weir_store_stmt_free(st);
    return rc;
}

int weir_state_set_paused(weir_store *s, const char *name, int paused, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc;
    if ((rc = weir_store_prepare(s, "UPDATE pipelines SET paused = ?1 WHERE name = ?2", &st, err)))
        return rc;
    weir_store_bind_int(st, 1, paused, NULL);
    weir_store_bind_text(st, 2, name, NULL);
    if ((rc = weir_store_step(st, err)) >= 0) {
        rc = weir_store_changes(s) ? 0
                                    : weir_error_set(err, WEIR_ENOTFOUND,
                                                     "pipeline '%s' is not registered", name);
    }
    weir_store_stmt_free(st);
    return rc;
}

static int pid_alive(int64_t pid)
{
    if (pid <= 0)
        return 0;
    if (pid == (int64_t)getpid())
        return 1;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int weir_state_recover(weir_store *s, int64_t stale_ms, size_t *n, weir_error *err)
{
    weir_store_stmt *q = NULL, *up = NULL, *att = NULL, *run = NULL;
    WEIR_VEC(int64_t) ids = WEIR_VEC_INIT;
    WEIR_VEC(int64_t) runs = WEIR_VEC_INIT;
    weir_strvec why = WEIR_VEC_INIT;
    const char *host = weir_state_hostname();
    weir_ts now = weir_ts_now();
    int rc, in_tx = 0;

    if (n)
        *n = 0;
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = weir_store_prepare(s,
                                 "SELECT id, run_id, pid, hostname, heartbeat_at, task_id FROM "
                                 "task_instances WHERE state IN ('queued', 'running')",
                                 &q, err)))
        goto cleanup;
    while ((rc = weir_store_step(q, err)) == 1) {
        int64_t pid = weir_store_col_int(q, 2);
        const char *h = weir_store_col_text(q, 3);
        const char *hb = weir_store_col_text(q, 4);
        weir_ts hbt = 0;
        char msg[200];
        int orphan = 0;
        if (pid == (int64_t)getpid() && h && !strcmp(h, host))
            continue; /* ours: the executor is recovering at start, nothing runs yet */
        if (h && !strcmp(h, host) && !pid_alive(pid)) {
            orphan = 1;
            snprintf(msg, sizeof(msg), "orphaned: process %" PRId64 " on %s is gone", pid, h);
        } else if (!hb || weir_ts_parse(hb, &hbt) || (now - hbt) / 1000 > stale_ms) {
            orphan = 1;
            snprintf(msg, sizeof(msg), "orphaned: no heartbeat from process %" PRId64 " on %s since %s",
                     pid, h ? h : "?", hb ? hb : "ever");
        }
        if (orphan) {
            weir_vec_push(&ids, weir_store_col_int(q, 0));
            weir_vec_push(&runs, weir_store_col_int(q, 1));
            weir_strvec_push(&why, msg);
        }
    }
    if (rc < 0)
        goto cleanup;
    if ((rc = weir_store_prepare(s,
                                 "UPDATE task_instances SET state = 'up_for_retry', pid = NULL, "
                                 "max_tries = MAX(max_tries, try_number + 1), error = ?2, "
                                 "ended_at = ?3, next_try_at = NULL WHERE id = ?1",
                                 &up, err)) ||
        (rc = weir_store_prepare(s,
                                 "UPDATE task_attempts SET state = 'killed', ended_at = ?3, "
                                 "error = ?2 WHERE task_instance_id = ?1 AND state = 'running'",
                                 &att, err)) ||
        (rc = weir_store_prepare(s,
                                 "UPDATE runs SET state = 'queued', pid = NULL WHERE id = ?1 AND "
                                 "state = 'running'",
                                 &run, err)))
        goto cleanup;
    for (size_t i = 0; i < ids.len; i++) {
        weir_store_stmt *sts[2] = { up, att };
        for (int k = 0; k < 2; k++) {
            weir_store_reset(sts[k]);
            weir_store_bind_int(sts[k], 1, ids.items[i], NULL);
            weir_store_bind_text(sts[k], 2, why.items[i], NULL);
            weir_store_bind_ts(sts[k], 3, now, NULL);
            if ((rc = weir_store_step(sts[k], err)) < 0)
                goto cleanup;
        }
        weir_store_reset(run);
        weir_store_bind_int(run, 1, runs.items[i], NULL);
        if ((rc = weir_store_step(run, err)) < 0)
            goto cleanup;
    }
    /* runs marked running by a dead process, whose instances were all
     * between tasks when it died */
    {
        weir_store_stmt *r = NULL;
        WEIR_VEC(int64_t) dead = WEIR_VEC_INIT;
        if ((rc = weir_store_prepare(s, "SELECT id, pid, hostname FROM runs WHERE state = 'running'",
                                     &r, err)))
            goto cleanup;
        while ((rc = weir_store_step(r, err)) == 1) {
            const char *h = weir_store_col_text(r, 2);
            int64_t pid = weir_store_col_int(r, 1);
            if (!h || (!strcmp(h, host) && pid != (int64_t)getpid() && !pid_alive(pid)))
                weir_vec_push(&dead, weir_store_col_int(r, 0));
        }
        weir_store_stmt_free(r);
        for (size_t i = 0; rc == 0 && i < dead.len; i++) {
            weir_store_reset(run);
            weir_store_bind_int(run, 1, dead.items[i], NULL);
            if (weir_store_step(run, err) < 0)
                rc = WEIR_ERROR;
        }
        weir_vec_release(&dead);
        if (rc < 0)
            goto cleanup;
    }
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
    if (n)
        *n = ids.len;
cleanup:
    if (in_tx)
        weir_store_rollback(s, NULL);
    weir_store_stmt_free(q);
    weir_store_stmt_free(up);
    weir_store_stmt_free(att);
    weir_store_stmt_free(run);
    weir_vec_release(&ids);
    weir_vec_release(&runs);
    weir_strvec_release(&why);
    return rc < 0 ? rc : 0;
}

int weir_state_clear(weir_store *s, const weir_pipeline *pl, weir_date ds, const char *task,
                     int downstream, size_t *n, weir_error *err)
{
    weir_store_stmt *q = NULL, *up = NULL;
    char dss[WEIR_DATE_STRLEN];
    unsigned char *pick = NULL;
    int64_t run_id = 0;
    size_t count = 0;
    int rc, in_tx = 0;

    weir_date_format(ds, dss);
    pick = calloc(pl->n_tasks ? pl->n_tasks : 1, 1);
    if (task) {
        long i = weir_pipeline_task_index(pl, task);
        size_t *stack, top = 0;
        if (i < 0) {
            rc = weir_error_set(err, WEIR_ENOTFOUND, "pipeline '%s' has no task '%s'", pl->name,
                                task);
            goto cleanup;
        }
        stack = calloc(pl->n_tasks + 1, sizeof(size_t));
        stack[top++] = (size_t)i;
        pick[i] = 1;
        while (downstream && top) {
            const weir_task_spec *t = &pl->tasks[stack[--top]];
            for (size_t k = 0; k < t->n_down; k++)
                if (!pick[t->down[k]]) {
                    pick[t->down[k]] = 1;
                    stack[top++] = t->down[k];
                }
        }
        free(stack);
    } else {
        memset(pick, 1, pl->n_tasks);
    }
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = weir_store_prepare(s,
                                 "SELECT r.id FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "
                                 "WHERE p.name = ?1 AND r.ds = ?2 ORDER BY r.id DESC LIMIT 1",
                                 &q, err)))
        goto cleanup;
    weir_store_bind_text(q, 1, pl->name, NULL);
    weir_store_bind_text(q, 2, dss, NULL);
    if ((rc = weir_store_step(q, err)) != 1) {
        if (rc == 0)
            rc = weir_error_set(err, WEIR_ENOTFOUND, "pipeline '%s' has no run for %s", pl->name,
                                dss);
        goto cleanup;
    }
    run_id = weir_store_col_int(q, 0);
    if ((rc = weir_store_prepare(s,
                                 "UPDATE task_instances SET state = 'none', error = NULL, "
                                 "next_try_at = NULL, max_tries = try_number + ?3 "
                                 "WHERE run_id = ?1 AND task_id = ?2 AND state NOT IN "
                                 "('running', 'queued')",
                                 &up, err)))
        goto cleanup;
    for (size_t i = 0; i < pl->n_tasks; i++) {
        if (!pick[i])
            continue;
        weir_store_reset(up);
        weir_store_bind_int(up, 1, run_id, NULL);
        weir_store_bind_text(up, 2, pl->tasks[i].id, NULL);
        weir_store_bind_int(up, 3, pl->tasks[i].retries + 1, NULL);
        if ((rc = weir_store_step(up, err)) < 0)
            goto cleanup;
        count += (size_t)weir_store_changes(s);
    }
    {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "UPDATE runs SET state = 'queued', ended_at = NULL WHERE id = %" PRId64
                 " AND state <> 'running'",
                 run_id);
        if ((rc = weir_store_exec(s, sql, err)))
            goto cleanup;
    }
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
    if (n)
        *n = count;
    rc = 0;
cleanup:
    if (in_tx)
        weir_store_rollback(s, NULL);
    weir_store_stmt_free(q);
    weir_store_stmt_free(up);
    free(pick);
    return rc < 0 ? rc : 0;
}

int weir_state_run_state(weir_store *s, const char *name, const char *ds, char *out,
                         weir_error *err)
{
    weir_store_stmt *q = NULL;
    int rc = weir_store_prepare(s,
                                "SELECT r.state FROM runs r JOIN pipelines p ON p.id = "
                                "r.pipeline_id WHERE p.name = ?1 AND r.ds = ?2 "
                                "ORDER BY r.id DESC LIMIT 1",
                                &q, err);
    if (rc)
        return rc;
    weir_store_bind_text(q, 1, name, NULL);
    weir_store_bind_text(q, 2, ds, NULL);
    rc = weir_store_step(q, err);
    if (rc == 1) {
        snprintf(out, 16, "%s", weir_store_col_text(q, 0));
        rc = 0;
    } else if (rc == 0) {
        rc = WEIR_ENOTFOUND;
    }
    weir_store_stmt_free(q);
    return rc;
}
