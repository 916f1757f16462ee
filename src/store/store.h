/*
 * store.h: weir's own metadata store (runs, task instances, check results,
 * metric series, anomalies, ingest cursors, the lake catalog, the audit log).
 *
 * The embedded store is one SQLite file in WAL mode: many readers and one
 * writer across processes, with a busy timeout so that writers queue instead
 * of failing. Opening a store brings its schema up to date: the migrations
 * (schema.c) are an ordered list of (version, description, SQL) applied in
 * one transaction; a store newer than this weir is refused (WEIR_EVERSION),
 * and a migration that fails leaves the store exactly as it was.
 *
 * Everything above store/ uses the functions here, never sqlite3 itself.
 * The SQL-level calls (exec, statements, transactions) are the seam where a
 * PostgreSQL store will plug in; the domain functions (audit log, ...) are
 * written against them only.
 *
 * A weir_store is one connection: use it from one thread at a time (open
 * one per thread, they are cheap).
 */
#ifndef WEIR_STORE_H
#define WEIR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/vec.h"

typedef struct weir_store weir_store;
typedef struct weir_store_stmt weir_store_stmt;

/* One schema migration. Versions start at 1 and increase by 1. */
typedef struct weir_store_migration {
    int version;
    const char *description;
    const char *sql; /* one or more statements */
} weir_store_migration;

/* The migrations this weir knows, in order, and their number. */
extern const weir_store_migration weir_store_migrations[];
extern const size_t weir_store_migrations_count;

typedef struct weir_store_options {
    int busy_timeout_ms; /* how long a writer waits for another; 0: 5000 */
    /* The migrations to apply; NULL: weir_store_migrations. For tests. */
    const weir_store_migration *migrations;
    size_t n_migrations;
} weir_store_options;

#define WEIR_STORE_OPTIONS_INIT { 0, NULL, 0 }

/*
 * Opens (creating it and its folders if needed) the store at path and
 * migrates it to the latest schema. opts may be NULL. Errors:
 * WEIR_EVERSION when the store's schema is newer than the migrations known
 * ("store 'x' has schema version 7, this weir understands up to 3: upgrade
 * weir"), WEIR_EINVALID when the file is not a SQLite database, WEIR_EBUSY
 * when another process held the store past the busy timeout, WEIR_ERROR
 * when a migration failed (the store keeps its old version).
 */
int weir_store_open(const char *path, const weir_store_options *opts, weir_store **out,
                    weir_error *err);
/* Closes the store. NULL is fine. */
void weir_store_free(weir_store *s);

const char *weir_store_path(const weir_store *s);
/* The schema version the store is at. */
int weir_store_schema_version(const weir_store *s);
/* The newest schema version this weir knows. */
int weir_store_latest_version(void);
/* The linked SQLite's version, e.g. "3.40.1". */
const char *weir_store_sqlite_version(void);

/* Runs one or more statements without results. */
int weir_store_exec(weir_store *s, const char *sql, weir_error *err);

/*
 * Transactions. begin takes the write lock at once (BEGIN IMMEDIATE), so
 * that a read-then-write transaction cannot deadlock with another writer;
 * it waits up to the busy timeout, then fails with WEIR_EBUSY.
 */
int weir_store_begin(weir_store *s, weir_error *err);
int weir_store_commit(weir_store *s, weir_error *err);
/* Rolls back; harmless when no transaction is open. */
int weir_store_rollback(weir_store *s, weir_error *err);

/* Row id of the last insert, rows changed by the last statement. */
int64_t weir_store_last_insert_id(weir_store *s);
int64_t weir_store_changes(weir_store *s);

/* --- statements --------------------------------------------------------- */

/* Prepares one statement with ? (or ?N) placeholders. */
int weir_store_prepare(weir_store *s, const char *sql, weir_store_stmt **out, weir_error *err);
void weir_store_stmt_free(weir_store_stmt *st);
/* Binds parameter idx (1-based). Strings are copied; NULL text binds NULL. */
int weir_store_bind_int(weir_store_stmt *st, int idx, int64_t v, weir_error *err);
int weir_store_bind_double(weir_store_stmt *st, int idx, double v, weir_error *err);
int weir_store_bind_text(weir_store_stmt *st, int idx, const char *v, weir_error *err);
int weir_store_bind_null(weir_store_stmt *st, int idx, weir_error *err);
/* Binds a timestamp as "YYYY-MM-DDTHH:MM:SS.mmmZ" text, the store's format. */
int weir_store_bind_ts(weir_store_stmt *st, int idx, weir_ts v, weir_error *err);
/*
 * Runs the statement to its next row: 1 when a row is ready, 0 when done,
 * a negative code on error (WEIR_EBUSY after the busy timeout).
 */
int weir_store_step(weir_store_stmt *st, weir_error *err);
/* Makes the statement ready to run again, keeping its bindings. */
void weir_store_reset(weir_store_stmt *st);
/* Columns of the current row (0-based). text is NULL for NULL, valid until the next step. */
bool weir_store_col_is_null(weir_store_stmt *st, int col);
int64_t weir_store_col_int(weir_store_stmt *st, int col);
double weir_store_col_double(weir_store_stmt *st, int col);
const char *weir_store_col_text(weir_store_stmt *st, int col);

/*
 * Runs a query that returns one integer (count(*), a pragma, ...). Fails
 * with WEIR_ENOTFOUND when it returns no row; a NULL reads as 0.
 */
int weir_store_query_int(weir_store *s, const char *sql, int64_t *out, weir_error *err);

/* --- audit log ---------------------------------------------------------- */

/*
 * One destructive or administrative action: who did what to which target,
 * with details as a JSON text and the number of rows it touched (-1 when
 * not known).
 */
typedef struct weir_audit_entry {
    int64_t id;
    weir_ts at;
    char *actor;
    char *action;
    char *target;  /* may be NULL */
    char *details; /* JSON text, may be NULL */
    int64_t rows;
} weir_audit_entry;

typedef WEIR_VEC(weir_audit_entry) weir_audit_list;

/*
 * Appends an entry stamped with the current time; its id goes to *id when
 * id is not NULL. details must be valid JSON or NULL (WEIR_EINVALID).
 */
int weir_store_audit_append(weir_store *s, const char *actor, const char *action,
                            const char *target, const char *details, int64_t rows,
                            int64_t *id, weir_error *err);
/* Appends the newest entries (at most limit, 0: all), newest first. */
int weir_store_audit_list(weir_store *s, size_t limit, weir_audit_list *out, weir_error *err);
void weir_audit_list_release(weir_audit_list *l);

/* --- requests to the server --------------------------------------------- */

/*
 * Work a command handed to the running `weir serve` because the server
 * holds the warehouse: a run of one date, a backfill of a range, or a
 * clear (then a run) of one date. A request goes pending -> running (the
 * server took it and recorded the runs it covers) -> done (those runs
 * finished, each succeeded or failed) or failed (the server could not do
 * it; message says why). A pending request waits for the next server when
 * none is running; nothing is lost when one dies.
 *
 * Cancelling: a pending request becomes cancelled at once and is never
 * run. A running one is marked cancel-requested (cancel_requested_at);
 * the server drops its runs that have not started (counted in dropped,
 * recorded cancelled), lets the started ones finish, then marks it
 * cancelled instead of done.
 */
typedef struct weir_request {
    int64_t id;
    char kind[16];                    /* run, backfill, clear */
    char *pipeline;
    char date_from[WEIR_DATE_STRLEN]; /* the ds of run and clear */
    char date_to[WEIR_DATE_STRLEN];
    char *task;                       /* clear: only this task; may be NULL */
    int downstream, rerun;
    char spec_hash[17];               /* of the requester's pipeline file; "" unknown */
    char state[16];                   /* pending, running, done, failed, cancelled */
    char *requested_by;
    char requested_at[WEIR_TS_STRLEN];
    int64_t server_pid;               /* 0 until taken */
    int64_t runs, skipped, cleared, succeeded, failed;
    char *message;                    /* may be NULL */
    char cancel_requested_at[WEIR_TS_STRLEN]; /* "" unless a cancel was asked for */
    char *cancelled_by;               /* who asked; may be NULL */
    int64_t dropped;                  /* runs the cancel dropped (not started, or left queued) */
} weir_request;

typedef WEIR_VEC(weir_request) weir_request_list;
typedef WEIR_VEC(int64_t) weir_store_id_vec;

/* Frees what r holds (r itself stays the caller's). */
void weir_request_release(weir_request *r);
void weir_request_list_release(weir_request_list *l);

/*
 * Records r (kind, pipeline, dates, task, downstream, rerun, spec_hash,
 * requested_by)
 * as a pending request stamped now; r->id and r->state are set.
 * WEIR_EINVALID for an unknown kind or a missing pipeline, date or requester.
 */
int weir_store_request_add(weir_store *s, weir_request *r, weir_error *err);

/* Reads request id into out (release it); WEIR_ENOTFOUND when there is none. */
int weir_store_request_get(weir_store *s, int64_t id, weir_request *out, weir_error *err);

/*
 * Appends requests to out, oldest first: those in state (NULL: every
 * state), at most limit of the newest (0: all).
 */
int weir_store_request_list(weir_store *s, const char *state, size_t limit,
                            weir_request_list *out, weir_error *err);

/*
 * Marks pending request id taken by server pid: running, covering the runs
 * run_ids[0..n), with how many intervals were skipped and instances cleared
 * and a note for the requester (may be NULL).
 * Runs no transaction of its own, so the caller can make it part of the one
 * that created the runs. WEIR_ENOTFOUND when id is not pending.
 */
int weir_store_request_take(weir_store *s, int64_t id, int64_t server_pid,
                            const int64_t *run_ids, size_t n, int64_t skipped, int64_t cleared,
                            const char *note, weir_error *err);

/*
 * Marks request id failed with message (taken by server pid).
 * WEIR_ENOTFOUND when id is not pending or running (it may have been
 * cancelled meanwhile).
 */
int weir_store_request_fail(weir_store *s, int64_t id, int64_t server_pid, const char *message,
                            weir_error *err);

/* Sets the message of a pending request (what it waits for; NULL clears). */
int weir_store_request_note(weir_store *s, int64_t id, const char *message, weir_error *err);

/*
 * Marks done every running request none of whose runs is still queued or
 * running, counting its runs that succeeded and failed (failed or
 * cancelled). Requests being cancelled are left to
 * weir_store_request_settle_cancelled. *n (may be NULL) gets how many were
 * marked.
 */
int weir_store_request_settle(weir_store *s, size_t *n, weir_error *err);

/*
 * Cancels request id for by (user@host (pid N)), in one transaction: a
 * pending request becomes cancelled at once (no server will run it); a
 * running one is marked cancel-requested for its server (asking twice is
 * fine), and the audit log says who cancelled it. *out (may be NULL;
 * release it) gets the request's row afterwards.
 * WEIR_ENOTFOUND when there is no request id, WEIR_EINVALID when it is
 * already done, failed or cancelled (the message says which).
 */
int weir_store_request_cancel(weir_store *s, int64_t id, const char *by, weir_request *out,
                              weir_error *err);

/* Appends the ids of the runs request id covers, in date order, to out. */
int weir_store_request_run_ids(weir_store *s, int64_t id, weir_store_id_vec *out,
                               weir_error *err);

/*
 * The ids of the runs request id covers that are still queued or running,
 * oldest date first, except those another live (pending or running, not
 * being cancelled) request also covers: what cancelling id may drop.
 * Appends them to out.
 */
int weir_store_request_open_runs(weir_store *s, int64_t id, weir_store_id_vec *out,
                                 weir_error *err);

/*
 * Records run_id cancelled when it is still queued (a run no process is
 * running: left by a server that stopped), with its queued instances back
 * to none. *dropped gets 1 when it was, 0 when the run is not queued.
 */
int weir_store_request_drop_queued(weir_store *s, int64_t run_id, int *dropped,
                                   weir_error *err);

/* Adds n to the runs request id's cancel dropped. */
int weir_store_request_add_dropped(weir_store *s, int64_t id, int64_t n, weir_error *err);

/*
 * Marks request id cancelled when it is running, being cancelled, and none
 * of its runs is queued or running any more, counting its runs that
 * succeeded and failed as settling does, with message. *settled gets 1
 * when it was marked, 0 when runs are still in flight.
 */
int weir_store_request_settle_cancelled(weir_store *s, int64_t id, const char *message,
                                        int *settled, weir_error *err);

#endif
