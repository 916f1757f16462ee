/*
 * bench/orchestrate.c: the orchestration overhead of weir's executor.
 *
 * Runs, with task state durable in a SQLite store (WAL) in a temporary
 * folder and an in-memory DuckDB warehouse:
 *   1. a DAG of 1,000 trivial SQL tasks (20 layers of 50, each task
 *      depending on two of the layer before);
 *   2. a chain of 1,000 sequential trivial SQL tasks.
 * and prints, for each, the wall time, the tasks' own SQL time, the
 * orchestration overhead per task (wall time minus the tasks' own time,
 * per task; for the DAG the tasks' time is divided among the workers), and
 * the gap between a task finishing and its dependant starting (mean, max).
 *
 *   build/bench/orchestrate [WORKERS]     (default 2)
 *
 * Figures only: nothing is asserted.
 */
#include "core/compat.h"

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/executor.h"

static int bench(const char *name, const char *yaml, int workers, const char *dir)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = NULL;
    weir_store *store = NULL;
    weir_engine *engine = NULL;
    weir_exec *x = NULL;
    weir_exec_options o = { 0 };
    weir_exec_stats s;
    weir_buf path = WEIR_BUF_INIT, logs = WEIR_BUF_INIT;
    weir_interval iv;
    int64_t t0, wall;
    double n, own;
    int rc = 1;

    weir_buf_addf(&path, "%s/%s.db", dir, name);
    weir_buf_addf(&logs, "%s/logs-%s", dir, name);
    if (weir_pipeline_load_buf(NULL, name, yaml, strlen(yaml), &pl, &d)) {
        weir_diags_print(&d, stderr);
        goto cleanup;
    }
    if (weir_store_open(path.ptr, NULL, &store, &err) ||
        weir_engine_open(":memory:", NULL, &engine, &err))
        goto fail;
    o.workers = workers;
    o.log_dir = logs.ptr;
    if (weir_exec_new(NULL, store, engine, &o, &x, &err))
        goto fail;
    weir_date day;
    weir_date_parse("2024-01-01", &day);
    weir_schedule_interval_on(&pl->schedule, day, &iv);
    t0 = weir_monotonic_us();
    if (weir_exec_add_run(x, pl, &iv, "manual", 0, NULL, &err) || weir_exec_run(x, &err))
        goto fail;
    wall = weir_monotonic_us() - t0;
    weir_exec_get_stats(x, &s);
    n = (double)s.tasks_done;
    own = !strcmp(name, "chain") ? (double)s.work_us : (double)s.work_us / workers;
    printf("%-6s %4.0f tasks, %d workers: wall %7.1f ms, tasks' own SQL %7.1f ms (sum); "
           "overhead %.3f ms/task; gap mean %.3f ms, max %.3f ms; scheduler CPU %.3f ms/task "
           "(%.0f%% of steps done by the worker that finished); %s\n",
           name, n, workers, wall / 1e3, s.work_us / 1e3, (wall - own) / n / 1e3,
           s.gaps ? (double)s.gap_us / (double)s.gaps / 1e3 : 0.0, s.gap_max_us / 1e3,
           s.owner_cpu_us / n / 1e3, 100.0 * (double)s.led / n,
           s.runs_failed ? "FAILED" : "all succeeded");
    rc = 0;
    goto cleanup;
fail:
    fprintf(stderr, "bench %s: %s\n", name, weir_error_str(&err));
cleanup:
    weir_exec_free(x);
    weir_engine_free(engine);
    weir_store_free(store);
    weir_pipeline_free(pl);
    weir_diags_release(&d);
    weir_error_release(&err);
    weir_buf_release(&path);
    weir_buf_release(&logs);
    return rc;
}

int main(int argc, char **argv)
{
    int workers = argc > 1 ? atoi(argv[1]) : 2;
    char dir[] = "/tmp/weir-bench-XXXXXX";
    weir_buf dag = WEIR_BUF_INIT, chain = WEIR_BUF_INIT;
    int rc = 0;
    if (workers < 1 || !mkdtemp(dir))
        return 2;
    weir_buf_adds(&dag, "pipeline: dag\ntasks:\n");
    for (int layer = 0; layer < 20; layer++)
        for (int i = 0; i < 50; i++) {
            weir_buf_addf(&dag, "  - name: t%d_%d\n    sql: select 1\n", layer, i);
            if (layer)
                weir_buf_addf(&dag, "    depends_on: [t%d_%d, t%d_%d]\n", layer - 1, i, layer - 1,
                              (i + 1) % 50);
            else
                weir_buf_adds(&dag, "    depends_on: []\n");
        }
    weir_buf_adds(&chain, "pipeline: chain\ntasks:\n");
    for (int i = 0; i < 1000; i++) {
        weir_buf_addf(&chain, "  - name: c%d\n    sql: select 1\n", i);
        if (i)
            weir_buf_addf(&chain, "    depends_on: [c%d]\n", i - 1);
    }
    printf("weir orchestration bench (store: SQLite WAL in %s, synchronous=NORMAL; warehouse: "
           "DuckDB in memory)\n", dir);
    rc |= bench("dag", dag.ptr, workers, dir);
    rc |= bench("chain", chain.ptr, workers, dir);
    weir_fs_remove_tree(dir, NULL);
    weir_buf_release(&dag);
    weir_buf_release(&chain);
    return rc;
}
