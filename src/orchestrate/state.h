/*
 * state.h: pipelines, runs and task instances as the store keeps them.
 *
 * Task instance states are Airflow's: none (not yet considered), queued,
 * running, success, failed, up_for_retry, upstream_failed, skipped. A run
 * is queued, running, success, failed or cancelled (rolled back). The
 * executor (executor.h) is the only writer of running states; the functions
 * here are what commands and the executor share: registering a pipeline,
 * pausing it, clearing instances so they run again, and recovering what a
 * dead process left running.
 */
#ifndef WEIR_ORCHESTRATE_STATE_H
#define WEIR_ORCHESTRATE_STATE_H

#include <stdint.h>

#include "core/error.h"
#include "orchestrate/pipeline.h"
#include "store/store.h"

typedef enum {
    WEIR_TI_NONE,
    WEIR_TI_SCHEDULED,
    WEIR_TI_QUEUED,
    WEIR_TI_RUNNING,
    WEIR_TI_SUCCESS,
    WEIR_TI_FAILED,
    WEIR_TI_UP_FOR_RETRY,
    WEIR_TI_UPSTREAM_FAILED,
    WEIR_TI_SKIPPED
} weir_ti_state;

/* The store's name of a state ("up_for_retry"), and back (-1 if unknown). */
const char *weir_ti_state_name(weir_ti_state s);
int weir_ti_state_parse(const char *s);
/* success, failed, upstream_failed and skipped are final. */
int weir_ti_state_is_terminal(weir_ti_state s);

/* This host's name (cached), for the pid columns' meaning. */
const char *weir_state_hostname(void);

/*
 * Inserts or updates the pipelines row of pl (owner, schedule, start,
 * spec hash). *id gets its id and *paused (may be NULL) its paused flag.
 */
int weir_state_pipeline_sync(weir_store *s, const weir_pipeline *pl, int64_t *id, int *paused,
                             weir_error *err);

/* Sets the paused flag; WEIR_ENOTFOUND when the pipeline was never registered. */
int weir_state_set_paused(weir_store *s, const char *name, int paused, weir_error *err);

/*
 * Finds task instances left queued or running by a process that is gone
 * (its pid no longer exists on this host, or its heartbeat is older than
 * stale_ms) and makes them runnable again: their attempt is marked killed
 * ("orphaned: ..."), the instance up_for_retry with one more try allowed
 * (a crash does not use up a retry), and their run queued. *n (may be NULL)
 * gets how many instances were recovered.
 */
int weir_state_recover(weir_store *s, int64_t stale_ms, size_t *n, weir_error *err);

/*
 * Clears task instances of pl's run for ds so they run again: all of them,
 * or task (and with downstream its downstream tasks too). Their state goes
 * to none with their retries renewed, the run to queued. *n (may be NULL)
 * gets how many instances were cleared; WEIR_ENOTFOUND when there is no
 * such run or task.
 */
int weir_state_clear(weir_store *s, const weir_pipeline *pl, weir_date ds, const char *task,
                     int downstream, size_t *n, weir_error *err);

/*
 * The state of the latest run of pipeline name for logical date ds into
 * out (at least 16 bytes); WEIR_ENOTFOUND when there is none.
 */
int weir_state_run_state(weir_store *s, const char *name, const char *ds, char *out,
                         weir_error *err);

#endif
