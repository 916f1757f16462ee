/*
 * rollback.h: deleting a date range from every table a pipeline writes,
 * recoverably.
 *
 * A rollback of pipeline P over [D1, D2] plans first: every table in P's
 * `outputs:` must name its date column (a table with none is refused by
 * name, before anything is deleted), and each table's rows in the range are
 * counted. Applying it, in one warehouse transaction, copies those rows into
 * weir_trash."a<ACTION>_<K>" and deletes them, downstream tables first (the
 * reverse of `outputs:`); the store records the action (trash_actions,
 * trash_tables), cancels the runs of the range (so a backfill rebuilds
 * them), and writes the audit log. weir_rollback_restore() puts the rows
 * back exactly and the runs' states with them; weir_rollback_purge() drops
 * the trash for good. Each of the three is an audit log entry.
 */
#ifndef WEIR_ORCHESTRATE_ROLLBACK_H
#define WEIR_ORCHESTRATE_ROLLBACK_H

#include <stdint.h>

#include "engine/engine.h"
#include "orchestrate/pipeline.h"
#include "store/store.h"

typedef struct weir_rollback_table {
    const char *table;       /* borrowed from the pipeline */
    const char *date_column;
    int64_t rows;            /* rows in the range */
} weir_rollback_table;

typedef struct weir_rollback_plan {
    weir_rollback_table *tables; /* in deletion order: downstream first */
    size_t n;
    int64_t total;
    weir_date from, to;
} weir_rollback_plan;

/*
 * Plans the rollback of pl over [from, to]: WEIR_EINVALID naming every
 * output without a date column ("table 'x' of pipeline 'p' has no
 * date_column: ..."), or when pl has no outputs; engine errors as they come
 * (a table that does not exist). Release with weir_rollback_plan_release.
 */
int weir_rollback_plan_make(weir_conn *c, const weir_pipeline *pl, weir_date from, weir_date to,
                            weir_rollback_plan *out, weir_error *err);
void weir_rollback_plan_release(weir_rollback_plan *plan);

/* Applies a plan (see above); *action_id gets the action's id. */
int weir_rollback_apply(weir_conn *c, weir_store *s, const weir_pipeline *pl,
                        const weir_rollback_plan *plan, const char *actor, int64_t *action_id,
                        weir_error *err);

/*
 * Puts back the rows of rollback action_id and drops its trash; *rows gets
 * how many. WEIR_ENOTFOUND for an unknown action, WEIR_EINVALID when it was
 * already restored or purged.
 */
int weir_rollback_restore(weir_conn *c, weir_store *s, int64_t action_id, const char *actor,
                          int64_t *rows, weir_error *err);

/*
 * Drops the trash of action_id (0: of every action not yet restored or
 * purged); *n gets how many actions were purged.
 */
int weir_rollback_purge(weir_conn *c, weir_store *s, int64_t action_id, const char *actor,
                        size_t *n, weir_error *err);

/* The user running weir, for the audit log ($USER, else the uid). */
const char *weir_rollback_actor(void);

#endif
