/*
 * schema.c: the store's schema, as the ordered list of its migrations.
 *
 * Rules for adding one: append a new entry with the next version, never
 * edit an entry that has shipped (stores in the field have run it), and
 * write SQL that SQLite and PostgreSQL both accept where possible.
 *
 * Conventions of the tables: timestamps are TEXT "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (UTC, sortable), dates TEXT "YYYY-MM-DD", JSON documents TEXT, states TEXT
 * checked against their list, ids INTEGER PRIMARY KEY.
 */
#include "core/compat.h"

#include "store/store.h"

static const char schema_v1[] =
    /* a pipeline as last loaded from its YAML */
    "CREATE TABLE pipelines ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  owner TEXT,"
    "  schedule TEXT,"
    "  start_date TEXT,"
    "  spec_hash TEXT,"           /* changes when the YAML changes */
    "  paused INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ");"
    /* one run covers one data interval of a pipeline */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,"
    "  run_key TEXT NOT NULL,"    /* e.g. scheduled__2024-01-01, backfill__... */
    "  kind TEXT NOT NULL DEFAULT 'scheduled'"
    "    CHECK (kind IN ('scheduled', 'manual', 'backfill')),"
    "  ds TEXT NOT NULL,"
    "  interval_start TEXT NOT NULL,"
    "  interval_end TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'queued'"
    "    CHECK (state IN ('queued', 'running', 'success', 'failed', 'cancelled')),"
    "  created_at TEXT NOT NULL,"
    "  started_at TEXT,"
    "  ended_at TEXT,"
    "  UNIQUE (pipeline_id, run_key)"
    ");"
    "CREATE INDEX runs_by_date ON runs (pipeline_id, ds);"
    "CREATE INDEX runs_by_state ON runs (state);"
    /* one task of a run; try_number counts its attempts */
    "CREATE TABLE task_instances ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  task_id TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'none'"
    "    CHECK (state IN ('none', 'scheduled', 'queued', 'running', 'success', 'failed',"
    "                     'up_for_retry', 'upstream_failed', 'skipped')),"
    "  try_number INTEGER NOT NULL DEFAULT 0,"
    "  max_tries INTEGER NOT NULL DEFAULT 1,"
    "  hostname TEXT,"
    "  pid INTEGER,"
    "  heartbeat_at TEXT,"        /* a running task whose heartbeat stops is dead */
    "  queued_at TEXT,"
    "  started_at TEXT,"
    "  ended_at TEXT,"
    "  UNIQUE (run_id, task_id)"
    ");"
    "CREATE INDEX task_instances_by_state ON task_instances (state, heartbeat_at);"
    /* every attempt of a task instance, with where its log is */
    "CREATE TABLE task_attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  task_instance_id INTEGER NOT NULL REFERENCES task_instances(id) ON DELETE CASCADE,"
    "  try_number INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'running'"
    "    CHECK (state IN ('running', 'success', 'failed', 'killed')),"
    "  hostname TEXT,"
    "  pid INTEGER,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  log_path TEXT,"
    "  error TEXT,"
    "  UNIQUE (task_instance_id, try_number)"
    ");"
    /* results of tests, expectations and freshness checks */
    "CREATE TABLE check_results ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
    "  task_instance_id INTEGER REFERENCES task_instances(id) ON DELETE SET NULL,"
    "  check_id TEXT NOT NULL,"   /* unique name of the test or expectation */
    "  kind TEXT NOT NULL,"       /* test, expectation, freshness, ... */
    "  target TEXT,"              /* the table or column checked */
    "  ds TEXT,"
    "  status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'error', 'skipped')),"
    "  failures INTEGER,"
    "  observed TEXT,"            /* JSON */
    "  message TEXT,"
    "  details TEXT,"             /* JSON */
    "  executed_at TEXT NOT NULL"
    ");"
    "CREATE INDEX check_results_by_check ON check_results (check_id, executed_at);"
    "CREATE INDEX check_results_by_run ON check_results (run_id);"
    /* monitored numbers (row counts, ...) as one series per metric and target */
    "CREATE TABLE metric_series ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"  /* e.g. row_count:raw.events */
    "  metric TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  created_at TEXT NOT NULL"
    ");"
    "CREATE TABLE metric_points ("
    "  series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,"
    "  ds TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  recorded_at TEXT NOT NULL,"
    "  PRIMARY KEY (series_id, ds)"
    ");"
    /* points outside their forecast band */
    "CREATE TABLE anomalies ("
    "  id INTEGER PRIMARY KEY,"
    "  series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,"
    "  ds TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  expected REAL,"
    "  lower_bound REAL,"
    "  upper_bound REAL,"
    "  score REAL,"
    "  detected_at TEXT NOT NULL,"
    "  alerted_at TEXT,"
    "  acknowledged_by TEXT,"
    "  UNIQUE (series_id, ds)"
    ");"
    /* incremental extract-load state, per source stream */
    "CREATE TABLE ingest_cursors ("
    "  source TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  cursor_field TEXT,"
    "  cursor_value TEXT,"
    "  state TEXT,"               /* JSON, connector-specific */
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (source, stream)"
    ");"
    /* the lake catalog: tables and the partitions written under them */
    "CREATE TABLE catalog_tables ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"  /* schema.table */
    "  location TEXT NOT NULL,"
    "  format TEXT NOT NULL DEFAULT 'parquet',"
    "  partition_by TEXT,"        /* JSON list of columns */
    "  columns TEXT,"             /* JSON list of {name, type} */
    "  description TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ");"
    "CREATE TABLE catalog_partitions ("
    "  table_id INTEGER NOT NULL REFERENCES catalog_tables(id) ON DELETE CASCADE,"
    "  partition_key TEXT NOT NULL,"  /* e.g. day=2024-01-01 */
    "  path TEXT NOT NULL,"
    "  row_count INTEGER,"
    "  bytes INTEGER,"
    "  written_at TEXT NOT NULL,"
    "  deleted_at TEXT,"          /* rolled back, recoverable until purged */
    "  PRIMARY KEY (table_id, partition_key)"
    ");"
    /* destructive and administrative actions: who, when, what */
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT,"
    "  details TEXT,"             /* JSON */
    "  row_count INTEGER"
    ");"
    "CREATE INDEX audit_log_by_time ON audit_log (at);";

/* quality/: one row per validation of an expectation suite, the whole GX
 * result kept; each expectation also goes to check_results */
static const char schema_v2[] =
    "CREATE TABLE validations ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
    "  suite TEXT NOT NULL,"
    "  target TEXT,"              /* the table validated */
    "  ds TEXT,"
    "  success INTEGER NOT NULL,"
    "  evaluated INTEGER NOT NULL,"
    "  successful INTEGER NOT NULL,"
    "  result_path TEXT,"         /* target/validations/<suite>/<time>.json */
    "  result TEXT NOT NULL,"     /* JSON, GX's validation result */
    "  executed_at TEXT NOT NULL"
    ");"
    "CREATE INDEX validations_by_suite ON validations (suite, executed_at);"
    "CREATE INDEX validations_by_run ON validations (run_id);";

/* orchestration: retries' due times, the owner of a run, rollback trash */
static const char schema_v3[] =
    "ALTER TABLE task_instances ADD COLUMN next_try_at TEXT;"
    "ALTER TABLE task_instances ADD COLUMN error TEXT;"
    "ALTER TABLE runs ADD COLUMN pid INTEGER;"
    "ALTER TABLE runs ADD COLUMN hostname TEXT;"
    /* a rollback's deleted rows, kept in the warehouse until purged */
    "CREATE TABLE trash_actions ("
    "  id INTEGER PRIMARY KEY,"
    "  pipeline TEXT NOT NULL,"
    "  date_from TEXT NOT NULL,"
    "  date_to TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'active', 'restored', 'purged')),"
    "  actor TEXT NOT NULL,"
    "  rows INTEGER NOT NULL DEFAULT 0,"
    "  runs TEXT,"                /* JSON: the runs the rollback cancelled, with their states */
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ");"
    "CREATE TABLE trash_tables ("
    "  action_id INTEGER NOT NULL REFERENCES trash_actions(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  table_name TEXT NOT NULL,"
    "  date_column TEXT NOT NULL,"
    "  trash_table TEXT NOT NULL,"  /* in the warehouse's weir_trash schema */
    "  row_count INTEGER NOT NULL,"
    "  PRIMARY KEY (action_id, position)"
    ");";

/* monitor/: the model chosen per series with its backtest scores, every
 * check's verdict, and the severity of anomalies */
static const char schema_v4[] =
    "CREATE TABLE monitor_models ("
    "  series_id INTEGER PRIMARY KEY REFERENCES metric_series(id) ON DELETE CASCADE,"
    "  model TEXT NOT NULL,"      /* e.g. hw_mul, decomp_log */
    "  fitted_through TEXT NOT NULL," /* the last day the fit saw */
    "  sigma REAL,"               /* one-step error scale */
    "  scores TEXT NOT NULL,"     /* JSON: [{model, smape, mase, coverage, n, chosen}] */
    "  fitted_at TEXT NOT NULL"
    ");"
    "CREATE TABLE monitor_checks ("
    "  series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,"
    "  ds TEXT NOT NULL,"
    "  value REAL,"
    "  expected REAL,"
    "  lower_bound REAL,"
    "  upper_bound REAL,"
    "  score REAL,"
    "  level REAL NOT NULL,"
    "  model TEXT,"
    "  verdict TEXT NOT NULL"
    "    CHECK (verdict IN ('ok', 'anomaly', 'insufficient_history', 'missing')),"
    "  severity TEXT NOT NULL DEFAULT 'none'"
    "    CHECK (severity IN ('none', 'low', 'medium', 'high')),"
    "  event TEXT,"               /* the calendar event of the day */
    "  checked_at TEXT NOT NULL,"
    "  PRIMARY KEY (series_id, ds)"
    ");"
    "CREATE INDEX monitor_checks_by_time ON monitor_checks (checked_at);"
    "ALTER TABLE anomalies ADD COLUMN severity TEXT;";

/* orchestrate/: work handed to a running `weir serve` by other commands
 * (pipeline run, backfill, clear), and the runs each request covers */
static const char schema_v5[] =
    "CREATE TABLE requests ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('run', 'backfill', 'clear')),"
    "  pipeline TEXT NOT NULL,"
    "  date_from TEXT NOT NULL,"  /* the run's ds for run and clear */
    "  date_to TEXT NOT NULL,"
    "  task TEXT,"                /* clear: only this task */
    "  spec_hash TEXT,"           /* of the pipeline file the requester loaded */
    "  downstream INTEGER NOT NULL DEFAULT 0,"
    "  rerun INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'running', 'done', 'failed')),"
    "  requested_by TEXT NOT NULL," /* user@host (pid N) */
    "  requested_at TEXT NOT NULL,"
    "  server_pid INTEGER,"       /* the server that took it */
    "  taken_at TEXT,"
    "  finished_at TEXT,"
    "  runs INTEGER NOT NULL DEFAULT 0,"      /* runs it covers */
    "  skipped INTEGER NOT NULL DEFAULT 0,"   /* intervals already successful */
    "  cleared INTEGER NOT NULL DEFAULT 0,"   /* task instances cleared */
    "  succeeded INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT"              /* why it failed, or what it waits for */
    ");"
    "CREATE INDEX requests_by_state ON requests (state, id);"
    "CREATE TABLE request_runs ("
    "  request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (request_id, run_id)"
    ");";

/* orchestrate/: requests can be cancelled. SQLite cannot change a CHECK in
 * place, so both request tables are rebuilt: request_runs first (it points
 * at requests, and dropping requests with foreign keys on would cascade
 * into it), then requests; renaming the new requests table updates the
 * new request_runs' reference. A running request with cancel_requested_at
 * set is being cancelled: the server drops its runs that have not started
 * (counted in dropped) and marks it cancelled when the others finished. */
static const char schema_v6[] =
    "CREATE TABLE requests_v6 ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('run', 'backfill', 'clear')),"
    "  pipeline TEXT NOT NULL,"
    "  date_from TEXT NOT NULL,"
    "  date_to TEXT NOT NULL,"
    "  task TEXT,"
    "  spec_hash TEXT,"
    "  downstream INTEGER NOT NULL DEFAULT 0,"
    "  rerun INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),"
    "  requested_by TEXT NOT NULL,"
    "  requested_at TEXT NOT NULL,"
    "  server_pid INTEGER,"
    "  taken_at TEXT,"
    "  finished_at TEXT,"
    "  runs INTEGER NOT NULL DEFAULT 0,"
    "  skipped INTEGER NOT NULL DEFAULT 0,"
    "  cleared INTEGER NOT NULL DEFAULT 0,"
    "  succeeded INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT,"
    "  cancel_requested_at TEXT,"  /* when someone asked to cancel it */
    "  cancelled_by TEXT,"         /* user@host (pid N) */
    "  dropped INTEGER NOT NULL DEFAULT 0" /* runs the cancel dropped */
    ");"
    "INSERT INTO requests_v6 (id, kind, pipeline, date_from, date_to, task, spec_hash, "
    "  downstream, rerun, state, requested_by, requested_at, server_pid, taken_at, "
    "  finished_at, runs, skipped, cleared, succeeded, failed, message) "
    "SELECT id, kind, pipeline, date_from, date_to, task, spec_hash, downstream, rerun, "
    "  state, requested_by, requested_at, server_pid, taken_at, finished_at, runs, skipped, "
    "  cleared, succeeded, failed, message FROM requests;"
    "CREATE TABLE request_runs_v6 ("
    "  request_id INTEGER NOT NULL REFERENCES requests_v6(id) ON DELETE CASCADE,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (request_id, run_id)"
    ");"
    "INSERT INTO request_runs_v6 (request_id, run_id) SELECT request_id, run_id FROM request_runs;"
    "DROP TABLE request_runs;"
    "DROP TABLE requests;"
    "ALTER TABLE requests_v6 RENAME TO requests;"
    "ALTER TABLE request_runs_v6 RENAME TO request_runs;"
    "CREATE INDEX requests_by_state ON requests (state, id);";

const weir_store_migration weir_store_migrations[] = {
    { 1, "initial schema", schema_v1 },
    { 2, "validations of expectation suites", schema_v2 },
    { 3, "orchestration: retries, run owners, rollback trash", schema_v3 },
    { 4, "monitor: models, checks, anomaly severity", schema_v4 },
    { 5, "orchestration: requests handed to the server", schema_v5 },
    { 6, "orchestration: cancelling requests", schema_v6 },
};

const size_t weir_store_migrations_count = WEIR_ARRAY_SIZE(weir_store_migrations);
