/*
 * lock.h: which weir process holds a project's warehouse.
 *
 * DuckDB lets one process open a database file. The process that runs
 * pipelines (weir serve, pipeline run/backfill, rollback) takes a POSIX
 * record lock on PROJECT/.weir/warehouse.lock and writes its pid and
 * command there; other weir commands ask who holds it before opening the
 * warehouse, so they can say plainly "the warehouse is in use by 'weir
 * serve' (pid 123)" instead of failing on the engine's file lock. The lock
 * dies with its process: there is no stale lock to clean up after a crash.
 */
#ifndef WEIR_ORCHESTRATE_LOCK_H
#define WEIR_ORCHESTRATE_LOCK_H

#include <stddef.h>

#include "core/error.h"

/*
 * Takes the lock of the project in dir for command what ("weir serve").
 * Fails with WEIR_EBUSY and a message naming the holder and what to do.
 * Holding it twice in one process is fine. Released at exit or by
 * weir_warehouse_unlock().
 */
int weir_warehouse_lock(const char *dir, const char *what, weir_error *err);
void weir_warehouse_unlock(void);

/*
 * Returns 1 and fills pid and what (the holder's command, n bytes) when
 * another process holds the lock of the project in dir, else 0.
 */
int weir_warehouse_holder(const char *dir, long *pid, char *what, size_t n);

/* Sets err to the plain message about a holder (WEIR_EBUSY). */
int weir_warehouse_busy_error(weir_error *err, long pid, const char *what);

#endif
