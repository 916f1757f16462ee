/*
 * sqlite.c: the SQLite implementation of the store (see store.h).
 *
 * Opening sets the connection up (WAL, busy timeout, foreign keys) and runs
 * the migrations. The schema version lives in SQLite's user_version (read
 * without a lock, written in the migrating transaction), and each applied
 * migration is also recorded in schema_migrations for people to read.
 * Migrations run inside BEGIN IMMEDIATE, so two processes opening an old
 * store at once upgrade it once: the second waits, then finds it current.
 */
#include "core/compat.h"

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "store/store.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000

struct weir_store {
    sqlite3 *db;
    char *path;
    int version;
};

struct weir_store_stmt {
    weir_store *store;
    sqlite3_stmt *st;
};

/* Maps a SQLite result code to weir's codes. */
static int code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return WEIR_EBUSY;
    case SQLITE_NOTADB:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return WEIR_EINVALID;
    case SQLITE_CONSTRAINT:
        return WEIR_EEXISTS;
    default:
        return WEIR_ERROR;
    }
}

static int db_error(weir_store *s, int rc, weir_error *err)
{
    return weir_error_set(err, code_of(rc), "%s", sqlite3_errmsg(s->db));
}

const char *weir_store_sqlite_version(void)
{
    return sqlite3_libversion();
}

int weir_store_latest_version(void)
{
    return weir_store_migrations_count
               ? weir_store_migrations[weir_store_migrations_count - 1].version
               : 0;
}

const char *weir_store_path(const weir_store *s)
{
    return s->path;
}

int weir_store_schema_version(const weir_store *s)
{
    return s->version;
}

int weir_store_exec(weir_store *s, const char *sql, weir_error *err)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_error(s, rc, err);
}

int weir_store_begin(weir_store *s, weir_error *err)
{
    return weir_store_exec(s, "BEGIN IMMEDIATE", err);
}

int weir_store_commit(weir_store *s, weir_error *err)
{
    return weir_store_exec(s, "COMMIT", err);
}

int weir_store_rollback(weir_store *s, weir_error *err)
{
    if (sqlite3_get_autocommit(s->db))
        return 0;
    return weir_store_exec(s, "ROLLBACK", err);
}

int64_t weir_store_last_insert_id(weir_store *s)
{
    return sqlite3_last_insert_rowid(s->db);
}

int64_t weir_store_changes(weir_store *s)
{
    return sqlite3_changes(s->db);
}

/* --- statements --------------------------------------------------------- */

int weir_store_prepare(weir_store *s, const char *sql, weir_store_stmt **out, weir_error *err)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(s, rc, err);
    *out = weir_xmalloc(sizeof(**out));
    (*out)->store = s;
    (*out)->st = st;
    return 0;
}

void weir_store_stmt_free(weir_store_stmt *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->st);
    free(st);
}

static int bind_result(weir_store_stmt *st, int idx, int rc, weir_error *err)
{
    if (rc == SQLITE_OK)
        return 0;
    return weir_error_set(err, code_of(rc), "cannot bind parameter %d: %s", idx,
                          sqlite3_errmsg(st->store->db));
}

int weir_store_bind_int(weir_store_stmt *st, int idx, int64_t v, weir_error *err)
{
    return bind_result(st, idx, sqlite3_bind_int64(st->st, idx, v), err);
}

int weir_store_bind_double(weir_store_stmt *st, int idx, double v, weir_error *err)
{
    return bind_result(st, idx, sqlite3_bind_double(st->st, idx, v), err);
}

int weir_store_bind_text(weir_store_stmt *st, int idx, const char *v, weir_error *err)
{
    if (!v)
        return weir_store_bind_null(st, idx, err);
    return bind_result(st, idx, sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT), err);
}

int weir_store_bind_null(weir_store_stmt *st, int idx, weir_error *err)
{
    return bind_result(st, idx, sqlite3_bind_null(st->st, idx), err);
}

int weir_store_bind_ts(weir_store_stmt *st, int idx, weir_ts v, weir_error *err)
{
    char buf[WEIR_TS_STRLEN];
    return weir_store_bind_text(st, idx, weir_ts_format_ms(v, buf), err);
}

int weir_store_step(weir_store_stmt *st, weir_error *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    rc = db_error(st->store, rc, err);
    sqlite3_reset(st->st);
    return rc;
}

void weir_store_reset(weir_store_stmt *st)
{
    sqlite3_reset(st->st);
}

bool weir_store_col_is_null(weir_store_stmt *st, int col)
{
    return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int64_t weir_store_col_int(weir_store_stmt *st, int col)
{
    return sqlite3_column_int64(st->st, col);
}

double weir_store_col_double(weir_store_stmt *st, int col)
{
    return sqlite3_column_double(st->st, col);
}

const char *weir_store_col_text(weir_store_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->st, col);
}

int weir_store_query_int(weir_store *s, const char *sql, int64_t *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, sql, &st, err);
    *out = 0;
    if (rc)
        return rc;
    rc = weir_store_step(st, err);
    if (rc == 1) {
        *out = weir_store_col_int(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "query returned no row");
    }
    weir_store_stmt_free(st);
    return rc;
}

/* --- opening and migrating --------------------------------------------- */

static int check_migrations(const weir_store_migration *m, size_t n, weir_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].version != (int)i + 1 || !m[i].sql || !m[i].description)
            return weir_error_set(err, WEIR_EINVALID,
                                  "store migration %zu has version %d, expected %zu", i + 1,
                                  m[i].version, i + 1);
    return 0;
}

static int read_version(weir_store *s, int *out, weir_error *err)
{
    int64_t v = 0;
    int rc = weir_store_query_int(s, "PRAGMA user_version", &v, err);
    *out = (int)v;
    return rc;
}

static int too_new(weir_store *s, int version, int latest, weir_error *err)
{
    return weir_error_set(err, WEIR_EVERSION,
                          "store '%s' has schema version %d, this weir understands up to %d: "
                          "upgrade weir",
                          s->path, version, latest);
}

static int record_migration(weir_store *s, const weir_store_migration *m, weir_error *err)
{
    weir_store_stmt *st = NULL;
    char pragma[64];
    int rc = weir_store_prepare(s, "INSERT INTO schema_migrations (version, description, "
                                   "applied_at) VALUES (?, ?, ?)", &st, err);
    if (rc)
        return rc;
    if ((rc = weir_store_bind_int(st, 1, m->version, err)) ||
        (rc = weir_store_bind_text(st, 2, m->description, err)) ||
        (rc = weir_store_bind_ts(st, 3, weir_ts_now(), err)))
        goto cleanup;
    if ((rc = weir_store_step(st, err)) < 0)
        goto cleanup;
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
    rc = weir_store_exec(s, pragma, err);
cleanup:
    weir_store_stmt_free(st);
    return rc;
}

static int migrate(weir_store *s, const weir_store_migration *list, size_t n, weir_error *err)
{
    int latest = n ? list[n - 1].version : 0;
    int version;
    int rc = read_version(s, &version, err);
    if (rc)
        return rc;
    if (version > latest)
        return too_new(s, version, latest, err);
    if (version == latest) {
        s->version = version;
        return 0;
    }
    if ((rc = weir_store_begin(s, err)))
        return weir_error_wrap(err, "cannot lock store '%s' to upgrade it", s->path);
    /* another process may have migrated while we waited for the lock */
    if ((rc = read_version(s, &version, err)))
        goto cleanup;
    if (version > latest) {
        rc = too_new(s, version, latest, err);
        goto cleanup;
    }
    rc = weir_store_exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " version INTEGER PRIMARY KEY,"
                            " description TEXT NOT NULL,"
                            " applied_at TEXT NOT NULL)", err);
    if (rc)
        goto cleanup;
    for (size_t i = (size_t)version; i < n; i++) {
        if ((rc = weir_store_exec(s, list[i].sql, err)) || (rc = record_migration(s, &list[i], err))) {
            weir_error_wrap(err, "cannot upgrade store '%s' to schema version %d (%s)", s->path,
                            list[i].version, list[i].description);
            goto cleanup;
        }
    }
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    s->version = latest;
cleanup:
    if (rc)
        weir_store_rollback(s, NULL);
    return rc;
}

static int setup_connection(weir_store *s, int busy_ms, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int64_t give_up = weir_monotonic_us() + (int64_t)busy_ms * 1000;
    int rc;
    sqlite3_busy_timeout(s->db, busy_ms);
    /* the first statement to read the file: tells a non-database apart.
     * Switching a new file to WAL while another connection creates it can
     * be refused at once (SQLite does not always call the busy handler
     * there): retried until the busy timeout. */
    for (;;) {
        rc = weir_store_prepare(s, "PRAGMA journal_mode = WAL", &st, err);
        if (rc == 0)
            rc = weir_store_step(st, err);
        if (rc != WEIR_EBUSY || weir_monotonic_us() >= give_up)
            break;
        weir_store_stmt_free(st);
        st = NULL;
        weir_error_clear(err);
        struct timespec nap = { 0, 5 * 1000000L };
        nanosleep(&nap, NULL);
    }
    if (rc < 0) {
        weir_store_stmt_free(st);
        return rc;
    }
    const char *mode = rc == 1 ? weir_store_col_text(st, 0) : NULL;
    bool wal = mode && strcmp(mode, "wal") == 0;
    weir_store_stmt_free(st);
    if (!wal && strcmp(s->path, ":memory:") != 0)
        return weir_error_set(err, WEIR_ERROR, "cannot switch store '%s' to WAL mode", s->path);
    return weir_store_exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", err);
}

int weir_store_open(const char *path, const weir_store_options *opts, weir_store **out,
                    weir_error *err)
{
    weir_store_options defaults = WEIR_STORE_OPTIONS_INIT;
    const weir_store_migration *list = weir_store_migrations;
    size_t n = weir_store_migrations_count;
    weir_store *s = NULL;
    int rc;

    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->migrations) {
        list = opts->migrations;
        n = opts->n_migrations;
    }
    if (!path || !*path)
        return weir_error_set(err, WEIR_EINVALID, "no store path given");
    if ((rc = check_migrations(list, n, err)))
        return rc;
    if (strcmp(path, ":memory:") != 0 && strchr(path, '/')) {
        char *dir = weir_xstrdup(path);
        *strrchr(dir, '/') = '\0';
        rc = *dir ? weir_fs_mkdir_p(dir, err) : 0;
        free(dir);
        if (rc)
            return weir_error_wrap(err, "cannot create store '%s'", path);
    }
    s = weir_xcalloc(1, sizeof(*s));
    s->path = weir_xstrdup(path);
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = weir_error_set(err, code_of(rc), "cannot open store '%s': %s", path,
                            s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto cleanup;
    }
    if ((rc = setup_connection(s, opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms
                                                           : DEFAULT_BUSY_TIMEOUT_MS, err))) {
        weir_error_wrap(err, "cannot open store '%s'", path);
        goto cleanup;
    }
    if ((rc = migrate(s, list, n, err)))
        goto cleanup;
    *out = s;
    s = NULL;
cleanup:
    weir_store_free(s);
    return rc;
}

void weir_store_free(weir_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}
