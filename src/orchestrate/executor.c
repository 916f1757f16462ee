/*
 * executor.c: the scheduler loop of runs in flight and its worker pool (see
 * executor.h for the rules).
 *
 * The scheduling state (runs, instances, the ready queue) belongs to
 * whoever holds the scheduling token: the owner thread, except while it
 * waits in weir_exec_step ("parked"), when a worker that finishes a job may
 * take the token ("lead"): it records its job's end, hands out what became
 * ready and takes its own next job, with no thread woken on the way from a
 * task to its dependant. Jobs go to the pool through a queue holding up to
 * two a worker, so a finishing worker usually finds its next job waiting.
 * Every transition is appended to a journal that the owner thread alone
 * writes to the store, in order, in one transaction per batch: while parked
 * (waking every EXEC_SLICE_US while tasks run), and before any write of its
 * own. A log thread writes SQL tasks' logs, kept in memory, in batches.
 * The pool's queue, the events, the journal and the token are under x->mu.
 */
#include "core/compat.h"

#include <stdatomic.h>
#include <sys/resource.h>
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
    const weir_pipeline *pl; /* the newest object added under name */
    int64_t id;
    int active_runs;
    int running_tasks;
    char name[]; /* the pipeline's: an older pl may be freed (weir serve reloads) */
} xpipe;

typedef struct xti {
    weir_ti_state state;
    int64_t id;
    int try_number, max_tries;
    int64_t due_us;      /* up_for_retry: when it may run again (monotonic) */
    int64_t deadline_us; /* running: when it times out (monotonic); 0 none */
    int64_t end_us;      /* when it last finished (monotonic), for the gap */
    int ready;           /* in the ready queue */
    int timed_out;
    struct job *j;       /* handed to the pool: waiting for a worker or running */
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

/* A task instance's attempt handed to the worker pool. The owner creates it;
 * a worker takes it from the pool's queue, runs it and leaves its result in
 * it; the owner records its start (unless it did when handing it to an idle
 * worker) and its end, then frees it. Fields marked (mu) are shared. */
typedef struct job {
    xrun *run;
    size_t task;
    int try_number;
    char *log_path;
    int recorded;      /* owner: its running and attempt rows are written */
    int finished;      /* (mu) its result is here */
    int in_events;     /* (mu) in x->events */
    struct worker *w;  /* (mu) the worker running it, until it finishes */
    int cancel;        /* the worker's cancel flag when it finished */
    weir_ts started_at; /* wall clock, when the worker took it */
    int64_t taken_us;   /* the same, monotonic */
    int result_rc;     /* 0 success, 1 failed, 2 skipped, 3 failed for good (no retry) */
    char *result_error;
    int64_t start_us, end_us, work_us;
    int64_t avail_us;  /* when its worker became free for it: the end of its last job */
} job;

typedef struct worker {
    pthread_t th;
    struct weir_exec *x;
    weir_conn *conn;
    weir_store *store; /* opened on first use, for pipeline sensors */
    job *cur;          /* (mu) the job it runs */
    atomic_int cancel; /* 1: timed out, 2: stopped (set under mu while cur is the job) */
    /* the running job's, copied from it (the run functions read these) */
    xrun *run;
    size_t task;
    int try_number;
    const char *log_path;
    int result_rc;
    char *result_error;
    int64_t start_us, end_us, work_us;
} worker;

/* A SQL task's log, kept in memory and written by the log thread once the
 * result is handed back: creating a file is the costliest step of a trivial
 * task, and this takes it off the path between a task and its dependant.
 * (A crash can lose the logs not yet written; the attempts are recorded.) */
typedef struct deferred_log {
    char *path, *text;
    size_t len;
} deferred_log;

/* A transition to write to the store. Whoever holds the scheduling token
 * (the owner, or a worker leading) changes the state in memory and appends
 * the write to the journal; the owner thread applies the journal in order,
 * in one transaction, when it wakes (at most EXEC_SLICE_US after, while
 * tasks run) and before any other write of its own. The store thus always
 * holds a prefix of the transitions, as if each step committed a little
 * later; a task's success is still written only after its work committed. */
typedef enum { OP_START, OP_STATE, OP_ATT_END, OP_RUN_END } op_kind;
typedef struct op {
    op_kind kind;
    weir_ti_state state; /* OP_STATE */
    int try_number, max_tries;
    int64_t id;          /* the task instance; OP_RUN_END: the run */
    weir_ts at, next_try;
    const char *what;    /* OP_ATT_END: the attempt's state; OP_RUN_END: the run's */
    char *text;          /* the error; OP_START: the log's path */
} op;

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
    pthread_cond_t done_cv; /* the owner waits here for events */
    pthread_cond_t work_cv; /* idle workers wait here for jobs */
    worker *workers;
    int n_workers;
    /* under mu: the pool's queue of jobs not yet taken, the jobs with news
     * for the owner (taken or finished), the workers waiting for a job */
    WEIR_VEC(job *) jobs;
    WEIR_VEC(job *) events;
    int idle, quit;
    /* under mu: the scheduling token. The owner thread holds it except
     * while it waits in weir_exec_step (parked); then a worker that
     * finishes a job may take it (leader) and do the scheduling itself. */
    int parked;
    struct worker *leader;
    int leader_takes; /* the leader takes the queue's first job when it is done */
    pthread_cond_t lead_cv;
    int lead_failed, flush_failed;
    int owner_due; /* a leader did what the owner must see: a run ended, a retry is due later */
    int64_t lead_wake_us; /* the earliest deadline a leader set, for the parked owner (0 none) */
    weir_error lead_err, flush_err;
    WEIR_VEC(xpipe *) pipes;
    WEIR_VEC(xrun *) runs;
    WEIR_VEC(readyq) ready;
    int in_tx;
    WEIR_VEC(op) journal; /* under mu: transitions not yet written to the store */
    int64_t last_heartbeat_us;
    weir_exec_stats stats;
    unsigned seed;
    weir_store_stmt *st_start, *st_attempt, *st_att_end, *st_state, *st_run_end;
    /* the log thread and its queue, under log_mu */
    pthread_t log_th;
    int log_started, log_quit;
    pthread_mutex_t log_mu;
    pthread_cond_t log_cv;
    WEIR_VEC(deferred_log) logs;
};

/* --- store writes -------------------------------------------------------- */

static int step_done(weir_store_stmt *st, weir_error *err)
{
    int rc = weir_store_step(st, err);
    weir_store_reset(st);
    return rc < 0 ? rc : 0;
}

static void journal(weir_exec *x, op o, const char *text)
{
    o.text = text ? weir_xstrdup(text) : NULL;
    pthread_mutex_lock(&x->mu);
    weir_vec_push(&x->journal, o);
    pthread_mutex_unlock(&x->mu);
}

static int apply(weir_exec *x, const op *o, weir_error *err)
{
    weir_store_stmt *st;
    switch (o->kind) {
    case OP_START:
        st = x->st_start;
        weir_store_bind_int(st, 1, o->id, NULL);
        weir_store_bind_int(st, 2, o->try_number, NULL);
        weir_store_bind_text(st, 3, weir_state_hostname(), NULL);
        weir_store_bind_int(st, 4, getpid(), NULL);
        weir_store_bind_ts(st, 5, o->at, NULL);
        weir_store_bind_int(st, 6, o->max_tries, NULL);
        if (step_done(st, err))
            return WEIR_ERROR;
        st = x->st_attempt;
        weir_store_bind_int(st, 1, o->id, NULL);
        weir_store_bind_int(st, 2, o->try_number, NULL);
        weir_store_bind_text(st, 3, weir_state_hostname(), NULL);
        weir_store_bind_int(st, 4, getpid(), NULL);
        weir_store_bind_ts(st, 5, o->at, NULL);
        weir_store_bind_text(st, 6, o->text, NULL);
        return step_done(st, err);
    case OP_STATE:
        st = x->st_state;
        weir_store_bind_text(st, 1, weir_ti_state_name(o->state), NULL);
        weir_store_bind_text(st, 2, o->text, NULL);
        if (o->next_try)
            weir_store_bind_ts(st, 3, o->next_try, NULL);
        else
            weir_store_bind_null(st, 3, NULL);
        weir_store_bind_ts(st, 4, o->at, NULL);
        weir_store_bind_int(st, 5, o->max_tries, NULL);
        weir_store_bind_int(st, 6, o->id, NULL);
        return step_done(st, err);
    case OP_ATT_END:
        st = x->st_att_end;
        weir_store_bind_text(st, 1, o->what, NULL);
        weir_store_bind_ts(st, 2, o->at, NULL);
        weir_store_bind_text(st, 3, o->text, NULL);
        weir_store_bind_int(st, 4, o->id, NULL);
        weir_store_bind_int(st, 5, o->try_number, NULL);
        return step_done(st, err);
    case OP_RUN_END:
        st = x->st_run_end;
        weir_store_bind_text(st, 1, o->what, NULL);
        weir_store_bind_ts(st, 2, o->at, NULL);
        weir_store_bind_int(st, 3, o->id, NULL);
        return step_done(st, err);
    }
    return 0;
}

typedef struct op_ref {
    int64_t id;
    size_t at;
} op_ref;

static int op_ref_cmp(const void *a, const void *b)
{
    const op_ref *p = a, *q = b;
    if (p->id != q->id)
        return p->id < q->id ? -1 : 1;
    return p->at < q->at ? -1 : p->at > q->at;
}

/* Marks (skip) the state writes a later write of the same instance in the
 * same batch replaces whole (a 'queued' followed by its start, a state
 * followed by another): the batch commits at once, so nobody could have
 * seen them. */
static void compact(const op *ops, size_t n, unsigned char *skip)
{
    op_ref *refs = weir_xcalloc(n ? n : 1, sizeof(*refs));
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ops[i].kind == OP_STATE || ops[i].kind == OP_START)
            refs[m++] = (op_ref){ ops[i].id, i };
    qsort(refs, m, sizeof(*refs), op_ref_cmp);
    for (size_t i = 0; i + 1 < m; i++)
        if (refs[i].id == refs[i + 1].id && ops[refs[i].at].kind == OP_STATE)
            skip[refs[i].at] = 1;
    free(refs);
}

/* Writes the journal into the open transaction (owner thread). */
static int flush(weir_exec *x, weir_error *err)
{
    WEIR_VEC(op) ops = WEIR_VEC_INIT;
    int rc = 0;
    pthread_mutex_lock(&x->mu);
    ops.items = x->journal.items;
    ops.len = x->journal.len;
    ops.cap = x->journal.cap;
    x->journal.items = NULL;
    x->journal.len = x->journal.cap = 0;
    pthread_mutex_unlock(&x->mu);
    if (ops.len && !x->in_tx) {
        if (weir_store_begin(x->store, err))
            rc = WEIR_ERROR;
        else
            x->in_tx = 1;
    }
    unsigned char *skip = weir_xcalloc(ops.len ? ops.len : 1, 1);
    compact(ops.items, ops.len, skip);
    for (size_t i = 0; i < ops.len; i++) {
        if (rc == 0 && !skip[i] && apply(x, &ops.items[i], err))
            rc = WEIR_ERROR;
        free(ops.items[i].text);
    }
    free(skip);
    weir_vec_release(&ops);
    return rc;
}

/* Opens the owner's transaction for a write of its own, after the
 * journal's, which must come first. */
static int tx(weir_exec *x, weir_error *err)
{
    if (!x->in_tx) {
        if (weir_store_begin(x->store, err))
            return WEIR_ERROR;
        x->in_tx = 1;
    }
    return flush(x, err);
}

static int tx_commit(weir_exec *x, weir_error *err)
{
    if (flush(x, err))
        return WEIR_ERROR;
    if (!x->in_tx)
        return 0;
    x->in_tx = 0;
    return weir_store_commit(x->store, err);
}

/* Sets an instance's state, with its error and due time (ts, 0 none). */
static int set_state(weir_exec *x, xti *t, weir_ti_state s, const char *error, weir_ts next_try,
                     weir_error *err)
{
    (void)err;
    t->state = s;
    journal(x,
            (op){ .kind = OP_STATE, .state = s, .max_tries = t->max_tries, .id = t->id,
                  .at = weir_ts_now(), .next_try = next_try },
            error);
    return 0;
}

static int prepare(weir_exec *x, weir_error *err)
{
    if (weir_store_prepare(x->store,
                           "UPDATE task_instances SET state = 'running', try_number = ?2, "
                           "hostname = ?3, pid = ?4, started_at = ?5, heartbeat_at = ?5, "
                           "queued_at = COALESCE(queued_at, ?5), ended_at = NULL, error = NULL, "
                           "next_try_at = NULL, max_tries = ?6 WHERE id = ?1",
                           &x->st_start, err) ||
        weir_store_prepare(x->store,
                           "INSERT INTO task_attempts (task_instance_id, try_number, state, "
                           "hostname, pid, started_at, log_path) VALUES (?1, ?2, 'running', ?3, "
                           "?4, ?5, ?6) ON CONFLICT (task_instance_id, try_number) DO UPDATE SET "
                           "state = 'running', hostname = ?3, pid = ?4, started_at = ?5, "
                           "ended_at = NULL, error = NULL, log_path = ?6",
                           &x->st_attempt, err) ||
        weir_store_prepare(x->store,
                           "UPDATE task_instances SET state = ?1, error = ?2, next_try_at = ?3, "
                           "ended_at = ?4, max_tries = ?5, pid = NULL WHERE id = ?6",
                           &x->st_state, err) ||
        weir_store_prepare(x->store,
                           "UPDATE task_attempts SET state = ?1, ended_at = ?2, error = ?3 "
                           "WHERE task_instance_id = ?4 AND try_number = ?5",
                           &x->st_att_end, err) ||
        weir_store_prepare(x->store,
                           "UPDATE runs SET state = ?1, ended_at = ?2, pid = NULL, "
                           "started_at = COALESCE(started_at, ?2) WHERE id = ?3",
                           &x->st_run_end, err))
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
    weir_build_options bo = { NULL, NULL, NULL, NULL, NULL };
    char ws[32], we[32];
    const char *how;
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
    /* the cancel flag stops a build still waiting for its model's lock
     * (another interval building it), which no query interrupt reaches */
    bo.vars = vars;
    bo.window_start = ws;
    bo.window_end = we;
    bo.log = log;
    bo.cancel = &w->cancel;
    rc = weir_transform_build_node(tf, w->conn, t->node, t->tests, t->n_tests, &bo, &out, &err);
    how = rc == WEIR_EINTERRUPTED ? weir_error_str(&err) : "the query was interrupted";
    if (w->cancel == 2 && rc)
        set_result(w, 1, "stopped: weir is shutting down (%s)", how);
    else if (w->cancel == 1 && rc)
        set_result(w, 1, "timed out after %.3gs: %s", t->timeout_ms / 1000.0, how);
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

/* The log thread writes the logs kept in memory when LOG_BATCH of them
 * wait, or LOG_DELAY_MS after it last looked, at the lowest priority. */
#define LOG_BATCH 64
#define LOG_DELAY_MS 20

static void *log_main(void *arg)
{
    weir_exec *x = arg;
    /* lowest priority (Linux applies it to this thread alone): log files
     * are written behind, when the workers leave a CPU free */
    (void)setpriority(PRIO_PROCESS, 0, 19); /* on failure: the process's priority */
    pthread_mutex_lock(&x->log_mu);
    for (;;) {
        /* wakes in batches: a wake-up per task would take a CPU from the
         * workers right when a task ends */
        if (!x->log_quit && x->logs.len < LOG_BATCH) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += LOG_DELAY_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&x->log_cv, &x->log_mu, &ts);
        }
        if (!x->logs.len) {
            if (x->log_quit)
                break;
            continue;
        }
        deferred_log *batch = x->logs.items;
        size_t n = x->logs.len;
        x->logs.items = NULL;
        x->logs.len = x->logs.cap = 0;
        pthread_mutex_unlock(&x->log_mu);
        for (size_t i = 0; i < n; i++) {
            FILE *f = fopen(batch[i].path, "w");
            if (f) {
                fwrite(batch[i].text, 1, batch[i].len, f);
                fclose(f);
            }
            free(batch[i].path);
            free(batch[i].text);
        }
        free(batch);
        pthread_mutex_lock(&x->log_mu);
    }
    pthread_mutex_unlock(&x->log_mu);
    return NULL;
}

/* Hands the owner a job with news (mu held). A leader at work takes it;
 * otherwise the owner is woken. */
static void post_event(weir_exec *x, job *j)
{
    if (!j->in_events) {
        j->in_events = 1;
        weir_vec_push(&x->events, j);
    }
    if (!x->leader)
        pthread_cond_signal(&x->done_cv);
}

/* A worker takes a job from the pool's queue (mu held). */
static job *take_job(weir_exec *x, worker *w)
{
    job *j = x->jobs.items[0];
    memmove(x->jobs.items, x->jobs.items + 1, (x->jobs.len - 1) * sizeof(j));
    x->jobs.len--;
    j->w = w;
    j->avail_us = w->end_us;
    j->started_at = weir_ts_now();
    j->taken_us = weir_monotonic_us();
    w->cur = j;
    w->cancel = 0;
    w->run = j->run;
    w->task = j->task;
    w->try_number = j->try_number;
    w->log_path = j->log_path;
    return j;
}

static job *lead(weir_exec *x, worker *w, int want_job);

/* Whether worker w may take the scheduling token (mu held): the owner is
 * parked and nobody else leads. */
static int may_lead(const weir_exec *x)
{
    return x->parked && !x->leader && !x->lead_failed && !x->quit;
}

/* Hands the owner news of job j, or, when the owner is parked, records it
 * as leader (mu held). Returns the next job the leader took, if asked. */
static job *report(weir_exec *x, worker *w, job *j, int want_job)
{
    if (!may_lead(x)) {
        post_event(x, j);
        return NULL;
    }
    x->leader = w;
    x->leader_takes = want_job;
    if (!j->in_events) {
        j->in_events = 1;
        weir_vec_push(&x->events, j);
    }
    return lead(x, w, want_job);
}

/* A worker runs jobs from the pool's queue. When it finishes one it takes
 * the next at once; and when the owner thread is parked it does the
 * scheduling step itself (lead), so the dependant of the job it finished
 * starts without any thread being woken. Otherwise the owner records what
 * happened from its events. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    weir_exec *x = w->x;
    job *j = NULL;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        deferred_log dl = { NULL, NULL, 0 };
        if (!j) {
            while (!x->jobs.len && !x->quit) {
                x->idle++;
                pthread_cond_wait(&x->work_cv, &x->mu);
                x->idle--;
            }
            if (x->quit)
                break;
            j = take_job(x, w);
            if (!j->recorded) /* its start: recorded here when the owner is parked */
                report(x, w, j, 0);
        }
        pthread_mutex_unlock(&x->mu);
        run_job(w, &dl);
        pthread_mutex_lock(&x->mu);
        j->result_rc = w->result_rc;
        j->result_error = w->result_error;
        w->result_error = NULL;
        j->start_us = w->start_us;
        j->end_us = w->end_us;
        j->work_us = w->work_us;
        j->cancel = w->cancel;
        j->finished = 1;
        j->w = NULL;
        w->cur = NULL;
        if (dl.path) {
            pthread_mutex_lock(&x->log_mu);
            weir_vec_push(&x->logs, dl);
            if (x->logs.len >= LOG_BATCH)
                pthread_cond_signal(&x->log_cv);
            pthread_mutex_unlock(&x->log_mu);
        }
        j = report(x, w, j, 1);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* How long the parked owner sleeps at most while tasks run. */
#define EXEC_SLICE_US 2000

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
    pthread_cond_init(&x->work_cv, NULL);
    pthread_cond_init(&x->lead_cv, NULL);
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

/* The counters of pl's pipeline, by name: a server that reloads its files
 * has runs of two loads of one pipeline in flight, which share
 * max_active_runs and concurrency. */
static xpipe *pipe_for(weir_exec *x, const weir_pipeline *pl, weir_error *err)
{
    size_t n = strlen(pl->name);
    xpipe *xp;
    for (size_t i = 0; i < x->pipes.len; i++)
        if (!strcmp(x->pipes.items[i]->name, pl->name)) {
            x->pipes.items[i]->pl = pl;
            return x->pipes.items[i];
        }
    xp = weir_xcalloc(1, sizeof(*xp) + n + 1);
    memcpy(xp->name, pl->name, n + 1);
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
        if (x->runs.items[i]->pipe == xp && x->runs.items[i]->iv.start == iv->start &&
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
    (void)err;
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
    x->owner_due = 1;
    journal(x,
            (op){ .kind = OP_RUN_END, .id = r->id, .at = weir_ts_now(),
                  .what = r->failed ? "failed" : "success" },
            NULL);
    emit(x, WEIR_EXEC_RUN_DONE, r, NULL, r->failed ? "failed" : "success", NULL,
         r->started_us ? weir_monotonic_us() - r->started_us : 0);
    return 0;
}

static int consider(weir_exec *x, xrun *r, size_t i, weir_error *err);

/* Task i of run r in run o of the same pipeline, which may have been added
 * with another load of it (weir serve reloads edited pipelines): by id;
 * -1 when o's load has no such task. */
static long same_task(const xrun *o, const xrun *r, size_t i)
{
    if (o->pl == r->pl)
        return (long)i;
    return weir_pipeline_task_index(o->pl, r->pl->tasks[i].id);
}

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
            long k;
            if (o != r && o->pipe == r->pipe && !o->done && o->admitted &&
                o->iv.start == r->iv.end && (k = same_task(o, r, i)) >= 0)
                if (consider(x, o, (size_t)k, err))
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
    /* a run held here is the truth (its last transitions may not be
     * written yet); the newest of that interval when there are several */
    for (size_t q = x->runs.len; q-- > 0;) {
        xrun *o = x->runs.items[q];
        long k;
        if (o->pipe == r->pipe && o->iv.start == prev && (k = same_task(o, r, i)) >= 0) {
            xti *t = &o->tis[k];
            if (weir_ti_state_is_terminal(t->state))
                return (int)t->state;
            if (!o->done)
                return -2;
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
    if (!r->admitted || r->done || t->ready || t->j)
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

/* Writes that a job's attempt started (at wall time `at`, monotonic
 * `at_us`): the instance running, its attempt row, its deadline. */
static int record_start(weir_exec *x, job *j, weir_ts at, int64_t at_us, weir_error *err)
{
    xti *t = &j->run->tis[j->task];
    const weir_task_spec *spec = &j->run->pl->tasks[j->task];
    (void)err;
    journal(x,
            (op){ .kind = OP_START, .id = t->id, .try_number = j->try_number,
                  .max_tries = t->max_tries, .at = at },
            j->log_path);
    t->state = WEIR_TI_RUNNING;
    t->timed_out = 0;
    t->deadline_us =
        (spec->kind == WEIR_TASK_SQL || spec->kind == WEIR_TASK_MODELS) && spec->timeout_ms
            ? at_us + spec->timeout_ms * 1000
            : 0;
    j->recorded = 1;
    if (t->deadline_us) {
        /* the owner enforces it: a parked owner wakes for it */
        pthread_mutex_lock(&x->mu);
        if (!x->lead_wake_us || t->deadline_us < x->lead_wake_us)
            x->lead_wake_us = t->deadline_us;
        pthread_mutex_unlock(&x->mu);
    }
    return 0;
}

/* Hands ready instances to the pool. The pool holds up to two jobs a
 * worker (running or queued), so a worker that finishes finds its next job
 * waiting and starts it without a round trip through this thread. A job an
 * idle worker takes at once is recorded running now; one that waits in the
 * queue stays 'queued' in the store until a worker takes it, and is
 * recorded then (record_start, from the worker's event). */
static int dispatch(weir_exec *x, weir_error *err)
{
    size_t kept = 0;
    for (size_t q = 0; q < x->ready.len; q++) {
        readyq rq = x->ready.items[q];
        xrun *r = rq.run;
        xti *t = &r->tis[rq.task];
        const weir_task_spec *spec = &r->pl->tasks[rq.task];
        weir_buf path = WEIR_BUF_INIT;
        int direct;
        job *j;
        if (r->pipe->running_tasks >= r->pl->concurrency ||
            x->stats.tasks_running >= (size_t)x->n_workers * 2) {
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
        j = weir_xcalloc(1, sizeof(*j));
        j->run = r;
        j->task = rq.task;
        j->try_number = t->try_number;
        j->log_path = weir_buf_detach(&path, NULL);
        t->j = j;
        r->pipe->running_tasks++;
        x->stats.tasks_running++;
        pthread_mutex_lock(&x->mu);
        /* idle workers, and a leader, which takes the queue's first job */
        direct = x->idle + (x->leader && x->leader_takes) > (int)x->jobs.len;
        pthread_mutex_unlock(&x->mu);
        if (direct ? record_start(x, j, weir_ts_now(), weir_monotonic_us(), err)
                   : t->state != WEIR_TI_QUEUED && set_state(x, t, WEIR_TI_QUEUED, NULL, 0, err)) {
            /* not handed over: the caller rolls the transaction back */
            t->j = NULL;
            r->pipe->running_tasks--;
            x->stats.tasks_running--;
            free(j->log_path);
            free(j);
            return WEIR_ERROR;
        }
        pthread_mutex_lock(&x->mu);
        weir_vec_push(&x->jobs, j);
        if (!(x->leader && x->leader_takes) || x->jobs.len > 1) /* a leader keeps the first */
            pthread_cond_signal(&x->work_cv);
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

static int complete(weir_exec *x, job *j, int stopping, weir_error *err)
{
    xrun *r = j->run;
    size_t i = j->task;
    xti *t = &r->tis[i];
    const weir_task_spec *spec = &r->pl->tasks[i];
    const char *att_state;
    int64_t gap_from = 0;
    char *error = j->result_error;
    int rc = j->result_rc;

    j->result_error = NULL;
    t->j = NULL;
    r->pipe->running_tasks--;
    x->stats.tasks_running--;
    x->stats.work_us += j->work_us;
    for (size_t k = 0; k < spec->n_up; k++)
        if (r->tis[spec->up[k]].end_us > gap_from)
            gap_from = r->tis[spec->up[k]].end_us;
    /* a dependant that waited for a free worker waited on the pool's size,
     * not on the scheduler: count from when both were ready */
    if (gap_from && j->avail_us > gap_from)
        gap_from = j->avail_us;
    if (gap_from && j->start_us > gap_from) {
        int64_t g = j->start_us - gap_from;
        x->stats.gap_us += g;
        x->stats.gaps++;
        if (g > x->stats.gap_max_us)
            x->stats.gap_max_us = g;
    }
    t->end_us = j->end_us;
    att_state = rc == 0 || rc == 2 ? "success" : stopping || j->cancel == 2 ? "killed" : "failed";
    journal(x,
            (op){ .kind = OP_ATT_END, .id = t->id, .try_number = j->try_number,
                  .at = weir_ts_now(), .what = att_state },
            error);
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
        x->owner_due = 1; /* its timer is the owner's */
        if (set_state(x, t, WEIR_TI_UP_FOR_RETRY, error, weir_ts_now() + delay * 1000, err))
            goto fail;
        emit(x, WEIR_EXEC_TASK_DONE, r, spec->id, "up_for_retry", error, j->work_us);
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

/* A job's news, as it stood when the owner took it: a worker took it (every
 * job in x->events was), and maybe finished it. */
typedef struct news {
    job *j;
    int finished;
} news;
typedef WEIR_VEC(news) news_vec;

/* Takes the pool's events (mu held). */
static void take_events(weir_exec *x, news_vec *out)
{
    out->len = 0;
    for (size_t k = 0; k < x->events.len; k++) {
        job *j = x->events.items[k];
        j->in_events = 0;
        weir_vec_push(out, ((news){ j, j->finished }));
    }
    x->events.len = 0;
}

/* A job leaves the pool without its end being recorded (after a store
 * error, or when it never started). */
static void forget_job(weir_exec *x, job *j)
{
    j->run->tis[j->task].j = NULL;
    j->run->pipe->running_tasks--;
    x->stats.tasks_running--;
}

static void free_job(job *j)
{
    free(j->log_path);
    free(j->result_error);
    free(j);
}

/* Records the pool's news: starts of jobs taken from the queue, ends of
 * jobs finished (complete; the job is freed). Once rc is an error, jobs
 * are only accounted for, so that a shutdown can still drain the pool. */
static int handle_events(weir_exec *x, news_vec *got, int stopping, int rc, weir_error *err)
{
    for (size_t k = 0; k < got->len; k++) {
        job *j = got->items[k].j;
        if (rc == 0 && !j->recorded &&
            record_start(x, j, j->started_at, j->taken_us, err))
            rc = WEIR_ERROR;
        if (!got->items[k].finished)
            continue;
        if (rc == 0) {
            if (complete(x, j, stopping, err))
                rc = WEIR_ERROR;
        } else {
            forget_job(x, j);
        }
        free_job(j);
    }
    got->len = 0;
    return rc;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The scheduling step done by worker w, which holds the token (x->leader,
 * mu held on entry and return): records the events (its own news among
 * them: the job it finished, or the one it just took), hands out what
 * became ready, and, when want_job, takes its own next job, recorded
 * running. Its writes go to the journal, which the owner writes to the
 * store while it waits (within a slice). */
static job *lead(weir_exec *x, worker *w, int want_job)
{
    news_vec got = WEIR_VEC_INIT;
    int64_t cpu0 = thread_cpu_us();
    job *next = NULL;
    int rc = 0;
    while (x->events.len && rc == 0) {
        take_events(x, &got);
        pthread_mutex_unlock(&x->mu);
        rc = handle_events(x, &got, 0, 0, &x->lead_err);
        if (rc == 0)
            rc = dispatch(x, &x->lead_err);
        pthread_mutex_lock(&x->mu);
    }
    if (rc == 0 && want_job && x->jobs.len && !x->quit) {
        next = take_job(x, w);
        if (!next->recorded) {
            pthread_mutex_unlock(&x->mu);
            rc = record_start(x, next, next->started_at, next->taken_us, &x->lead_err);
            pthread_mutex_lock(&x->mu);
            if (rc)
                post_event(x, next); /* the owner will record it */
        }
    }
    weir_vec_release(&got);
    if (want_job) /* a task's end, not another's start */
        x->stats.led++;
    x->stats.owner_cpu_us += thread_cpu_us() - cpu0;
    if (rc) {
        x->lead_failed = 1;
        pthread_cond_signal(&x->done_cv);
    }
    x->leader = NULL;
    if (x->events.len || x->owner_due)
        pthread_cond_signal(&x->done_cv);
    pthread_cond_broadcast(&x->lead_cv);
    return next;
}

int weir_exec_step(weir_exec *x, int wait_ms, weir_error *err)
{
    int64_t now = weir_monotonic_us(), wake;
    int unfinished = 0;
    news_vec got = WEIR_VEC_INIT;

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
            } else if (t->j && t->j->recorded && t->deadline_us) {
                if (t->deadline_us <= now && !t->timed_out) {
                    t->timed_out = 1;
                    pthread_mutex_lock(&x->mu);
                    if (t->j->w) { /* still running: a finished one is not touched */
                        t->j->w->cancel = 1;
                        weir_conn_interrupt(t->j->w->conn);
                    }
                    pthread_mutex_unlock(&x->mu);
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
    if (!x->events.len && wait_ms > 0 && (x->stats.tasks_running || wake > now)) {
        int64_t hb = x->last_heartbeat_us + (int64_t)x->opts.heartbeat_ms * 1000;
        int64_t until = WEIR_MIN(wake, hb);
        /* parked: workers may lead. It wakes in slices while tasks run, to
         * commit what leaders wrote (so a transition is durable within a
         * slice) and to notice deadlines. */
        int sliced = x->stats.tasks_running > 0;
        x->parked = 1;
        for (;;) {
            int64_t t = weir_monotonic_us(), to = until;
            struct timespec ts;
            if (x->journal.len && !x->flush_failed) {
                /* what leaders did, written while they go on */
                pthread_mutex_unlock(&x->mu);
                int frc = tx_commit(x, &x->flush_err);
                pthread_mutex_lock(&x->mu);
                if (frc)
                    x->flush_failed = 1;
                continue;
            }
            if (to <= t || x->lead_failed || x->flush_failed || x->owner_due)
                break;
            if (x->events.len && !x->leader) /* a leader at work takes them */
                break;
            if (x->lead_wake_us && x->lead_wake_us < to) {
                to = x->lead_wake_us;
                if (to <= t)
                    break;
            }
            if (sliced && to > t + EXEC_SLICE_US)
                to = t + EXEC_SLICE_US;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + (to - t) * 1000;
            ts.tv_sec += (time_t)(ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            /* a leader may be at work meanwhile: only the journal is read
             * here, and the owner waits for it before it leaves */
            pthread_cond_timedwait(&x->done_cv, &x->mu, &ts);
        }
        while (x->leader)
            pthread_cond_wait(&x->lead_cv, &x->mu);
        x->parked = 0;
        x->owner_due = 0;
        x->lead_wake_us = 0; /* the step looks at every deadline */
    }
    if (x->lead_failed || x->flush_failed) {
        weir_error_move(err, x->lead_failed ? &x->lead_err : &x->flush_err);
        x->lead_failed = x->flush_failed = 0;
        pthread_mutex_unlock(&x->mu);
        goto fail;
    }
    take_events(x, &got);
    pthread_mutex_unlock(&x->mu);
    if (handle_events(x, &got, 0, 0, err))
        goto fail;
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
    news_vec got = WEIR_VEC_INIT;
    WEIR_VEC(job *) queued = WEIR_VEC_INIT;
    pthread_mutex_lock(&x->mu);
    /* jobs no worker took stay out; running ones are interrupted */
    queued.items = x->jobs.items;
    queued.len = x->jobs.len;
    queued.cap = x->jobs.cap;
    x->jobs.items = NULL;
    x->jobs.len = x->jobs.cap = 0;
    for (int i = 0; i < x->n_workers; i++)
        if (x->workers[i].cur) {
            x->workers[i].cancel = 2;
            weir_conn_interrupt(x->workers[i].conn);
        }
    pthread_mutex_unlock(&x->mu);
    for (size_t k = 0; k < queued.len; k++) {
        job *j = queued.items[k];
        xti *t = &j->run->tis[j->task];
        if (j->recorded) {
            /* recorded running when handed to an idle worker that had not
             * taken it yet: ends as a killed attempt, which uses no try */
            j->result_rc = 1;
            j->cancel = 2;
            if (rc == 0 && complete(x, j, 1, err))
                rc = WEIR_ERROR;
            else if (rc)
                forget_job(x, j);
        } else {
            forget_job(x, j);
            t->try_number--;
            if (rc == 0 && t->state == WEIR_TI_QUEUED &&
                set_state(x, t, WEIR_TI_NONE, NULL, 0, err))
                rc = WEIR_ERROR;
        }
        free_job(j);
    }
    weir_vec_release(&queued);
    while (x->stats.tasks_running) {
        pthread_mutex_lock(&x->mu);
        while (!x->events.len)
            pthread_cond_wait(&x->done_cv, &x->mu);
        take_events(x, &got);
        pthread_mutex_unlock(&x->mu);
        rc = handle_events(x, &got, 1, rc, err);
    }
    weir_vec_release(&got);
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
    x->quit = 1;
    pthread_cond_broadcast(&x->work_cv);
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
        free(w->result_error);
    }
    /* jobs left after a failed stop */
    for (size_t k = 0; k < x->jobs.len; k++)
        free_job(x->jobs.items[k]);
    for (size_t k = 0; k < x->events.len; k++)
        if (x->events.items[k]->finished)
            free_job(x->events.items[k]);
    weir_vec_release(&x->jobs);
    weir_vec_release(&x->events);
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
    weir_store_stmt_free(x->st_start);
    weir_store_stmt_free(x->st_attempt);
    weir_store_stmt_free(x->st_run_end);
    for (size_t k = 0; k < x->journal.len; k++)
        free(x->journal.items[k].text);
    weir_vec_release(&x->journal);
    weir_store_stmt_free(x->st_att_end);
    weir_store_stmt_free(x->st_state);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->done_cv);
    pthread_cond_destroy(&x->work_cv);
    pthread_cond_destroy(&x->lead_cv);
    weir_error_release(&x->lead_err);
    weir_error_release(&x->flush_err);
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

void weir_exec_each_run(const weir_exec *x, weir_exec_run_fn fn, void *data)
{
    for (size_t q = 0; q < x->runs.len; q++)
        fn(data, x->runs.items[q]->pl, &x->runs.items[q]->iv, x->runs.items[q]->done);
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
