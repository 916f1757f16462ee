/*
 * executor.c: the scheduler loop of runs in flight and its worker pool (see
 * executor.h for the rules). The owner thread keeps each run's instances in
 * memory, mirrors every transition into the store (grouped into one store
 * transaction per loop iteration, which keeps per-task overhead low), and
 * exchanges jobs and results with the workers under one mutex. A log thread
 * writes SQL tasks' logs after their results are handed back.
 */
#include "core/compat.h"

#include <sys/wait.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/log.h"
#include "orchestrate/executor.h"
#include "monitor/monitor.h"
#include "quality/quality.h"
#include "transform/transform.h"

extern char **environ;

typedef struct xpipe {
    const weir_pipeline *pl;
    int64_t id;
    int active_runs;
    int running_tasks;
} xpipe;

typedef struct xti {
    weir_ti_state state;
    int64_t id;
    int try_number, max_tries;
    int64_t attempt_id;
    int64_t due_us;      /* up_for_retry: when it may run again (monotonic) */
    int64_t deadline_us; /* running: when it times out (monotonic); 0 none */
    int64_t end_us;      /* when it last finished (monotonic), for the gap */
    int ready;           /* in the ready queue */
    int timed_out;
    struct worker *w;
} xti;

typedef struct xrun {
    xpipe *pipe;
    const weir_pipeline *pl;
    int64_t id;
    weir_interval iv;
    weir_interval_vars vars;
    int admitted, done, failed;
    size_t n_terminal;
    int64_t started_us;
    xti *tis;
} xrun;

typedef struct worker {
    pthread_t th;
    struct weir_exec *x;
    weir_conn *conn;
    weir_store *store; /* opened on first use, for pipeline sensors */
    pthread_cond_t cv;
    /* the job, under x->mu */
    int has_job, busy, quit;
    volatile int cancel; /* 1: timed out, 2: stopped */
    xrun *run;
    size_t task;
    int try_number;
    char *log_path;
    /* the result, under x->mu */
    int result_rc; /* 0 success, 1 failed, 2 skipped, 3 failed for good (no retry) */
    char *result_error;
    int64_t start_us, end_us, work_us;
    int64_t avail_us; /* when it became free for this job: the end of its last one */
} worker;

/* A SQL task's log, kept in memory and written by the log thread once the
 * result is handed back: creating a file is the costliest step of a trivial
 * task, and this takes it off the path between a task and its dependant.
 * (A crash can lose the logs not yet written; the attempts are recorded.) */
typedef struct deferred_log {
    char *path, *text;
    size_t len;
} deferred_log;

typedef struct readyq {
    xrun *run;
    size_t task;
} readyq;

struct weir_exec {
    const weir_project *project;
    const char *project_dir;
    char *log_dir;
    weir_store *store;
    weir_engine *engine;
    weir_exec_options opts;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    worker *workers;
    int n_workers;
    WEIR_VEC(worker *) finished; /* under mu */
    WEIR_VEC(xpipe *) pipes;
    WEIR_VEC(xrun *) runs;
    WEIR_VEC(readyq) ready;
    int in_tx;
    int64_t last_heartbeat_us;
    weir_exec_stats stats;
    unsigned seed;
    weir_store_stmt *st_start, *st_attempt, *st_end, *st_att_end, *st_state;
    /* the log thread and its queue, under log_mu */
    pthread_t log_th;
    int log_started, log_quit;
    pthread_mutex_t log_mu;
    pthread_cond_t log_cv;
    WEIR_VEC(deferred_log) logs;
};

/* --- store writes -------------------------------------------------------- */

static int tx(weir_exec *x, weir_error *err)
{
    if (x->in_tx)
        return 0;
    if (weir_store_begin(x->store, err))
        return WEIR_ERROR;
    x->in_tx = 1;
    return 0;
}

static int tx_commit(weir_exec *x, weir_error *err)
{
    if (!x->in_tx)
        return 0;
    x->in_tx = 0;
    return weir_store_commit(x->store, err);
}

static int step_done(weir_store_stmt *st, weir_error *err)
{
    int rc = weir_store_step(st, err);
    weir_store_reset(st);
    return rc < 0 ? rc : 0;
}

/* Sets an instance's state, with its error and due time (ts, 0 none). */
static int set_state(weir_exec *x, xti *t, weir_ti_state s, const char *error, weir_ts next_try,
                     weir_error *err)
{
    weir_store_stmt *st = x->st_state;
    t->state = s;
    if (tx(x, err))
        return WEIR_ERROR;
    weir_store_bind_text(st, 1, weir_ti_state_name(s), NULL);
    weir_store_bind_text(st, 2, error, NULL);
    if (next_try)
        weir_store_bind_ts(st, 3, next_try, NULL);
    else
        weir_store_bind_null(st, 3, NULL);
    weir_store_bind_ts(st, 4, weir_ts_now(), NULL);
    weir_store_bind_int(st, 5, t->max_tries, NULL);
    weir_store_bind_int(st, 6, t->id, NULL);
    return step_done(st, err);
}

static int prepare(weir_exec *x, weir_error *err)
{
    if (weir_store_prepare(x->store,
                           "UPDATE task_instances SET state = 'running', try_number = ?2, "
                           "hostname = ?3, pid = ?4, started_at = ?5, heartbeat_at = ?5, "
                           "queued_at = COALESCE(queued_at, ?5), ended_at = NULL, error = NULL, "
                           "next_try_at = NULL WHERE id = ?1",
                           &x->st_start, err) ||
        weir_store_prepare(x->store,
                           "INSERT INTO task_attempts (task_instance_id, try_number, state, "
                           "hostname, pid, started_at, log_path) VALUES (?1, ?2, 'running', ?3, "
                           "?4, ?5, ?6) ON CONFLICT (task_instance_id, try_number) DO UPDATE SET "
                           "state = 'running', hostname = ?3, pid = ?4, started_at = ?5, "
                           "ended_at = NULL, error = NULL, log_path = ?6 RETURNING id",
                           &x->st_attempt, err) ||
        weir_store_prepare(x->store,
                           "UPDATE task_instances SET state = ?1, error = ?2, next_try_at = ?3, "
                           "ended_at = ?4, max_tries = ?5, pid = NULL WHERE id = ?6",
                           &x->st_state, err) ||
        weir_store_prepare(x->store,
                           "UPDATE task_attempts SET state = ?1, ended_at = ?2, error = ?3 "
                           "WHERE id = ?4",
                           &x->st_att_end, err))
        return WEIR_ERROR;
    return 0;
}

/* --- workers ------------------------------------------------------------- */

static void log_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    char ts[WEIR_TS_STRLEN];
    if (!f)
        return;
    fprintf(f, "[%s] ", weir_ts_format_ms(weir_ts_now(), ts));
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void nap_us(int64_t us)
{
    struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };
    nanosleep(&ts, NULL);
}

/* Sleeps up to ms, in slices, returning early when the job is cancelled. */
static void nap(worker *w, int64_t ms)
{
    int64_t end = weir_monotonic_us() + ms * 1000;
    while (!w->cancel) {
        int64_t left = (end - weir_monotonic_us()) / 1000;
        if (left <= 0)
            break;
        sleep_ms(left < 20 ? left : 20);
    }
}

static void set_result(worker *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_result(worker *w, int rc, const char *fmt, ...)
{
    w->result_rc = rc;
    free(w->result_error);
    w->result_error = NULL;
    if (fmt) {
        weir_buf b = WEIR_BUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        weir_buf_vaddf(&b, fmt, ap);
        va_end(ap);
        w->result_error = weir_buf_detach(&b, NULL);
    }
}

static void add_env(weir_strvec *env, const char *name, const char *value)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "%s=%s", name, value);
    weir_vec_push(env, weir_buf_detach(&b, NULL));
}

static void run_shell(worker *w, const weir_task_spec *t, FILE *log)
{
    const weir_interval_vars *v = &w->run->vars;
    weir_strvec env = WEIR_VEC_INIT;
    int64_t start = weir_monotonic_us(), sleep_us = 200;
    int status = 0, fd = log ? fileno(log) : -1, killed = 0;
    pid_t pid;

    for (char **e = environ; *e; e++)
        if (strncmp(*e, "WEIR_DS=", 8) && strncmp(*e, "WEIR_DATA_INTERVAL_", 19))
            weir_strvec_push(&env, *e);
    add_env(&env, "WEIR_DS", v->ds);
    add_env(&env, "WEIR_DS_NODASH", v->ds_nodash);
    add_env(&env, "WEIR_DATA_INTERVAL_START", v->data_interval_start);
    add_env(&env, "WEIR_DATA_INTERVAL_END", v->data_interval_end);
    add_env(&env, "WEIR_PIPELINE", w->run->pl->name);
    add_env(&env, "WEIR_TASK", t->id);
    {
        char n[16];
        snprintf(n, sizeof(n), "%d", w->try_number);
        add_env(&env, "WEIR_TRY_NUMBER", n);
    }
    weir_vec_push(&env, NULL);
    log_line(log, "$ %s", t->text);
    pid = fork();
    if (pid < 0) {
        set_result(w, 1, "cannot start shell task: %s", strerror(errno));
        goto cleanup;
    }
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        setpgid(0, 0);
        if (chdir(w->x->project_dir) != 0)
            _exit(126);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        {
            int devnull = open("/dev/null", O_RDONLY);
            if (devnull >= 0)
                dup2(devnull, 0);
        }
        execve("/bin/sh", (char *const[]){ "sh", "-c", (char *)t->text, NULL }, env.items);
        _exit(127);
    }
    setpgid(pid, pid);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            set_result(w, 1, "cannot wait for shell task: %s", strerror(errno));
            goto cleanup;
        }
        if (!killed && (w->cancel || (t->timeout_ms &&
                                      weir_monotonic_us() - start > t->timeout_ms * 1000))) {
            if (!w->cancel)
                w->cancel = 1;
            kill(-pid, SIGTERM);
            killed = 1;
            start = weir_monotonic_us(); /* grace period from now */
        } else if (killed == 1 && weir_monotonic_us() - start > 2000000) {
            kill(-pid, SIGKILL);
            killed = 2;
        }
        nap_us(sleep_us);
        if (sleep_us < 20000)
            sleep_us *= 2;
    }
    if (killed) {
        if (w->cancel == 2)
            set_result(w, 1, "stopped: weir is shutting down");
        else
            set_result(w, 1, "timed out after %.3gs: the shell task was killed",
                       t->timeout_ms / 1000.0);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        set_result(w, 0, NULL);
    } else if (WIFEXITED(status)) {
        set_result(w, 1, "shell task exited with status %d", WEXITSTATUS(status));
    } else {
        set_result(w, 1, "shell task killed by signal %d", WTERMSIG(status));
    }
cleanup:
    for (size_t i = 0; i < env.len; i++)
        free(env.items[i]);
    weir_vec_release(&env);
}

static void run_sql(worker *w, const weir_task_spec *t, FILE *log)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    if (!w->conn) {
        set_result(w, 1, "no warehouse: SQL tasks need the project's warehouse");
        goto cleanup;
    }
    if (weir_pipeline_render(t->text, &w->run->vars, &sql, &err)) {
        set_result(w, 1, "%s", err.msg.ptr);
        goto cleanup;
    }
    log_line(log, "sql: %s", sql.ptr);
    if (weir_conn_begin(w->conn, &err) || weir_conn_exec(w->conn, sql.ptr, &err) ||
        weir_conn_commit(w->conn, &err)) {
        int interrupted = err.code == WEIR_EINTERRUPTED || w->cancel;
        weir_conn_rollback(w->conn, NULL);
        if (interrupted && w->cancel == 2)
            set_result(w, 1, "stopped: weir is shutting down (the query was interrupted)");
        else if (interrupted)
            set_result(w, 1, "timed out after %.3gs: the query was interrupted",
                       t->timeout_ms / 1000.0);
        else
            set_result(w, 1, "%s", weir_error_str(&err));
        goto cleanup;
    }
    set_result(w, 0, NULL);
cleanup:
    weir_buf_release(&sql);
    weir_error_release(&err);
}

/* One poke: 1 true, 0 not yet, -1 error (message in err). */
static int poke(worker *w, const weir_task_spec *t, weir_error *err)
{
    weir_buf text = WEIR_BUF_INIT;
    weir_result *r = NULL;
    int rc = 0;
    switch (t->kind) {
    case WEIR_TASK_SENSOR_FILE: {
        weir_buf path = WEIR_BUF_INIT;
        if (weir_pipeline_render(t->text, &w->run->vars, &text, err)) {
            rc = -1;
            break;
        }
        weir_path_join(&path, w->x->project_dir, text.ptr);
        rc = access(path.ptr, F_OK) == 0;
        weir_buf_release(&path);
        break;
    }
    case WEIR_TASK_SENSOR_TABLE:
    case WEIR_TASK_SENSOR_SQL: {
        bool b = false;
        int64_t i = 0;
        if (!w->conn) {
            weir_error_set(err, WEIR_ERROR, "no warehouse: this sensor needs the warehouse");
            rc = -1;
            break;
        }
        if (t->kind == WEIR_TASK_SENSOR_TABLE) {
            weir_buf_addf(&text, "SELECT count(*) > 0 FROM %s WHERE CAST(", t->text);
            weir_sql_quote_ident(weir_engine_dialect(weir_conn_engine(w->conn)), &text,
                                 t->partition);
            weir_buf_addf(&text, " AS DATE) = DATE '%s'", w->run->vars.ds);
        } else if (weir_pipeline_render(t->text, &w->run->vars, &text, err)) {
            rc = -1;
            break;
        }
        if (weir_conn_query(w->conn, text.ptr, &r, err)) {
            rc = -1;
            break;
        }
        if (weir_result_rows(r) == 0 || weir_result_cols(r) == 0)
            rc = 0;
        else if (weir_result_bool(r, 0, 0, &b) == 0)
            rc = b;
        else if (weir_result_int64(r, 0, 0, &i) == 0)
            rc = i != 0;
        break;
    }
    case WEIR_TASK_SENSOR_PIPELINE: {
        char state[16];
        if (!w->store && weir_store_open(weir_store_path(w->x->store), NULL, &w->store, err)) {
            rc = -1;
            break;
        }
        rc = weir_state_run_state(w->store, t->text, w->run->vars.ds, state, err);
        if (rc == WEIR_ENOTFOUND) {
            weir_error_clear(err);
            rc = 0;
        } else if (rc < 0) {
            rc = -1;
        } else {
            rc = !strcmp(state, "success");
        }
        break;
    }
    default:
        break;
    }
    weir_result_free(r);
    weir_buf_release(&text);
    return rc;
}

/*
 * An expectation-suite task: loads the suite, renders its templated kwargs
 * with the run's interval, validates it on this worker's connection, writes
 * the GX result under target/validations/ and keeps it in the store with
 * the run. With severity warn a failed suite is a warning (logged, kept in
 * the attempt's message) and the task succeeds; otherwise a suite that fails fails the task (retries would see the same
 * data); a suite that cannot be found or loaded fails it for good.
 */
static void run_expectation(worker *w, const weir_task_spec *t, FILE *log)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_buf target = WEIR_BUF_INIT, msg = WEIR_BUF_INIT;
    weir_suite *suite = NULL;
    json_t *vars = NULL, *result = NULL;
    char *path = NULL, *out_path = NULL;
    if (!w->conn) {
        set_result(w, 3, "no warehouse: expectation-suite tasks need the project's warehouse");
        goto cleanup;
    }
    if (weir_suite_find(w->x->project, t->text, &path, &err) ||
        weir_suite_load_file(path, &suite, &diags)) {
        if (diags.list.len)
            weir_diag_format(&diags.list.items[0], &msg);
        set_result(w, 3, "cannot load suite '%s': %s", t->text,
                   msg.len ? msg.ptr : weir_error_str(&err));
        goto cleanup;
    }
    vars = weir_quality_project_vars(w->x->project);
    weir_suite_params params = { w->run->vars.ds, NULL, NULL, vars };
    if (weir_suite_render(suite, &params, &diags))
        for (size_t i = 0; i < diags.list.len; i++) {
            weir_buf_reset(&msg);
            weir_diag_format(&diags.list.items[i], &msg);
            log_line(log, "%s", msg.ptr);
        }
    weir_validate_options opts = WEIR_VALIDATE_OPTIONS_INIT;
    opts.ds = w->run->vars.ds;
    opts.run_name = w->run->pl->name;
    if (weir_quality_validate(w->conn, suite, &opts, &result, NULL, &err)) {
        set_result(w, 1, "suite '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    weir_path_join(&target, w->x->project_dir, "target");
    if (weir_quality_write_result(target.ptr, result, &out_path, &err)) {
        set_result(w, 1, "suite '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    if (!w->store && weir_store_open(weir_store_path(w->x->store), NULL, &w->store, &err)) {
        set_result(w, 1, "suite '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    if (weir_quality_store_result(w->store, result, w->run->id, out_path, NULL, &err)) {
        set_result(w, 1, "suite '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    json_t *st = json_object_get(result, "statistics");
    long long ok = json_integer_value(json_object_get(st, "successful_expectations"));
    long long all = json_integer_value(json_object_get(st, "evaluated_expectations"));
    log_line(log, "suite '%s': %lld of %lld expectations passed; result in %s", t->text, ok, all,
             out_path);
    if (json_is_true(json_object_get(result, "success"))) {
        set_result(w, 0, NULL);
    } else if (t->warn_only) {
        /* severity warn: the result is kept, the task and its dependants go on */
        log_line(log, "warning: suite '%s' failed (severity warn): %lld of %lld expectations passed",
                 t->text, ok, all);
        weir_warn("pipeline '%s': suite '%s' failed (severity warn): %lld of %lld expectations passed",
                  w->run->pl->name, t->text, ok, all);
        set_result(w, 0, "warning: suite '%s' failed: %lld of %lld expectations passed (see %s)",
                   t->text, ok, all, out_path);
    } else {
        /* the data fails the same way on a retry: fail for good, as a monitor
         * anomaly does; 'pipeline clear' reruns it once the data is mended */
        set_result(w, 3, "suite '%s' failed: %lld of %lld expectations passed (see %s)", t->text,
                   ok, all, out_path);
    }
cleanup:
    json_decref(result);
    json_decref(vars);
    weir_suite_free(suite);
    free(path);
    free(out_path);
    weir_buf_release(&target);
    weir_buf_release(&msg);
    weir_diags_release(&diags);
    weir_error_release(&err);
}

/*
 * A monitor task: counts the table's rows for the run's ds (by the date
 * column its monitors/ entry names) and in total, records both series in
 * the store, and checks the day against its forecast. An anomaly with
 * on_anomaly: fail fails the task for good (the data will not change on a
 * retry); a warning is logged and the task succeeds.
 */
static void run_monitor(worker *w, const weir_task_spec *t, FILE *log)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_monitor_task_result res;
    weir_date ds;
    memset(&res, 0, sizeof(res));
    if (!w->conn) {
        set_result(w, 3, "no warehouse: monitor tasks need the project's warehouse");
        goto cleanup;
    }
    if (weir_date_parse(w->run->vars.ds, &ds)) {
        set_result(w, 3, "bad run date '%s'", w->run->vars.ds);
        goto cleanup;
    }
    weir_monitor_config_load(w->x->project, &cfg, &diags);
    for (size_t i = 0; i < diags.list.len; i++) {
        weir_buf m = WEIR_BUF_INIT;
        weir_diag_format(&diags.list.items[i], &m);
        log_line(log, "%s", m.ptr);
        weir_buf_release(&m);
    }
    if (!w->store && weir_store_open(weir_store_path(w->x->store), NULL, &w->store, &err)) {
        set_result(w, 1, "monitor of '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    if (weir_monitor_task_run(w->conn, w->store, &cfg, t->text, NULL, ds, &res, &err)) {
        set_result(w, 1, "monitor of '%s': %s", t->text, weir_error_str(&err));
        goto cleanup;
    }
    log_line(log, "monitor of '%s': %s", t->text, res.message ? res.message : "recorded");
    if (res.failed)
        set_result(w, 3, "monitor of '%s': %s", t->text, res.message ? res.message : "anomaly");
    else
        set_result(w, 0, NULL);
cleanup:
    free(res.message);
    weir_monitor_config_release(&cfg);
    weir_diags_release(&diags);
    weir_error_release(&err);
}

/* "2024-03-31T00:00:00+02:00" -> "2024-03-31 00:00:00" (local, naive). */
static void naive_local(const char *iso, char *out, size_t n)
{
    snprintf(out, n, "%.19s", iso);
    if (strlen(out) > 10 && out[10] == 'T')
        out[10] = ' ';
}

/*
 * A model task: builds its model (seed, snapshot) with the run's interval
 * as vars (var('ds'), var('ds_nodash'), var('ts'), var('data_interval_start'),
 * var('data_interval_end')), then the tests that follow it, on this worker's
 * connection (transform/'s weir_transform_build_node). A failure keeps the
 * previous table and can be retried; warnings are logged.
 */
static void run_models(worker *w, const weir_task_spec *t, FILE *log)
{
    const weir_interval_vars *v = &w->run->vars;
    weir_transform *tf = w->run->pl->transform;
    weir_error err = WEIR_ERROR_INIT;
    weir_node_outcomes out = { WEIR_VEC_INIT, NULL };
    char ws[32], we[32];
    json_t *vars = NULL;
    int rc;
    if (!tf) {
        set_result(w, 3, "model tasks need the project's models, which this command did not load: "
                         "cannot build '%s'", t->text);
        goto cleanup;
    }
    if (!w->conn) {
        set_result(w, 3, "no warehouse: model tasks need the project's warehouse");
        goto cleanup;
    }
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ds", v->ds, "ds_nodash", v->ds_nodash, "ts",
                     v->ts, "data_interval_start", v->data_interval_start, "data_interval_end",
                     v->data_interval_end);
    naive_local(v->data_interval_start, ws, sizeof(ws));
    naive_local(v->data_interval_end, we, sizeof(we));
    rc = weir_transform_build_node(tf, w->conn, t->node, t->tests, t->n_tests, vars, ws, we, log,
                                   &out, &err);
    if (w->cancel == 2 && rc)
        set_result(w, 1, "stopped: weir is shutting down (the query was interrupted)");
    else if (w->cancel == 1 && rc)
        set_result(w, 1, "timed out after %.3gs: the query was interrupted",
                   t->timeout_ms / 1000.0);
    else if (rc == WEIR_ERROR && out.error)
        set_result(w, 1, "%s", out.error);
    else if (rc)
        set_result(w, 1, "%s", weir_error_str(&err));
    else {
        size_t warned = 0;
        for (size_t i = 0; i < out.list.len; i++)
            warned += !strcmp(out.list.items[i].status, "warn");
        if (warned)
            log_line(log, "%zu test%s warned (severity warn: reported, not failed)", warned,
                     warned == 1 ? "" : "s");
        set_result(w, 0, NULL);
    }
cleanup:
    json_decref(vars);
    weir_node_outcomes_release(&out);
    weir_error_release(&err);
}

static void run_sensor(worker *w, const weir_task_spec *t, FILE *log)
{
    int64_t start = weir_monotonic_us();
    weir_error err = WEIR_ERROR_INIT;
    int pokes = 0;
    for (;;) {
        int r = poke(w, t, &err);
        pokes++;
        if (r < 0) {
            log_line(log, "poke %d: error: %s", pokes, weir_error_str(&err));
            set_result(w, 1, "%s", weir_error_str(&err));
            break;
        }
        log_line(log, "poke %d: %s", pokes, r ? "condition met" : "not yet");
        if (r) {
            set_result(w, 0, NULL);
            break;
        }
        if (w->cancel == 2) {
            set_result(w, 1, "stopped: weir is shutting down");
            break;
        }
        if ((weir_monotonic_us() - start) / 1000 >= t->timeout_ms) {
            if (t->soft_fail)
                set_result(w, 2, "sensor timed out after %.3gs (soft_fail: skipped)",
                           t->timeout_ms / 1000.0);
            else
                set_result(w, 1, "sensor timed out after %.3gs", t->timeout_ms / 1000.0);
            break;
        }
        {
            int64_t left = t->timeout_ms - (weir_monotonic_us() - start) / 1000;
            nap(w, WEIR_MIN(t->poke_interval_ms, WEIR_MAX(left, 1)));
        }
    }
    weir_error_release(&err);
}


static void run_job(worker *w, deferred_log *dl)
{
    const weir_task_spec *t = &w->run->pl->tasks[w->task];
    FILE *log = NULL;
    if (w->log_path && t->kind == WEIR_TASK_SQL) {
        log = open_memstream(&dl->text, &dl->len);
        if (log)
            dl->path = weir_xstrdup(w->log_path);
    } else if (w->log_path) {
        log = fopen(w->log_path, "w"); /* its folder was made when the run was admitted */
    }
    log_line(log, "task '%s' (%s) of pipeline '%s', ds %s, attempt %d", t->id,
             weir_task_kind_name(t->kind), w->run->pl->name, w->run->vars.ds, w->try_number);
    w->start_us = weir_monotonic_us();
    switch (t->kind) {
    case WEIR_TASK_RUN:
        run_shell(w, t, log);
        break;
    case WEIR_TASK_SQL:
        run_sql(w, t, log);
        break;
    case WEIR_TASK_SENSOR_TABLE:
    case WEIR_TASK_SENSOR_FILE:
    case WEIR_TASK_SENSOR_SQL:
    case WEIR_TASK_SENSOR_PIPELINE:
        run_sensor(w, t, log);
        break;
    case WEIR_TASK_INGEST:
        set_result(w, 3, "ingest tasks are not available in this build (the ingest module is not "
                         "wired in yet): cannot load '%s'", t->text);
        break;
    case WEIR_TASK_MODELS:
        run_models(w, t, log);
        break;
    case WEIR_TASK_EXPECTATION:
        run_expectation(w, t, log);
        break;
    case WEIR_TASK_MONITOR:
        run_monitor(w, t, log);
        break;
    }
    w->end_us = weir_monotonic_us();
    w->work_us = w->end_us - w->start_us;
    log_line(log, "%s%s%s (%.3f s)", w->result_rc == 0 ? "success" : w->result_rc == 2 ? "skipped" : "failed",
             w->result_error ? ": " : "", w->result_error ? w->result_error : "",
             w->work_us / 1e6);
    if (log)
        fclose(log);
}

static void *log_main(void *arg)
{
    weir_exec *x = arg;
    pthread_mutex_lock(&x->log_mu);
    for (;;) {
        while (!x->logs.len && !x->log_quit)
            pthread_cond_wait(&x->log_cv, &x->log_mu);
        if (!x->logs.len && x->log_quit)
            break;
        deferred_log dl = x->logs.items[0];
        memmove(x->logs.items, x->logs.items + 1, (x->logs.len - 1) * sizeof(dl));
        x->logs.len--;
        pthread_mutex_unlock(&x->log_mu);
        FILE *f = fopen(dl.path, "w");
        if (f) {
            fwrite(dl.text, 1, dl.len, f);
            fclose(f);
        }
        free(dl.path);
        free(dl.text);
        pthread_mutex_lock(&x->log_mu);
    }
    pthread_mutex_unlock(&x->log_mu);
    return NULL;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    weir_exec *x = w->x;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        while (!w->has_job && !w->quit)
            pthread_cond_wait(&w->cv, &x->mu);
        if (w->quit && !w->has_job)
            break;
        deferred_log dl = { NULL, NULL, 0 };
        w->has_job = 0;
        pthread_mutex_unlock(&x->mu);
        run_job(w, &dl);
        pthread_mutex_lock(&x->mu);
        weir_vec_push(&x->finished, w);
        pthread_cond_signal(&x->done_cv);
        if (dl.path) {
            pthread_mutex_lock(&x->log_mu);
            weir_vec_push(&x->logs, dl);
            pthread_cond_signal(&x->log_cv);
            pthread_mutex_unlock(&x->log_mu);
        }
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* --- the owner's side ---------------------------------------------------- */

int weir_exec_new(const weir_project *p, weir_store *store, weir_engine *engine,
                  const weir_exec_options *opts, weir_exec **out, weir_error *err)
{
    weir_exec *x = weir_xcalloc(1, sizeof(*x));
    weir_buf b = WEIR_BUF_INIT;
    int rc = 0;
    *out = NULL;
    x->project = p;
    x->project_dir = p ? p->dir : ".";
    x->store = store;
    x->engine = engine;
    if (opts)
        x->opts = *opts;
    if (x->opts.workers <= 0)
        x->opts.workers = 4;
    if (x->opts.heartbeat_ms <= 0)
        x->opts.heartbeat_ms = 5000;
    if (x->opts.log_dir)
        weir_buf_adds(&b, x->opts.log_dir);
    else
        weir_path_join(&b, x->project_dir, ".weir/logs");
    x->log_dir = weir_buf_detach(&b, NULL);
    x->seed = (unsigned)getpid() ^ (unsigned)weir_monotonic_us();
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->done_cv, NULL);
    pthread_mutex_init(&x->log_mu, NULL);
    pthread_cond_init(&x->log_cv, NULL);
    if (pthread_create(&x->log_th, NULL, log_main, x) == 0)
        x->log_started = 1;
    x->last_heartbeat_us = weir_monotonic_us();
    if ((rc = prepare(x, err)))
        goto fail;
    x->workers = weir_xcalloc((size_t)x->opts.workers, sizeof(worker));
    for (int i = 0; i < x->opts.workers; i++) {
        worker *w = &x->workers[i];
        w->x = x;
        pthread_cond_init(&w->cv, NULL);
        if (engine && (rc = weir_conn_new(engine, &w->conn, err)))
            goto fail;
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            rc = weir_error_set(err, WEIR_ERROR, "cannot start a worker thread");
            weir_conn_free(w->conn);
            w->conn = NULL;
            goto fail;
        }
        x->n_workers++;
    }
    *out = x;
    return 0;
fail:
    weir_exec_free(x);
    return rc;
}

static xpipe *pipe_for(weir_exec *x, const weir_pipeline *pl, weir_error *err)
{
    xpipe *xp;
    for (size_t i = 0; i < x->pipes.len; i++)
        if (x->pipes.items[i]->pl == pl)
            return x->pipes.items[i];
    xp = weir_xcalloc(1, sizeof(*xp));
    xp->pl = pl;
    if (weir_state_pipeline_sync(x->store, pl, &xp->id, NULL, err)) {
        free(xp);
        return NULL;
    }
    weir_vec_push(&x->pipes, xp);
    return xp;
}

int weir_exec_add_run(weir_exec *x, const weir_pipeline *pl, const weir_interval *iv,
                      const char *kind, unsigned flags, int64_t *run_id, weir_error *err)
{
    weir_store_stmt *st = NULL;
    char key[64], tsbuf[WEIR_TS_STRLEN];
    xrun *run = NULL;
    xpipe *xp;
    int rc;

    if ((rc = tx(x, err)))
        return rc;
    if (!(xp = pipe_for(x, pl, err))) {
        rc = WEIR_ERROR;
        goto cleanup;
    }
    run = weir_xcalloc(1, sizeof(*run));
    run->pipe = xp;
    run->pl = pl;
    run->iv = *iv;
    weir_schedule_vars(&pl->schedule, iv, &run->vars);
    run->tis = weir_xcalloc(pl->n_tasks ? pl->n_tasks : 1, sizeof(xti));
    snprintf(key, sizeof(key), "interval__%s", weir_ts_format(iv->start, tsbuf));

    for (size_t i = 0; i < x->runs.len; i++)
        if (x->runs.items[i]->pl == pl && x->runs.items[i]->iv.start == iv->start &&
            !x->runs.items[i]->done) {
            rc = weir_error_set(err, WEIR_EEXISTS, "the run of %s is already in flight",
                                run->vars.ds);
            goto cleanup;
        }

    if ((rc = weir_store_prepare(x->store,
                                 "SELECT id, state FROM runs WHERE pipeline_id = ?1 AND run_key = ?2",
                                 &st, err)))
        goto cleanup;
    weir_store_bind_int(st, 1, xp->id, NULL);
    weir_store_bind_text(st, 2, key, NULL);
    rc = weir_store_step(st, err);
    if (rc < 0)
        goto cleanup;
    if (rc == 1) {
        const char *state = weir_store_col_text(st, 1);
        run->id = weir_store_col_int(st, 0);
        if (!strcmp(state, "success") && !(flags & WEIR_EXEC_RERUN)) {
            rc = WEIR_EEXISTS;
            goto cleanup;
        }
        /* a rolled-back run lost its data: every task runs again */
        if (!strcmp(state, "cancelled"))
            flags |= WEIR_EXEC_RERUN;
        weir_store_stmt_free(st);
        st = NULL;
        if ((rc = weir_store_prepare(
                 x->store,
                 (flags & WEIR_EXEC_RERUN)
                     ? "UPDATE task_instances SET state = 'none', error = NULL, next_try_at = NULL,"
                       " max_tries = try_number + 1 + ?2 WHERE run_id = ?1"
                     : "UPDATE task_instances SET state = 'none', error = NULL, next_try_at = NULL,"
                       " max_tries = try_number + 1 + ?2 WHERE run_id = ?1 AND state NOT IN "
                       "('success', 'skipped')",
                 &st, err)))
            goto cleanup;
        /* per-task retries are applied below when the rows are read */
        weir_store_bind_int(st, 1, run->id, NULL);
        weir_store_bind_int(st, 2, 0, NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
        weir_store_stmt_free(st);
        st = NULL;
        if ((rc = weir_store_prepare(x->store,
                                     "UPDATE runs SET state = 'queued', ended_at = NULL, pid = ?2,"
                                     " hostname = ?3 WHERE id = ?1",
                                     &st, err)))
            goto cleanup;
        weir_store_bind_int(st, 1, run->id, NULL);
        weir_store_bind_int(st, 2, getpid(), NULL);
        weir_store_bind_text(st, 3, weir_state_hostname(), NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
    } else {
        weir_store_stmt_free(st);
        st = NULL;
        if ((rc = weir_store_prepare(x->store,
                                     "INSERT INTO runs (pipeline_id, run_key, kind, ds, "
                                     "interval_start, interval_end, state, created_at, pid, "
                                     "hostname) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9)",
                                     &st, err)))
            goto cleanup;
        weir_store_bind_int(st, 1, xp->id, NULL);
        weir_store_bind_text(st, 2, key, NULL);
        weir_store_bind_text(st, 3, kind, NULL);
        weir_store_bind_text(st, 4, run->vars.ds, NULL);
        weir_store_bind_ts(st, 5, iv->start, NULL);
        weir_store_bind_ts(st, 6, iv->end, NULL);
        weir_store_bind_ts(st, 7, weir_ts_now(), NULL);
        weir_store_bind_int(st, 8, getpid(), NULL);
        weir_store_bind_text(st, 9, weir_state_hostname(), NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
        run->id = weir_store_last_insert_id(x->store);
    }
    weir_store_stmt_free(st);
    st = NULL;
    /* every task has its instance; read them back */
    if ((rc = weir_store_prepare(x->store,
                                 "INSERT INTO task_instances (run_id, task_id, max_tries) VALUES "
                                 "(?1, ?2, ?3) ON CONFLICT (run_id, task_id) DO NOTHING",
                                 &st, err)))
        goto cleanup;
    for (size_t i = 0; i < pl->n_tasks; i++) {
        weir_store_reset(st);
        weir_store_bind_int(st, 1, run->id, NULL);
        weir_store_bind_text(st, 2, pl->tasks[i].id, NULL);
        weir_store_bind_int(st, 3, pl->tasks[i].retries + 1, NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
    }
    weir_store_stmt_free(st);
    st = NULL;
    if ((rc = weir_store_prepare(x->store,
                                 "SELECT id, task_id, state, try_number, max_tries FROM "
                                 "task_instances WHERE run_id = ?1",
                                 &st, err)))
        goto cleanup;
    weir_store_bind_int(st, 1, run->id, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        long i = weir_pipeline_task_index(pl, weir_store_col_text(st, 1));
        int s;
        xti *t;
        if (i < 0)
            continue;
        t = &run->tis[i];
        t->id = weir_store_col_int(st, 0);
        s = weir_ti_state_parse(weir_store_col_text(st, 2));
        t->try_number = (int)weir_store_col_int(st, 3);
        t->max_tries = (int)weir_store_col_int(st, 4);
        t->state = s == WEIR_TI_SUCCESS || s == WEIR_TI_SKIPPED ? (weir_ti_state)s : WEIR_TI_NONE;
        if (t->state == WEIR_TI_NONE && t->max_tries < t->try_number + 1)
            t->max_tries = t->try_number + 1;
        if (t->state == WEIR_TI_NONE && s == WEIR_TI_NONE && t->try_number > 0)
            t->max_tries = WEIR_MAX(t->max_tries, t->try_number + 1 + pl->tasks[i].retries);
        if (weir_ti_state_is_terminal(t->state))
            run->n_terminal++;
    }
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (run_id)
        *run_id = run->id;
    weir_vec_push(&x->runs, run);
    x->stats.runs_added++;
    run = NULL;
cleanup:
    weir_store_stmt_free(st);
    if (run) {
        free(run->tis);
        free(run);
    }
    if (rc < 0 && rc != WEIR_EEXISTS) {
        weir_store_rollback(x->store, NULL);
        x->in_tx = 0;
    }
    return rc;
}

static void emit(weir_exec *x, weir_exec_event_kind kind, xrun *r, const char *task,
                 const char *state, const char *error, int64_t dur)
{
    weir_exec_event ev = { kind, r->pl->name, r->vars.ds, task, state, error, dur };
    if (x->opts.on_event)
        x->opts.on_event(x->opts.event_data, &ev);
}

static int finish_run(weir_exec *x, xrun *r, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc;
    r->failed = 0;
    for (size_t i = 0; i < r->pl->n_tasks; i++)
        if (r->tis[i].state == WEIR_TI_FAILED || r->tis[i].state == WEIR_TI_UPSTREAM_FAILED)
            r->failed = 1;
    r->done = 1;
    if (r->admitted)
        r->pipe->active_runs--;
    x->stats.runs_done++;
    if (r->failed)
        x->stats.runs_failed++;
    if ((rc = tx(x, err)) ||
        (rc = weir_store_prepare(x->store,
                                 "UPDATE runs SET state = ?1, ended_at = ?2, pid = NULL, "
                                 "started_at = COALESCE(started_at, ?2) WHERE id = ?3",
                                 &st, err)))
        return rc;
    weir_store_bind_text(st, 1, r->failed ? "failed" : "success", NULL);
    weir_store_bind_ts(st, 2, weir_ts_now(), NULL);
    weir_store_bind_int(st, 3, r->id, NULL);
    rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    emit(x, WEIR_EXEC_RUN_DONE, r, NULL, r->failed ? "failed" : "success", NULL,
         r->started_us ? weir_monotonic_us() - r->started_us : 0);
    return rc < 0 ? rc : 0;
}

static int consider(weir_exec *x, xrun *r, size_t i, weir_error *err);

/* A terminal state for instance i without running it, and what follows. */
static int settle(weir_exec *x, xrun *r, size_t i, weir_ti_state s, const char *why,
                  weir_error *err)
{
    xti *t = &r->tis[i];
    const weir_task_spec *spec = &r->pl->tasks[i];
    if (set_state(x, t, s, why, 0, err))
        return WEIR_ERROR;
    t->end_us = weir_monotonic_us();
    r->n_terminal++;
    x->stats.tasks_done++;
    emit(x, WEIR_EXEC_TASK_DONE, r, spec->id, weir_ti_state_name(s), why, 0);
    for (size_t k = 0; k < spec->n_down; k++)
        if (consider(x, r, spec->down[k], err))
            return WEIR_ERROR;
    /* depends_on_past: the next interval's instance may be waiting on this one */
    if (spec->depends_on_past)
        for (size_t q = 0; q < x->runs.len; q++) {
            xrun *o = x->runs.items[q];
            if (o != r && o->pl == r->pl && !o->done && o->admitted && o->iv.start == r->iv.end)
                if (consider(x, o, i, err))
                    return WEIR_ERROR;
        }
    if (r->n_terminal == r->pl->n_tasks && !r->done)
        return finish_run(x, r, err);
    return 0;
}

/* The state of the previous interval's instance of task i, or -1 when there
 * is no previous run; -2 while it is still in flight here. */
static int past_state(weir_exec *x, xrun *r, size_t i, weir_error *err)
{
    weir_ts prev;
    weir_store_stmt *st = NULL;
    char buf[WEIR_TS_STRLEN];
    int rc;
    if (weir_cron_prev(&r->pl->schedule.cron, r->pl->schedule.tz, r->iv.start - 1, &prev))
        return -1;
    for (size_t q = 0; q < x->runs.len; q++) {
        xrun *o = x->runs.items[q];
        if (o->pl == r->pl && o->iv.start == prev && !o->done) {
            xti *t = &o->tis[i];
            return weir_ti_state_is_terminal(t->state) ? (int)t->state : -2;
        }
    }
    snprintf(buf, sizeof(buf), "interval__%s", weir_ts_format(prev, buf));
    if (weir_store_prepare(x->store,
                           "SELECT ti.state FROM task_instances ti JOIN runs r ON r.id = ti.run_id "
                           "WHERE r.pipeline_id = ?1 AND r.run_key = ?2 AND ti.task_id = ?3",
                           &st, err))
        return WEIR_ERROR - 100;
    weir_store_bind_int(st, 1, r->pipe->id, NULL);
    weir_store_bind_text(st, 2, buf, NULL);
    weir_store_bind_text(st, 3, r->pl->tasks[i].id, NULL);
    rc = weir_store_step(st, err);
    rc = rc == 1 ? weir_ti_state_parse(weir_store_col_text(st, 0)) : rc == 0 ? -1 : WEIR_ERROR - 100;
    weir_store_stmt_free(st);
    return rc;
}

/* Puts instance i in the ready queue, settles it, or leaves it waiting. */
static int consider(weir_exec *x, xrun *r, size_t i, weir_error *err)
{
    xti *t = &r->tis[i];
    const weir_task_spec *spec = &r->pl->tasks[i];
    size_t done = 0, bad = 0, skipped = 0;
    if (!r->admitted || r->done || t->ready || t->w)
        return 0;
    if (t->state != WEIR_TI_NONE && t->state != WEIR_TI_UP_FOR_RETRY)
        return 0;
    for (size_t k = 0; k < spec->n_up; k++) {
        weir_ti_state s = r->tis[spec->up[k]].state;
        if (!weir_ti_state_is_terminal(s))
            continue;
        done++;
        bad += s == WEIR_TI_FAILED || s == WEIR_TI_UPSTREAM_FAILED;
        skipped += s == WEIR_TI_SKIPPED;
    }
    switch (spec->trigger) {
    case WEIR_TRIGGER_ALL_SUCCESS:
        if (bad)
            return settle(x, r, i, WEIR_TI_UPSTREAM_FAILED, "an upstream task failed", err);
        if (done < spec->n_up)
            return 0;
        if (skipped)
            return settle(x, r, i, WEIR_TI_SKIPPED, "an upstream task was skipped", err);
        break;
    case WEIR_TRIGGER_ALL_DONE:
        if (done < spec->n_up)
            return 0;
        break;
    case WEIR_TRIGGER_ONE_FAILED:
        if (!bad) {
            if (done < spec->n_up)
                return 0;
            return settle(x, r, i, WEIR_TI_SKIPPED, "no upstream task failed (one_failed)", err);
        }
        break;
    }
    if (spec->depends_on_past) {
        int ps = past_state(x, r, i, err);
        if (ps < -2)
            return WEIR_ERROR;
        if (ps == -2)
            return 0;
        if (ps >= 0 && ps != WEIR_TI_SUCCESS && ps != WEIR_TI_SKIPPED) {
            char why[200];
            snprintf(why, sizeof(why),
                     "depends_on_past: the previous interval's '%s' is %s, not success", spec->id,
                     weir_ti_state_name((weir_ti_state)ps));
            return settle(x, r, i, WEIR_TI_UPSTREAM_FAILED, why, err);
        }
    }
    if (t->state == WEIR_TI_UP_FOR_RETRY && t->due_us > weir_monotonic_us())
        return 0; /* the timer picks it up */
    t->ready = 1;
    weir_vec_push(&x->ready, ((readyq){ r, i }));
    return 0;
}

static int admit(weir_exec *x, weir_error *err)
{
    for (size_t q = 0; q < x->runs.len; q++) {
        xrun *r = x->runs.items[q];
        weir_store_stmt *st = NULL;
        if (r->admitted || r->done || r->pipe->active_runs >= r->pl->max_active_runs)
            continue;
        r->admitted = 1;
        r->pipe->active_runs++;
        {
            /* one folder per run holds its attempts' logs */
            weir_buf dir = WEIR_BUF_INIT;
            weir_buf_addf(&dir, "%s/%s/%s", x->log_dir, r->pl->name, r->vars.ds);
            weir_fs_mkdir_p(dir.ptr, NULL);
            weir_buf_release(&dir);
        }
        r->started_us = weir_monotonic_us();
        if (tx(x, err) ||
            weir_store_prepare(x->store,
                               "UPDATE runs SET state = 'running', started_at = "
                               "COALESCE(started_at, ?2), pid = ?3, hostname = ?4 WHERE id = ?1",
                               &st, err))
            return WEIR_ERROR;
        weir_store_bind_int(st, 1, r->id, NULL);
        weir_store_bind_ts(st, 2, weir_ts_now(), NULL);
        weir_store_bind_int(st, 3, getpid(), NULL);
        weir_store_bind_text(st, 4, weir_state_hostname(), NULL);
        if (weir_store_step(st, err) < 0) {
            weir_store_stmt_free(st);
            return WEIR_ERROR;
        }
        weir_store_stmt_free(st);
        emit(x, WEIR_EXEC_RUN_STARTED, r, NULL, "running", NULL, 0);
        if (r->n_terminal == r->pl->n_tasks) {
            if (finish_run(x, r, err))
                return WEIR_ERROR;
            continue;
        }
        for (size_t i = 0; i < r->pl->n_tasks; i++)
            if (consider(x, r, i, err))
                return WEIR_ERROR;
    }
    return 0;
}

static worker *idle_worker(weir_exec *x)
{
    for (int i = 0; i < x->n_workers; i++)
        if (!x->workers[i].busy)
            return &x->workers[i];
    return NULL;
}

static int dispatch(weir_exec *x, weir_error *err)
{
    size_t kept = 0;
    for (size_t q = 0; q < x->ready.len; q++) {
        readyq rq = x->ready.items[q];
        xrun *r = rq.run;
        xti *t = &r->tis[rq.task];
        const weir_task_spec *spec = &r->pl->tasks[rq.task];
        worker *w;
        weir_buf path = WEIR_BUF_INIT;
        weir_ts now;
        if (r->pipe->running_tasks >= r->pl->concurrency || !(w = idle_worker(x))) {
            /* ready but waiting for a worker or a concurrency slot: queued */
            if (t->state != WEIR_TI_QUEUED && set_state(x, t, WEIR_TI_QUEUED, NULL, 0, err))
                return WEIR_ERROR;
            x->ready.items[kept++] = rq;
            continue;
        }
        t->ready = 0;
        t->try_number++;
        if (t->max_tries < t->try_number)
            t->max_tries = t->try_number;
        weir_buf_addf(&path, "%s/%s/%s/%s.%d.log", x->log_dir, r->pl->name, r->vars.ds,
                      spec->id, t->try_number);
        now = weir_ts_now();
        if (tx(x, err))
            return WEIR_ERROR;
        weir_store_bind_int(x->st_start, 1, t->id, NULL);
        weir_store_bind_int(x->st_start, 2, t->try_number, NULL);
        weir_store_bind_text(x->st_start, 3, weir_state_hostname(), NULL);
        weir_store_bind_int(x->st_start, 4, getpid(), NULL);
        weir_store_bind_ts(x->st_start, 5, now, NULL);
        if (step_done(x->st_start, err))
            return WEIR_ERROR;
        weir_store_bind_int(x->st_attempt, 1, t->id, NULL);
        weir_store_bind_int(x->st_attempt, 2, t->try_number, NULL);
        weir_store_bind_text(x->st_attempt, 3, weir_state_hostname(), NULL);
        weir_store_bind_int(x->st_attempt, 4, getpid(), NULL);
        weir_store_bind_ts(x->st_attempt, 5, now, NULL);
        weir_store_bind_text(x->st_attempt, 6, path.ptr, NULL);
        if (weir_store_step(x->st_attempt, err) != 1) {
            weir_store_reset(x->st_attempt);
            return WEIR_ERROR;
        }
        t->attempt_id = weir_store_col_int(x->st_attempt, 0);
        weir_store_reset(x->st_attempt);
        t->state = WEIR_TI_RUNNING;
        t->timed_out = 0;
        t->deadline_us = (spec->kind == WEIR_TASK_SQL || spec->kind == WEIR_TASK_MODELS) &&
                                 spec->timeout_ms
                             ? weir_monotonic_us() + spec->timeout_ms * 1000
                             : 0;
        t->w = w;
        r->pipe->running_tasks++;
        x->stats.tasks_running++;
        pthread_mutex_lock(&x->mu);
        w->busy = 1;
        w->cancel = 0;
        w->avail_us = w->end_us;
        w->run = r;
        w->task = rq.task;
        w->try_number = t->try_number;
        free(w->log_path);
        w->log_path = weir_buf_detach(&path, NULL);
        w->has_job = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&x->mu);
    }
    x->ready.len = kept;
    return 0;
}

static int64_t retry_delay_ms(weir_exec *x, const weir_task_spec *spec, int try_number)
{
    double d = (double)spec->retry_delay_ms;
    for (int k = 1; k < try_number && d < 1e12; k++)
        d *= 2;
    if (spec->max_retry_delay_ms && d > (double)spec->max_retry_delay_ms)
        d = (double)spec->max_retry_delay_ms;
    d *= 0.9 + 0.2 * ((double)rand_r(&x->seed) / RAND_MAX);
    return (int64_t)d;
}

static int complete(weir_exec *x, worker *w, int stopping, weir_error *err)
{
    xrun *r = w->run;
    size_t i = w->task;
    xti *t = &r->tis[i];
    const weir_task_spec *spec = &r->pl->tasks[i];
    const char *att_state;
    int64_t gap_from = 0;
    char *error = w->result_error;
    int rc = w->result_rc;

    w->result_error = NULL;
    t->w = NULL;
    r->pipe->running_tasks--;
    x->stats.tasks_running--;
    x->stats.work_us += w->work_us;
    for (size_t k = 0; k < spec->n_up; k++)
        if (r->tis[spec->up[k]].end_us > gap_from)
            gap_from = r->tis[spec->up[k]].end_us;
    /* a dependant that waited for a free worker waited on the pool's size,
     * not on the scheduler: count from when both were ready */
    if (gap_from && w->avail_us > gap_from)
        gap_from = w->avail_us;
    if (gap_from && w->start_us > gap_from) {
        int64_t g = w->start_us - gap_from;
        x->stats.gap_us += g;
        x->stats.gaps++;
        if (g > x->stats.gap_max_us)
            x->stats.gap_max_us = g;
    }
    t->end_us = w->end_us;
    att_state = rc == 0 || rc == 2 ? "success" : stopping || w->cancel == 2 ? "killed" : "failed";
    if (tx(x, err))
        goto fail;
    weir_store_bind_text(x->st_att_end, 1, att_state, NULL);
    weir_store_bind_ts(x->st_att_end, 2, weir_ts_now(), NULL);
    weir_store_bind_text(x->st_att_end, 3, error, NULL);
    weir_store_bind_int(x->st_att_end, 4, t->attempt_id, NULL);
    if (step_done(x->st_att_end, err))
        goto fail;
    if (!strcmp(att_state, "killed")) {
        /* a shutdown does not use up a try */
        t->max_tries++;
        if (set_state(x, t, WEIR_TI_UP_FOR_RETRY, error, 0, err))
            goto fail;
        t->due_us = 0;
        free(error);
        return 0;
    }
    if (rc == 0 || rc == 2) {
        if (settle(x, r, i, rc == 0 ? WEIR_TI_SUCCESS : WEIR_TI_SKIPPED, rc ? error : NULL, err))
            goto fail;
        free(error);
        return 0;
    }
    /* a task this build cannot run would fail the same way on every try */
    if (t->try_number < t->max_tries && rc != 3) {
        int64_t delay = retry_delay_ms(x, spec, t->try_number);
        t->due_us = weir_monotonic_us() + delay * 1000;
        if (set_state(x, t, WEIR_TI_UP_FOR_RETRY, error, weir_ts_now() + delay * 1000, err))
            goto fail;
        emit(x, WEIR_EXEC_TASK_DONE, r, spec->id, "up_for_retry", error, w->work_us);
        free(error);
        return 0;
    }
    x->stats.tasks_failed++;
    if (r->pl->alert_stderr || (r->pl->alert_webhook && *r->pl->alert_webhook)) {
        weir_buf text = WEIR_BUF_INIT;
        weir_error aerr = WEIR_ERROR_INIT;
        weir_buf_addf(&text, "weir: task '%s' of pipeline '%s' failed for %s after %d attempt%s: %s",
                      spec->id, r->pl->name, r->vars.ds, t->try_number,
                      t->try_number == 1 ? "" : "s", error ? error : "unknown error");
        if (weir_alert_send(r->pl->alert_webhook, text.ptr, r->pl->alert_stderr, &aerr))
            weir_warn("cannot send the alert of pipeline '%s': %s", r->pl->name,
                      weir_error_str(&aerr));
        weir_error_release(&aerr);
        weir_buf_release(&text);
    }
    if (settle(x, r, i, WEIR_TI_FAILED, error, err))
        goto fail;
    free(error);
    return 0;
fail:
    free(error);
    return WEIR_ERROR;
}

static int heartbeat(weir_exec *x, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc;
    if (tx(x, err))
        return WEIR_ERROR;
    if ((rc = weir_store_prepare(x->store,
                                 "UPDATE task_instances SET heartbeat_at = ?1 WHERE state = "
                                 "'running' AND pid = ?2 AND hostname = ?3",
                                 &st, err)))
        return rc;
    weir_store_bind_ts(st, 1, weir_ts_now(), NULL);
    weir_store_bind_int(st, 2, getpid(), NULL);
    weir_store_bind_text(st, 3, weir_state_hostname(), NULL);
    rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

static void gc_runs(weir_exec *x)
{
    /* finished runs stay until none of their neighbours needs them; keep it
     * simple: drop finished runs when no run is in flight */
    size_t k = 0;
    int any = 0;
    for (size_t q = 0; q < x->runs.len; q++)
        any |= !x->runs.items[q]->done;
    if (any)
        return;
    for (size_t q = 0; q < x->runs.len; q++) {
        free(x->runs.items[q]->tis);
        free(x->runs.items[q]);
    }
    x->runs.len = k;
}

int weir_exec_step(weir_exec *x, int wait_ms, weir_error *err)
{
    int64_t now = weir_monotonic_us(), wake;
    int unfinished = 0;
    WEIR_VEC(worker *) got = WEIR_VEC_INIT;

    if (admit(x, err))
        goto fail;
    /* retries that are due, and SQL tasks past their deadline */
    wake = now + (int64_t)wait_ms * 1000;
    for (size_t q = 0; q < x->runs.len; q++) {
        xrun *r = x->runs.items[q];
        if (!r->admitted || r->done)
            continue;
        for (size_t i = 0; i < r->pl->n_tasks; i++) {
            xti *t = &r->tis[i];
            if (t->state == WEIR_TI_UP_FOR_RETRY && !t->ready) {
                if (t->due_us <= now) {
                    if (consider(x, r, i, err))
                        goto fail;
                } else if (t->due_us < wake) {
                    wake = t->due_us;
                }
            } else if (t->w && t->deadline_us) {
                if (t->deadline_us <= now && !t->timed_out) {
                    t->timed_out = 1;
                    t->w->cancel = 1;
                    weir_conn_interrupt(t->w->conn);
                } else if (t->deadline_us < wake) {
                    wake = t->deadline_us;
                }
            }
        }
    }
    if (dispatch(x, err))
        goto fail;
    if (now - x->last_heartbeat_us > (int64_t)x->opts.heartbeat_ms * 1000) {
        if (heartbeat(x, err))
            goto fail;
        x->last_heartbeat_us = now;
    }
    if (tx_commit(x, err))
        goto fail;

    for (size_t q = 0; q < x->runs.len; q++)
        unfinished |= !x->runs.items[q]->done;
    if (!unfinished && x->stats.tasks_running == 0) {
        gc_runs(x);
        return 0;
    }

    pthread_mutex_lock(&x->mu);
    if (!x->finished.len && wait_ms > 0 && (x->stats.tasks_running || wake > now)) {
        int64_t hb = x->last_heartbeat_us + (int64_t)x->opts.heartbeat_ms * 1000;
        int64_t until = WEIR_MIN(wake, hb);
        if (until > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + (until - now) * 1000;
            ts.tv_sec += (time_t)(ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&x->done_cv, &x->mu, &ts);
        }
    }
    got.items = x->finished.items;
    got.len = x->finished.len;
    got.cap = x->finished.cap;
    x->finished.items = NULL;
    x->finished.len = x->finished.cap = 0;
    pthread_mutex_unlock(&x->mu);

    for (size_t k = 0; k < got.len; k++) {
        worker *w = got.items[k];
        if (complete(x, w, 0, err))
            goto fail;
        pthread_mutex_lock(&x->mu);
        w->busy = 0;
        pthread_mutex_unlock(&x->mu);
    }
    weir_vec_release(&got);
    /* hand out what became ready at once: the gap a dependant waits */
    if (dispatch(x, err) || tx_commit(x, err))
        goto fail;
    return 1;
fail:
    weir_vec_release(&got);
    if (x->in_tx) {
        weir_store_rollback(x->store, NULL);
        x->in_tx = 0;
    }
    return WEIR_ERROR;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int weir_exec_run(weir_exec *x, weir_error *err)
{
    int64_t cpu0 = thread_cpu_us();
    int rc;
    while ((rc = weir_exec_step(x, 1000, err)) == 1)
        ;
    x->stats.owner_cpu_us += thread_cpu_us() - cpu0;
    return rc;
}

int weir_exec_stop(weir_exec *x, weir_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n_workers; i++)
        if (x->workers[i].busy) {
            x->workers[i].cancel = 2;
            weir_conn_interrupt(x->workers[i].conn);
        }
    pthread_mutex_unlock(&x->mu);
    while (x->stats.tasks_running) {
        WEIR_VEC(worker *) got = WEIR_VEC_INIT;
        pthread_mutex_lock(&x->mu);
        while (!x->finished.len)
            pthread_cond_wait(&x->done_cv, &x->mu);
        got.items = x->finished.items;
        got.len = x->finished.len;
        got.cap = x->finished.cap;
        x->finished.items = NULL;
        x->finished.len = x->finished.cap = 0;
        pthread_mutex_unlock(&x->mu);
        for (size_t k = 0; k < got.len; k++) {
            worker *w = got.items[k];
            if (rc == 0 && complete(x, w, 1, err))
                rc = WEIR_ERROR;
            pthread_mutex_lock(&x->mu);
            w->busy = 0;
            pthread_mutex_unlock(&x->mu);
        }
        weir_vec_release(&got);
    }
    /* instances waiting for a worker were never started: back to none */
    for (size_t q = 0; rc == 0 && q < x->ready.len; q++) {
        xti *t = &x->ready.items[q].run->tis[x->ready.items[q].task];
        t->ready = 0;
        if (t->state == WEIR_TI_QUEUED && set_state(x, t, WEIR_TI_NONE, NULL, 0, err))
            rc = WEIR_ERROR;
    }
    /* runs not finished go back to queued, for the next start to resume */
    for (size_t q = 0; rc == 0 && q < x->runs.len; q++) {
        xrun *r = x->runs.items[q];
        char sql[128];
        if (r->done)
            continue;
        snprintf(sql, sizeof(sql), "UPDATE runs SET state = 'queued', pid = NULL WHERE id = %" PRId64,
                 r->id);
        if (tx(x, err) || weir_store_exec(x->store, sql, err))
            rc = WEIR_ERROR;
        if (r->admitted)
            r->pipe->active_runs--;
        r->done = 1;
    }
    if (rc == 0)
        rc = tx_commit(x, err);
    else if (x->in_tx) {
        weir_store_rollback(x->store, NULL);
        x->in_tx = 0;
    }
    x->ready.len = 0;
    return rc;
}

void weir_exec_free(weir_exec *x)
{
    if (!x)
        return;
    if (x->stats.tasks_running)
        weir_exec_stop(x, NULL);
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n_workers; i++) {
        x->workers[i].quit = 1;
        pthread_cond_signal(&x->workers[i].cv);
    }
    pthread_mutex_unlock(&x->mu);
    for (int i = 0; i < x->n_workers; i++)
        pthread_join(x->workers[i].th, NULL);
    /* the logs still queued are written before the executor goes */
    pthread_mutex_lock(&x->log_mu);
    x->log_quit = 1;
    pthread_cond_signal(&x->log_cv);
    pthread_mutex_unlock(&x->log_mu);
    if (x->log_started)
        pthread_join(x->log_th, NULL);
    for (size_t i = 0; i < x->logs.len; i++) {
        free(x->logs.items[i].path);
        free(x->logs.items[i].text);
    }
    weir_vec_release(&x->logs);
    pthread_mutex_destroy(&x->log_mu);
    pthread_cond_destroy(&x->log_cv);
    for (int i = 0; x->workers && i < x->opts.workers; i++) {
        worker *w = &x->workers[i];
        weir_conn_free(w->conn);
        weir_store_free(w->store);
        free(w->log_path);
        free(w->result_error);
        pthread_cond_destroy(&w->cv);
    }
    free(x->workers);
    if (x->in_tx)
        weir_store_rollback(x->store, NULL);
    for (size_t q = 0; q < x->runs.len; q++) {
        free(x->runs.items[q]->tis);
        free(x->runs.items[q]);
    }
    weir_vec_release(&x->runs);
    for (size_t q = 0; q < x->pipes.len; q++)
        free(x->pipes.items[q]);
    weir_vec_release(&x->pipes);
    weir_vec_release(&x->ready);
    weir_vec_release(&x->finished);
    weir_store_stmt_free(x->st_start);
    weir_store_stmt_free(x->st_attempt);
    weir_store_stmt_free(x->st_end);
    weir_store_stmt_free(x->st_att_end);
    weir_store_stmt_free(x->st_state);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->done_cv);
    free(x->log_dir);
    free(x);
}

void weir_exec_get_stats(const weir_exec *x, weir_exec_stats *out)
{
    *out = x->stats;
    out->runs_active = 0;
    for (size_t q = 0; q < x->runs.len; q++)
        out->runs_active += x->runs.items[q]->admitted && !x->runs.items[q]->done;
}

size_t weir_exec_unfinished(const weir_exec *x, const char *name)
{
    size_t n = 0;
    for (size_t q = 0; q < x->runs.len; q++)
        n += !x->runs.items[q]->done && !strcmp(x->runs.items[q]->pl->name, name);
    return n;
}

int weir_exec_drop_run(weir_exec *x, int64_t run_id, weir_error *err)
{
    weir_store_stmt *st = NULL;
    xrun *r = NULL;
    int known = 0, opened = !x->in_tx, rc;
    for (size_t q = 0; q < x->runs.len; q++) {
        if (x->runs.items[q]->id != run_id)
            continue;
        known = 1;
        if (!x->runs.items[q]->done)
            r = x->runs.items[q];
    }
    if (!r)
        return known ? 0 : weir_error_set(err, WEIR_ENOTFOUND, "run %" PRId64 " is not in flight "
                                                               "here", run_id);
    /* admitted: its tasks may be running or handed to a worker; it finishes */
    if (r->admitted)
        return 0;
    /* not admitted: no instance of it is ready, queued or running (consider()
     * skips runs not admitted), and add_run left them none, success or skipped */
    if ((rc = tx(x, err)) ||
        (rc = weir_store_prepare(x->store,
                                 "UPDATE runs SET state = 'cancelled', ended_at = ?2, pid = NULL "
                                 "WHERE id = ?1",
                                 &st, err)))
        goto fail;
    weir_store_bind_int(st, 1, r->id, NULL);
    weir_store_bind_ts(st, 2, weir_ts_now(), NULL);
    rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    if (rc < 0 || (opened && (rc = tx_commit(x, err))))
        goto fail;
    r->done = 1;
    x->stats.runs_done++;
    emit(x, WEIR_EXEC_RUN_DONE, r, NULL, "cancelled", NULL, 0);
    return 1;
fail:
    if (x->in_tx) {
        weir_store_rollback(x->store, NULL);
        x->in_tx = 0;
    }
    return rc < 0 ? rc : WEIR_ERROR;
}
