/*
 * handoff.h: handing pipeline work to the running `weir serve`.
 *
 * DuckDB lets one process open the warehouse, and `weir serve` holds it
 * while it runs. So `weir pipeline run`, `backfill` and `clear`, finding
 * the server there (orchestrate/lock.h), record a request in the store
 * (store.h, weir_request) instead of failing; the server takes pending
 * requests on every tick and runs them with its own executor; the client
 * follows the request's runs in the store until they finish, and notices
 * when the server is gone. Requests outlive a server: the next one takes
 * what is still pending and finishes what was running.
 */
#ifndef WEIR_ORCHESTRATE_HANDOFF_H
#define WEIR_ORCHESTRATE_HANDOFF_H

#include <signal.h>

#include "orchestrate/executor.h"
#include "store/store.h"

/* --- the server's side ------------------------------------------------------ */

/* Told what the server did with a request: "taken", "failed", "waiting". */
typedef void (*weir_handoff_note_fn)(void *data, const weir_request *r, const char *what);

/*
 * Takes the pending requests, oldest first, into x: a run adds the run of
 * its date (running it again if it succeeded before), a backfill the runs
 * of its range (skipping successful ones unless rerun), a clear clears the
 * instances (weir_state_clear) and adds the run again. A run already in
 * flight is joined rather than started twice; a clear whose run is in
 * flight waits for it to finish (the request stays pending). A request the
 * server cannot do (no such pipeline in the server's project, no run on
 * that date) is marked failed with the reason. pls are the server's
 * pipelines (valid until their runs are done; a run in flight with an
 * older load of the pipeline is joined with that load); server_pid is
 * recorded as the taker.
 * The store must have no transaction open (call weir_exec_step first).
 * *taken (may be NULL) gets how many requests were taken or failed.
 * Returns 0, or a negative code on a store error.
 */
int weir_handoff_take(weir_exec *x, weir_store *s, const weir_pipeline_list *pls,
                      int64_t server_pid, weir_handoff_note_fn note, void *data, size_t *taken,
                      weir_error *err);

/*
 * Marks done the running requests whose runs all finished (see
 * weir_store_request_settle), telling note ("done") about each. Requests
 * being cancelled are weir_handoff_cancel's.
 */
int weir_handoff_settle(weir_store *s, weir_handoff_note_fn note, void *data, weir_error *err);

/*
 * Goes on with the running requests someone asked to cancel
 * (weir_store_request_cancel): drops their runs that have not started,
 * those in x not admitted yet (weir_exec_drop_run) and those left queued
 * in the store by a server that stopped, which are recorded cancelled, so
 * neither x nor a later server runs them; runs already started finish.
 * A run another live request covers too is kept. Once none of its runs is
 * in flight, a request is marked cancelled with a message saying how many
 * runs were dropped and how many finished. note hears "cancelling" (runs
 * were dropped, others still run) and "cancelled". Call it after
 * weir_exec_step (no store transaction open), and once before resuming
 * the runs a previous server left, so those of cancelled requests are not
 * resumed. A run the request joined because the server had scheduled it
 * itself is dropped like the request's own.
 */
int weir_handoff_cancel(weir_exec *x, weir_store *s, weir_handoff_note_fn note, void *data,
                        weir_error *err);

/* --- the client's side ------------------------------------------------------ */

/*
 * Who the running server of the project in dir is: returns 1 and sets *pid
 * when a `weir serve` holds its warehouse, else 0.
 */
int weir_handoff_server(const char *dir, long *pid);

/* "user@host (pid N)": who is asking, for requested_by (n bytes). */
void weir_handoff_requester(char *out, size_t n);

typedef struct weir_handoff_follow_opts {
    const char *project_dir;     /* to find the server */
    long server_pid;             /* the server the request was handed to */
    int poll_ms;                 /* 0: 200 */
    weir_exec_event_fn on_event; /* runs started and finished, failed tasks; may be NULL */
    void *event_data;
    /* the server took the request (r is its row at that moment); may be NULL */
    void (*on_taken)(void *data, const weir_request *r);
    /* another server took over from the one that stopped; may be NULL */
    void (*on_new_server)(void *data, long old_pid, long new_pid);
    /* someone asked to cancel the running request (r is its row); may be NULL */
    void (*on_cancelling)(void *data, const weir_request *r);
    volatile sig_atomic_t *stop; /* set (by a signal handler) to stop following */
} weir_handoff_follow_opts;

/*
 * Follows request id until it is done, failed or cancelled, reporting its runs as
 * weir_exec_events (RUN_STARTED, TASK_DONE for failed tasks, RUN_DONE) as
 * their states change in the store. On return 0, *final (release it) is
 * the request's last row. Fails with WEIR_ENOTFOUND and a plain message
 * when no server holds the project any more (the request is kept for the
 * next one), WEIR_EINTERRUPTED when *stop was set.
 */
int weir_handoff_follow(weir_store *s, int64_t id, const weir_handoff_follow_opts *o,
                        weir_request *final, weir_error *err);

typedef weir_store_id_vec weir_id_vec;

/* Appends the ids of the runs request id covers, in date order, to out. */
int weir_handoff_run_ids(weir_store *s, int64_t id, weir_id_vec *out, weir_error *err);

#endif
