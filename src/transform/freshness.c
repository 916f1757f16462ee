/*
 * freshness.c: `weir source freshness` (dbt's `dbt source freshness`).
 *
 * For each selected source table whose `freshness:` has a warn_after or
 * error_after, reads max(loaded_at_field) (rows narrowed by `filter:`),
 * compares its age with the thresholds and reports pass, warn, error or
 * runtime error, a line per source and target/sources.json in dbt's
 * shape. loaded_at_field values are taken as UTC, as dbt takes them.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/fs.h"
#include "engine/engine.h"
#include "transform/tf_int.h"

/* A period in seconds, or 0 when unknown. */
static int64_t period_seconds(const char *p)
{
    if (!p)
        return 0;
    if (!strcmp(p, "minute"))
        return 60;
    if (!strcmp(p, "hour"))
        return 3600;
    if (!strcmp(p, "day"))
        return 86400;
    return 0;
}

/*
 * Reads warn_after or error_after of fr into *limit (seconds; 0 when not
 * set). Returns 0, or an error for a count or period dbt would refuse.
 */
static int threshold(const weir_tnode *n, const json_t *fr, const char *key, int64_t *limit,
                     weir_error *err)
{
    json_t *t = json_object_get(fr, key), *count, *period;
    *limit = 0;
    if (!t || json_is_null(t))
        return 0;
    count = json_object_get(t, "count");
    period = json_object_get(t, "period");
    if (!count || json_is_null(count))
        return 0; /* dbt: a threshold without a count is no threshold */
    if (!json_is_integer(count) || json_integer_value(count) <= 0)
        return weir_error_set(err, WEIR_EINVALID, "%s: source '%s': freshness %s needs a positive 'count'",
                              n->path, n->name, key);
    int64_t secs = period_seconds(json_string_value(period));
    if (!secs)
        return weir_error_set(err, WEIR_EINVALID,
                              "%s: source '%s': freshness %s 'period' must be minute, hour or day",
                              n->path, n->name, key);
    *limit = json_integer_value(count) * secs;
    return 0;
}

/* True when n is a source that asks for a freshness check. */
static int wants_freshness(const weir_tnode *n)
{
    json_t *fr = json_object_get(n->config, "freshness");
    if (n->kind != WEIR_NODE_SOURCE || !json_is_object(fr))
        return 0;
    const char *keys[] = { "warn_after", "error_after" };
    for (size_t i = 0; i < 2; i++) {
        json_t *t = json_object_get(fr, keys[i]);
        if (json_is_object(t) && json_object_get(t, "count") &&
            !json_is_null(json_object_get(t, "count")))
            return 1;
    }
    return 0;
}

typedef struct fresh_result {
    const char *status; /* "pass", "warn", "error", "runtime error" */
    weir_ts max_loaded_at, snapshotted_at;
    int has_max;
    double age;         /* seconds */
    char *message;      /* runtime errors */
    double elapsed;
} fresh_result;

/* Checks one source: fills res; never fails as a whole (errors become the status). */
static void check_source(weir_conn *c, weir_tnode *n, fresh_result *res)
{
    json_t *fr = json_object_get(n->config, "freshness");
    json_t *lat = json_object_get(n->config, "loaded_at_field");
    const char *filter = json_string_value(json_object_get(fr, "filter"));
    weir_error err = WEIR_ERROR_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *r = NULL;
    int64_t warn, error;
    res->status = "runtime error";
    if (threshold(n, fr, "warn_after", &warn, &err) || threshold(n, fr, "error_after", &error, &err))
        goto cleanup;
    if (!json_is_string(lat) || !*json_string_value(lat)) {
        weir_error_set(&err, WEIR_EINVALID, "%s: source '%s' has a freshness but no loaded_at_field",
                       n->path, n->name);
        goto cleanup;
    }
    /* loaded_at_field is an SQL expression in dbt (a column, or a cast) */
    weir_buf_addf(&sql, "select cast(max(%s) as timestamp) from %s", json_string_value(lat), n->relation);
    if (filter && *filter)
        weir_buf_addf(&sql, " where %s", filter);
    res->snapshotted_at = weir_ts_now();
    if (weir_conn_query(c, sql.ptr, &r, &err))
        goto cleanup;
    if (weir_result_rows(r) < 1 || weir_result_is_null(r, 0, 0)) {
        weir_error_set(&err, WEIR_EINVALID, "source '%s' has no rows with a '%s'%s", n->name,
                       json_string_value(lat), filter && *filter ? " (after its filter)" : "");
        goto cleanup;
    }
    weir_result_ts(r, 0, 0, &res->max_loaded_at);
    res->has_max = 1;
    res->age = (double)(res->snapshotted_at - res->max_loaded_at) / 1e6;
    /* dbt: past error_after is an error, else past warn_after a warning */
    if (error && res->age > (double)error)
        res->status = "error";
    else if (warn && res->age > (double)warn)
        res->status = "warn";
    else
        res->status = "pass";
cleanup:
    if (err.code)
        res->message = weir_xstrdup(err.msg.ptr);
    weir_result_free(r);
    weir_buf_release(&sql);
    weir_error_release(&err);
}

static json_t *ts_json(weir_ts t)
{
    char buf[40];
    return json_string(weir_ts_format(t, buf));
}

static json_t *criteria_json(const weir_tnode *n)
{
    json_t *fr = json_object_get(n->config, "freshness");
    json_t *o = json_object();
    const char *keys[] = { "warn_after", "error_after" };
    for (size_t i = 0; i < 2; i++) {
        json_t *t = json_object_get(fr, keys[i]);
        json_t *c = json_object();
        json_object_set(c, "count", json_is_object(t) && json_object_get(t, "count")
                                         ? json_object_get(t, "count") : json_null());
        json_object_set(c, "period", json_is_object(t) && json_object_get(t, "period")
                                          ? json_object_get(t, "period") : json_null());
        json_object_set_new(o, keys[i], c);
    }
    json_t *filter = json_object_get(fr, "filter");
    json_object_set(o, "filter", filter ? filter : json_null());
    return o;
}

int weir_transform_source_freshness(weir_transform *tf, weir_engine *e, const weir_selection *sel,
                                    FILE *out, weir_run_summary *sum, weir_error *err)
{
    weir_conn *c = NULL;
    json_t *results = json_array(), *doc = NULL;
    size_t total = 0, seq = 0;
    int rc;
    int64_t t0 = weir_monotonic_us();
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < tf->nodes.len; i++)
        total += sel->on[i] && tf_cfg_bool(tf->nodes.items[i], "enabled", 1) &&
                 wants_freshness(tf->nodes.items[i]);
    if ((rc = weir_conn_new(e, &c, err)))
        goto cleanup;
    {
        /* timestamps with a time zone are read in UTC, as dbt compares them */
        weir_error ignore = WEIR_ERROR_INIT;
        weir_conn_exec(c, "set TimeZone = 'UTC'", &ignore);
        weir_error_release(&ignore);
    }
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_tnode *n = tf->nodes.items[i];
        if (!sel->on[i] || !tf_cfg_bool(n, "enabled", 1) || !wants_freshness(n))
            continue;
        fresh_result res = { "runtime error", 0, 0, 0, 0, NULL, 0 };
        int64_t s0 = weir_monotonic_us();
        check_source(c, n, &res);
        res.elapsed = (double)(weir_monotonic_us() - s0) / 1e6;
        seq++;
        if (!strcmp(res.status, "pass"))
            sum->ok++;
        else if (!strcmp(res.status, "warn"))
            sum->warn++;
        else
            sum->error++;
        if (out) {
            const char *word = !strcmp(res.status, "pass") ? "PASS"
                               : !strcmp(res.status, "warn") ? "WARN"
                               : !strcmp(res.status, "error") ? "ERROR STALE" : "ERROR";
            if (res.has_max)
                fprintf(out, "%zu of %zu %s freshness of %s (max %s = %.0f s ago) [%s in %.2fs]\n",
                        seq, total, word, n->name, json_string_value(json_object_get(n->config, "loaded_at_field")),
                        res.age, word, res.elapsed);
            else
                fprintf(out, "%zu of %zu %s freshness of %s: %s [%s in %.2fs]\n", seq, total, word,
                        n->name, res.message ? res.message : "", word, res.elapsed);
        }
        json_t *o = json_object();
        json_object_set_new(o, "unique_id", json_string(n->unique_id));
        json_object_set_new(o, "status", json_string(res.status));
        if (res.has_max) {
            json_object_set_new(o, "max_loaded_at", ts_json(res.max_loaded_at));
            json_object_set_new(o, "snapshotted_at", ts_json(res.snapshotted_at));
            json_object_set_new(o, "max_loaded_at_time_ago_in_s", json_real(res.age));
        } else {
            json_object_set_new(o, "error", json_string(res.message ? res.message : ""));
        }
        json_object_set_new(o, "criteria", criteria_json(n));
        json_object_set_new(o, "adapter_response", json_object());
        json_object_set_new(o, "timing", json_array());
        json_object_set_new(o, "thread_id", json_string("Thread-1"));
        json_object_set_new(o, "execution_time", json_real(res.elapsed));
        json_array_append_new(results, o);
        free(res.message);
    }
    sum->total = seq;
    sum->elapsed = (double)(weir_monotonic_us() - t0) / 1e6;
    if (out)
        fprintf(out, "Done. PASS=%zu WARN=%zu ERROR=%zu TOTAL=%zu\n", sum->ok, sum->warn,
                sum->error, sum->total);

    doc = json_object();
    json_t *meta = json_object();
    char now[40];
    json_object_set_new(meta, "dbt_schema_version", json_string("https://schemas.getdbt.com/dbt/sources/v3.json"));
    json_object_set_new(meta, "dbt_version", json_string("1.8.0"));
    json_object_set_new(meta, "generated_at", json_string(weir_ts_format(weir_ts_now(), now)));
    json_object_set_new(meta, "invocation_id", json_string(tf->invocation_id ? tf->invocation_id : ""));
    json_object_set_new(meta, "env", json_object());
    json_object_set_new(doc, "metadata", meta);
    json_object_set(doc, "results", results);
    json_object_set_new(doc, "elapsed_time", json_real(sum->elapsed));
    {
        weir_buf path = WEIR_BUF_INIT;
        char *text = json_dumps(doc, JSON_INDENT(2));
        if (!(rc = weir_fs_mkdir_p(tf->target_dir, err))) {
            weir_path_join(&path, tf->target_dir, "sources.json");
            rc = weir_fs_write_atomic(path.ptr, text, strlen(text), err);
        }
        free(text);
        weir_buf_release(&path);
    }
    if (!rc && sum->error)
        rc = WEIR_ERROR;
cleanup:
    weir_conn_free(c);
    json_decref(results);
    json_decref(doc);
    return rc;
}
