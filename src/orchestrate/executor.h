/*
 * executor.h: runs pipelines' runs: a pool of worker threads executing task
 * instances in dependency order, with the state of every instance kept in
 * the store as it changes.
 *
 * One thread (the caller's) owns the executor and its store connection: it
 * decides what is ready (trigger rules, depends_on_past, retries' due
 * times, max_active_runs, concurrency), records every transition, and hands
 * instances to the workers; each worker has its own warehouse connection.
 * While the owner waits inside weir_exec_step, a worker that finishes a
 * task does that scheduling step itself and starts the next task at once
 * (so a dependant starts without a thread being woken); the transitions it
 * makes are written to the store by the owner, in order, within a few
 * milliseconds (and always before weir_exec_step returns), so the store
 * always holds a consistent, slightly late picture of the runs.
 * A task is recorded `success` only after its work returned (SQL tasks run
 * in one transaction and are recorded after the commit). Running instances
 * carry this process's pid and host and a heartbeat, renewed every few
 * seconds, so weir_state_recover() in a later process can tell them dead.
 *
 * States: an instance goes from none to running when a worker takes it,
 * through queued when it is ready but waits for a worker or for the
 * pipeline's concurrency; to success, failed, skipped or upstream_failed;
 * or to up_for_retry and, when its delay is over, running again.
 *
 * Retries: attempt k failed with tries left waits retry_delay * 2^(k-1),
 * capped at max_retry_delay, plus or minus 10% jitter, in up_for_retry.
 * Timeouts: a SQL task's query is interrupted, a shell task's process group
 * gets SIGTERM then SIGKILL, a sensor stops poking (failed, or skipped with
 * soft_fail). A run fails when any of its instances failed or was
 * upstream_failed.
 *
 * Each attempt writes a log file LOG_DIR/PIPELINE/DS/TASK.K.log
 * (LOG_DIR defaults to PROJECT/.weir/logs), whose path is in task_attempts.
 */
#ifndef WEIR_ORCHESTRATE_EXECUTOR_H
#define WEIR_ORCHESTRATE_EXECUTOR_H

#include <stdint.h>

#include "config/project.h"
#include "engine/engine.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/state.h"
#include "store/store.h"

typedef struct weir_exec weir_exec;

typedef enum { WEIR_EXEC_RUN_STARTED, WEIR_EXEC_TASK_DONE, WEIR_EXEC_RUN_DONE } weir_exec_event_kind;

typedef struct weir_exec_event {
    weir_exec_event_kind kind;
    const char *pipeline;
    const char *ds;
    const char *task;      /* TASK_DONE only */
    const char *state;     /* the new state: a task's or a run's */
    const char *error;     /* may be NULL */
    int64_t duration_us;   /* of the attempt or the run */
} weir_exec_event;

typedef void (*weir_exec_event_fn)(void *data, const weir_exec_event *ev);

typedef struct weir_exec_options {
    int workers;               /* threads; 0: 4 */
    const char *log_dir;       /* NULL: PROJECT/.weir/logs */
    int heartbeat_ms;          /* 0: 5000 */
    weir_exec_event_fn on_event; /* may be NULL; called by the owner's thread, or by a
                                  * worker while the owner waits in weir_exec_step:
                                  * never two at once */
    void *event_data;
} weir_exec_options;

typedef struct weir_exec_stats {
    size_t runs_added, runs_done, runs_failed, runs_active;
    size_t tasks_done, tasks_failed, tasks_running;
    int64_t work_us;     /* summed time inside tasks' own work */
    int64_t gap_us;      /* summed time from an upstream's end (or, when later, a worker
                          * becoming free) to a dependant's start */
    size_t gaps;
    int64_t gap_max_us;
    size_t led;          /* tasks' ends recorded, and what followed scheduled, by the
                          * worker that ran them while the owner waited */
    int64_t owner_cpu_us; /* CPU time spent scheduling: the owner thread inside
                           * weir_exec_run, and workers doing the scheduling step */
} weir_exec_stats;

/*
 * Creates an executor. p gives the project folder (may be NULL: the current
 * folder); store stays the caller's and is used only by the owner thread;
 * engine may be NULL (SQL tasks and table/sql sensors then fail). Starts
 * the workers, each with its own connection.
 */
int weir_exec_new(const weir_project *p, weir_store *store, weir_engine *engine,
                  const weir_exec_options *opts, weir_exec **out, weir_error *err);
/* Stops (see weir_exec_stop) and frees. NULL is fine. */
void weir_exec_free(weir_exec *x);

enum {
    WEIR_EXEC_RERUN = 1 << 0 /* run again even when the run already succeeded */
};

/*
 * Adds the run of pl for interval iv (kind "scheduled", "manual" or
 * "backfill"), creating it in the store or resuming the existing one: its
 * instances that did not succeed (all of them with WEIR_EXEC_RERUN, or when
 * a rollback cancelled the run) are cleared to run again. Returns WEIR_EEXISTS when the run succeeded before
 * and WEIR_EXEC_RERUN is not given (nothing is added). pl must stay valid
 * while x holds the run (see weir_exec_each_run: `weir serve` frees a
 * replaced load of its pipelines once x holds none of its runs).
 */
int weir_exec_add_run(weir_exec *x, const weir_pipeline *pl, const weir_interval *iv,
                      const char *kind, unsigned flags, int64_t *run_id, weir_error *err);

/*
 * Does what is ready, waiting up to wait_ms for something to happen.
 * Returns 1 while runs remain unfinished, 0 when all added runs are done,
 * a negative code on a store error.
 */
int weir_exec_step(weir_exec *x, int wait_ms, weir_error *err);

/* Steps until every added run is done. */
int weir_exec_run(weir_exec *x, weir_error *err);

/*
 * Stops what runs: queries are interrupted, shell tasks killed, sensors
 * stopped; their attempts are recorded killed and the instances
 * up_for_retry without using a try, their runs queued, so the next start
 * resumes them. Nothing is left running.
 */
int weir_exec_stop(weir_exec *x, weir_error *err);

void weir_exec_get_stats(const weir_exec *x, weir_exec_stats *out);
/* Runs of the pipeline called name that are added and not done. */
size_t weir_exec_unfinished(const weir_exec *x, const char *name);

/*
 * Calls fn for every run x holds: those not done (done == 0), and those
 * done that it keeps until it is idle (done == 1), with the pipeline object
 * each was added with and its interval. Runs are told apart by object, not
 * by name: a server that reloads its pipelines (orchestrate/generation.h)
 * learns with it which loads it may free (those no run held here points
 * into) and which run of a name and interval is in flight under an older
 * object.
 */
typedef void (*weir_exec_run_fn)(void *data, const weir_pipeline *pl, const weir_interval *iv,
                                 int done);
void weir_exec_each_run(const weir_exec *x, weir_exec_run_fn fn, void *data);

/*
 * Drops run run_id when it is added here but not admitted yet (none of its
 * instances is ready, queued for a worker or running): it is recorded
 * cancelled, ended now, its instances left as they are (none, success or
 * skipped), and is done here (a RUN_DONE event with state "cancelled").
 * Returns 1 when dropped; 0 when it was admitted (it finishes as usual) or
 * is done; WEIR_ENOTFOUND when this executor does not have it; a negative
 * code on a store error. Commits, unless an executor transaction was
 * already open (the next step commits it then).
 */
int weir_exec_drop_run(weir_exec *x, int64_t run_id, weir_error *err);

/*
 * Sends an alert: text on stderr when to_stderr, and when webhook is set,
 * POSTs {"text": text} to it (Slack's shape) with a 10 s timeout.
 */
int weir_alert_send(const char *webhook, const char *text, int to_stderr, weir_error *err);

#endif
