/*
 * Tests of store/: opening, WAL, migrations (fresh, upgrade, too new,
 * failing), concurrent connections, bad files, the audit log.
 */
#include "harness.h"

#include "core/fs.h"
#include "store/store.h"

static const char *store_path(const char *name)
{
    static weir_buf b = WEIR_BUF_INIT;
    weir_buf_reset(&b);
    weir_path_join(&b, weir_test_tmpdir(), name);
    return b.ptr;
}

static int64_t qint(weir_store *s, const char *sql)
{
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = 0;
    CHECK_OK(weir_store_query_int(s, sql, &v, &err), &err);
    return v;
}

static bool has_table(weir_store *s, const char *name)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store_stmt *st = NULL;
    CHECK_OK(weir_store_prepare(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name = ?", &st, &err), &err);
    CHECK_OK(weir_store_bind_text(st, 1, name, &err), &err);
    CHECK_INT(weir_store_step(st, &err), ==, 1);
    bool yes = weir_store_col_int(st, 0) == 1;
    weir_store_stmt_free(st);
    return yes;
}

/* A test schema: the real first migration, then test-only ones. */
static const char test_v2[] =
    "ALTER TABLE audit_log ADD COLUMN host TEXT;"
    "CREATE TABLE v2_only (x INTEGER);";
static const char test_v3_bad[] =
    "CREATE TABLE v3_partial (x INTEGER);"
    "INSERT INTO no_such_table VALUES (1);";

static weir_store_migration test_list[3];

static weir_store_options options(size_t n)
{
    weir_store_options o = WEIR_STORE_OPTIONS_INIT;
    test_list[0] = weir_store_migrations[0];
    test_list[1] = (weir_store_migration){ 2, "test: audit host", test_v2 };
    test_list[2] = (weir_store_migration){ 3, "test: fails half way", test_v3_bad };
    o.migrations = test_list;
    o.n_migrations = n;
    return o;
}

TEST(fresh_store_gets_latest_schema)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    const char *path = store_path("deep/er/store.db");
    CHECK_OK(weir_store_open(path, NULL, &s, &err), &err);
    CHECK_INT(weir_store_schema_version(s), ==, weir_store_latest_version());
    CHECK_INT(weir_store_latest_version(), >=, 1);
    CHECK_INT(qint(s, "PRAGMA user_version"), ==, weir_store_latest_version());
    CHECK_INT(qint(s, "SELECT max(version) FROM schema_migrations"), ==,
              weir_store_latest_version());
    static const char *const tables[] = {
        "pipelines", "runs", "task_instances", "task_attempts", "check_results",
        "metric_series", "metric_points", "anomalies", "ingest_cursors", "catalog_tables",
        "catalog_partitions", "audit_log", "schema_migrations",
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(tables); i++)
        if (!has_table(s, tables[i]))
            weir_test_fail(__FILE__, __LINE__, "no table '%s'", tables[i]);
    CHECK_INT(qint(s, "PRAGMA foreign_keys"), ==, 1);
    CHECK_INT(qint(s, "PRAGMA busy_timeout"), ==, 5000);
    CHECK_STR(weir_store_path(s), path);
    CHECK(weir_store_sqlite_version()[0] == '3');

    /* foreign keys are enforced */
    CHECK_INT(weir_store_exec(s, "INSERT INTO runs (pipeline_id, run_key, ds, interval_start, "
                                 "interval_end, created_at) VALUES (99, 'k', '2024-01-01', "
                                 "'a', 'b', 'c')", &err), ==, WEIR_EEXISTS);
    CHECK_CONTAINS(weir_error_str(&err), "FOREIGN KEY constraint failed");
    weir_error_release(&err);
    weir_store_free(s);

    /* reopening a current store changes nothing */
    CHECK_OK(weir_store_open(path, NULL, &s, &err), &err);
    CHECK_INT(qint(s, "SELECT count(*) FROM schema_migrations"), ==,
              weir_store_latest_version());
    weir_store_free(s);
}

TEST(wal_mode_is_on)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    weir_store_stmt *st = NULL;
    const char *path = store_path("wal.db");
    CHECK_OK(weir_store_open(path, NULL, &s, &err), &err);
    CHECK_OK(weir_store_prepare(s, "PRAGMA journal_mode", &st, &err), &err);
    CHECK_INT(weir_store_step(st, &err), ==, 1);
    CHECK_STR(weir_store_col_text(st, 0), "wal");
    weir_store_stmt_free(st);
    weir_buf wal = WEIR_BUF_INIT;
    weir_buf_addf(&wal, "%s-wal", path);
    CHECK(weir_fs_exists(wal.ptr));
    weir_buf_release(&wal);
    weir_store_free(s);
}

TEST(old_store_is_upgraded_and_keeps_its_data)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    const char *path = store_path("old.db");
    weir_store_options v1 = options(1), v2 = options(2);

    CHECK_OK(weir_store_open(path, &v1, &s, &err), &err);
    CHECK_INT(weir_store_schema_version(s), ==, 1);
    CHECK_OK(weir_store_audit_append(s, "ana", "rollback", "engagement", "{\"from\": 1}", 42,
                                     NULL, &err), &err);
    CHECK(!has_table(s, "v2_only"));
    weir_store_free(s);

    CHECK_OK(weir_store_open(path, &v2, &s, &err), &err);
    CHECK_INT(weir_store_schema_version(s), ==, 2);
    CHECK_INT(qint(s, "PRAGMA user_version"), ==, 2);
    CHECK(has_table(s, "v2_only"));
    CHECK_INT(qint(s, "SELECT count(*) FROM audit_log WHERE actor = 'ana' AND row_count = 42 "
                      "AND host IS NULL"), ==, 1);
    weir_store_stmt *st = NULL;
    CHECK_OK(weir_store_prepare(s, "SELECT description FROM schema_migrations ORDER BY version",
                                &st, &err), &err);
    CHECK_INT(weir_store_step(st, &err), ==, 1);
    CHECK_STR(weir_store_col_text(st, 0), "initial schema");
    CHECK_INT(weir_store_step(st, &err), ==, 1);
    CHECK_STR(weir_store_col_text(st, 0), "test: audit host");
    CHECK_INT(weir_store_step(st, &err), ==, 0);
    weir_store_stmt_free(st);
    weir_store_free(s);
}

TEST(newer_store_is_refused)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    const char *path = store_path("new.db");
    weir_store_options v2 = options(2);
    CHECK_OK(weir_store_open(path, NULL, &s, &err), &err);
    CHECK_OK(weir_store_exec(s, "PRAGMA user_version = 7", &err), &err);
    weir_store_free(s);

    CHECK_INT(weir_store_open(path, &v2, &s, &err), ==, WEIR_EVERSION);
    CHECK(s == NULL);
    weir_buf want = WEIR_BUF_INIT;
    weir_buf_addf(&want, "store '%s' has schema version 7, this weir understands up to 2: "
                         "upgrade weir", path);
    CHECK_STR(weir_error_str(&err), want.ptr);
    weir_buf_release(&want);
    weir_error_release(&err);
}

TEST(failing_migration_leaves_the_old_version)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    const char *path = store_path("fail.db");
    weir_store_options v1 = options(1), v3 = options(3);
    CHECK_OK(weir_store_open(path, &v1, &s, &err), &err);
    CHECK_OK(weir_store_audit_append(s, "bo", "purge", NULL, NULL, -1, NULL, &err), &err);
    weir_store_free(s);

    CHECK_INT(weir_store_open(path, &v3, &s, &err), ==, WEIR_ERROR);
    CHECK(s == NULL);
    weir_buf want = WEIR_BUF_INIT;
    weir_buf_addf(&want, "cannot upgrade store '%s' to schema version 3 (test: fails half "
                         "way): no such table: no_such_table", path);
    CHECK_STR(weir_error_str(&err), want.ptr);
    weir_buf_release(&want);
    weir_error_clear(&err);

    /* nothing of v2 or v3 stayed, and the data is there */
    CHECK_OK(weir_store_open(path, &v1, &s, &err), &err);
    CHECK_INT(weir_store_schema_version(s), ==, 1);
    CHECK_INT(qint(s, "SELECT max(version) FROM schema_migrations"), ==, 1);
    CHECK(!has_table(s, "v2_only"));
    CHECK(!has_table(s, "v3_partial"));
    CHECK_INT(qint(s, "SELECT count(*) FROM audit_log WHERE actor = 'bo'"), ==, 1);
    weir_store_free(s);
}

TEST(bad_migration_lists_are_refused)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    weir_store_migration gap[] = { { 1, "one", "SELECT 1" }, { 3, "three", "SELECT 1" } };
    weir_store_options o = WEIR_STORE_OPTIONS_INIT;
    o.migrations = gap;
    o.n_migrations = 2;
    CHECK_INT(weir_store_open(store_path("gap.db"), &o, &s, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "store migration 2 has version 3, expected 2");
    weir_error_release(&err);
}

TEST(not_a_sqlite_file_gives_a_clear_error)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    const char *path = store_path("junk.db");
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    CHECK_OK(weir_fs_write_atomic(path, junk, sizeof(junk), &err), &err);
    CHECK_INT(weir_store_open(path, NULL, &s, &err), ==, WEIR_EINVALID);
    CHECK(s == NULL);
    weir_buf want = WEIR_BUF_INIT;
    weir_buf_addf(&want, "cannot open store '%s': file is not a database", path);
    CHECK_STR(weir_error_str(&err), want.ptr);
    weir_buf_release(&want);
    weir_error_clear(&err);

    /* a folder where the file should be */
    CHECK_OK(weir_fs_mkdir_p(store_path("dir.db"), &err), &err);
    CHECK_INT(weir_store_open(store_path("dir.db"), NULL, &s, &err), <, 0);
    CHECK_CONTAINS(weir_error_str(&err), "cannot open store '");
    weir_error_release(&err);
}

TEST(readers_read_while_one_writes)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *w = NULL, *r = NULL, *w2 = NULL;
    const char *path = store_path("shared.db");
    weir_store_options quick = WEIR_STORE_OPTIONS_INIT;
    quick.busy_timeout_ms = 50;
    CHECK_OK(weir_store_open(path, NULL, &w, &err), &err);
    CHECK_OK(weir_store_open(path, NULL, &r, &err), &err);
    CHECK_OK(weir_store_open(path, &quick, &w2, &err), &err);
    CHECK_OK(weir_store_audit_append(w, "a", "one", NULL, NULL, 1, NULL, &err), &err);

    CHECK_OK(weir_store_begin(w, &err), &err);
    CHECK_OK(weir_store_audit_append(w, "a", "two", NULL, NULL, 2, NULL, &err), &err);
    /* the reader is not blocked and sees the committed state */
    CHECK_INT(qint(r, "SELECT count(*) FROM audit_log"), ==, 1);
    /* a second writer waits for its busy timeout, then gives up */
    int64_t t0 = weir_monotonic_us();
    CHECK_INT(weir_store_begin(w2, &err), ==, WEIR_EBUSY);
    CHECK_INT(weir_monotonic_us() - t0, >=, 40000);
    CHECK_CONTAINS(weir_error_str(&err), "database is locked");
    weir_error_clear(&err);
    CHECK_OK(weir_store_commit(w, &err), &err);
    CHECK_INT(qint(r, "SELECT count(*) FROM audit_log"), ==, 2);
    CHECK_OK(weir_store_begin(w2, &err), &err);
    CHECK_OK(weir_store_audit_append(w2, "b", "three", NULL, NULL, 3, NULL, &err), &err);
    CHECK_OK(weir_store_rollback(w2, &err), &err);
    CHECK_OK(weir_store_rollback(w2, &err), &err); /* harmless without a transaction */
    CHECK_INT(qint(r, "SELECT count(*) FROM audit_log"), ==, 2);
    weir_store_free(w);
    weir_store_free(r);
    weir_store_free(w2);
}

typedef struct {
    const char *path;
    int rc;
    char msg[256];
} opener;

static void *open_and_append(void *arg)
{
    opener *o = arg;
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    o->rc = weir_store_open(o->path, NULL, &s, &err);
    for (int i = 0; i < 50 && !o->rc; i++)
        o->rc = weir_store_audit_append(s, "t", "x", NULL, NULL, i, NULL, &err);
    snprintf(o->msg, sizeof(o->msg), "%s", weir_error_str(&err));
    weir_store_free(s);
    weir_error_release(&err);
    return NULL;
}

TEST(concurrent_opens_migrate_once)
{
    const char *path = store_path("race.db");
    opener o[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        memset(&o[k], 0, sizeof(o[k]));
        o[k].path = path;
        CHECK_INT(pthread_create(&th[k], NULL, open_and_append, &o[k]), ==, 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++)
        if (o[k].rc)
            weir_test_fail(__FILE__, __LINE__, "opener %d: %s", k, o[k].msg);
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    CHECK_OK(weir_store_open(path, NULL, &s, &err), &err);
    CHECK_INT(qint(s, "SELECT count(*) FROM audit_log"), ==, 200);
    CHECK_INT(qint(s, "SELECT count(*) FROM schema_migrations"), ==, weir_store_latest_version());
    weir_store_free(s);
}

TEST(audit_log_round_trip)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = NULL;
    weir_audit_list list = WEIR_VEC_INIT;
    int64_t id1 = 0, id2 = 0;
    weir_ts before = weir_ts_now();
    CHECK_OK(weir_store_open(store_path("audit.db"), NULL, &s, &err), &err);
    CHECK_OK(weir_store_audit_append(s, "ana", "pipeline.rollback", "engagement",
                                     "{ \"from\": \"2024-01-01\", \"to\": \"2024-01-03\" }",
                                     1234, &id1, &err), &err);
    CHECK_OK(weir_store_audit_append(s, "cron", "lake.purge", NULL, NULL, -1, &id2, &err), &err);
    CHECK_INT(id2, >, id1);
    CHECK_INT(weir_store_audit_append(s, "ana", "x", NULL, "{not json", 1, NULL, &err), ==,
              WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "audit details for 'x' are not valid JSON");
    weir_error_clear(&err);
    CHECK_INT(weir_store_audit_append(s, "", "x", NULL, NULL, 1, NULL, &err), ==, WEIR_EINVALID);
    weir_error_clear(&err);

    CHECK_OK(weir_store_audit_list(s, 0, &list, &err), &err);
    CHECK_INT(list.len, ==, 2);
    CHECK_INT(list.items[0].id, ==, id2); /* newest first */
    CHECK_STR(list.items[0].action, "lake.purge");
    CHECK(list.items[0].target == NULL);
    CHECK(list.items[0].details == NULL);
    CHECK_INT(list.items[0].rows, ==, -1);
    CHECK_STR(list.items[1].actor, "ana");
    CHECK_STR(list.items[1].target, "engagement");
    CHECK_STR(list.items[1].details, "{\"from\":\"2024-01-01\",\"to\":\"2024-01-03\"}");
    CHECK_INT(list.items[1].rows, ==, 1234);
    CHECK_INT(list.items[1].at, >=, before / 1000 * 1000);
    CHECK_INT(list.items[1].at, <=, weir_ts_now());
    weir_audit_list_release(&list);

    CHECK_OK(weir_store_audit_list(s, 1, &list, &err), &err);
    CHECK_INT(list.len, ==, 1);
    weir_audit_list_release(&list);
    weir_store_free(s);
}
