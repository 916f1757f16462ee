/*
 * results.c: where validation results go once computed: a JSON file under
 * target/validations/<suite>/ (GX's uncommitted/validations layout, one
 * file per run, written atomically) and the metadata store (the whole
 * result in validations, one row per expectation in check_results so that
 * the UI and alerts see expectations next to dbt tests).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "core/json.h"
#include "quality/quality.h"

/* A suite name as one safe path component. */
static void safe_component(const char *s, weir_buf *out)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        weir_buf_adds(out, "_");
        return;
    }
    for (; *s; s++)
        weir_buf_addch(out, (isalnum((unsigned char)*s) || strchr("._-", *s)) ? *s : '_');
}

int weir_quality_write_result(const char *target_dir, const json_t *result, char **path,
                              weir_error *err)
{
    const json_t *meta = json_object_get(result, "meta");
    const char *suite = json_string_value(json_object_get(meta, "expectation_suite_name"));
    const char *when = json_string_value(json_object_get(meta, "validation_time"));
    weir_buf dir = WEIR_BUF_INIT, file = WEIR_BUF_INIT;
    int rc;
    if (path)
        *path = NULL;
    weir_path_join(&dir, target_dir, "validations");
    weir_buf_addch(&dir, '/');
    safe_component(suite ? suite : "suite", &dir);
    if ((rc = weir_fs_mkdir_p(dir.ptr, err)))
        goto cleanup;
    weir_buf_addf(&file, "%s/", dir.ptr);
    safe_component(when ? when : "result", &file);
    weir_buf_adds(&file, ".json");
    if ((rc = weir_json_write_file(file.ptr, result, 2, err)))
        goto cleanup;
    if (path)
        *path = weir_buf_detach(&file, NULL);
cleanup:
    weir_buf_release(&dir);
    weir_buf_release(&file);
    return rc;
}

static char *dump(const json_t *v)
{
    weir_buf b = WEIR_BUF_INIT;
    if (!v)
        return NULL;
    weir_json_dump(v, 0, &b);
    return weir_buf_detach(&b, NULL);
}

/* "orders.id" for a column expectation, the table otherwise. */
static char *target_of(const char *table, const json_t *kwargs)
{
    const char *col = json_string_value(json_object_get(kwargs, "column"));
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_adds(&b, table ? table : "");
    if (col)
        weir_buf_addf(&b, ".%s", col);
    return weir_buf_detach(&b, NULL);
}

int weir_quality_store_result(weir_store *st, const json_t *result, int64_t run_id,
                              const char *path, int64_t *id, weir_error *err)
{
    const json_t *meta = json_object_get(result, "meta");
    const json_t *stats = json_object_get(result, "statistics");
    const json_t *results = json_object_get(result, "results");
    const char *suite = json_string_value(json_object_get(meta, "expectation_suite_name"));
    const char *table = json_string_value(
        json_object_get(json_object_get(meta, "batch_spec"), "table_name"));
    const char *ds = json_string_value(json_object_get(meta, "ds"));
    const char *at = json_string_value(json_object_get(json_object_get(meta, "run_id"),
                                                       "run_time"));
    weir_store_stmt *v = NULL, *c = NULL;
    char *text = dump(result);
    int64_t vid = 0;
    int rc;
    if ((rc = weir_store_begin(st, err)))
        goto cleanup;
    rc = weir_store_prepare(st,
                            "INSERT INTO validations (run_id, suite, target, ds, success, "
                            "evaluated, successful, result_path, result, executed_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &v, err);
    if (rc)
        goto fail;
    if (run_id > 0)
        weir_store_bind_int(v, 1, run_id, err);
    else
        weir_store_bind_null(v, 1, err);
    weir_store_bind_text(v, 2, suite ? suite : "", err);
    weir_store_bind_text(v, 3, table, err);
    weir_store_bind_text(v, 4, ds, err);
    weir_store_bind_int(v, 5, json_is_true(json_object_get(result, "success")), err);
    weir_store_bind_int(v, 6, json_integer_value(json_object_get(stats, "evaluated_expectations")), err);
    weir_store_bind_int(v, 7, json_integer_value(json_object_get(stats, "successful_expectations")), err);
    weir_store_bind_text(v, 8, path, err);
    weir_store_bind_text(v, 9, text, err);
    if (at)
        weir_store_bind_text(v, 10, at, err);
    else
        weir_store_bind_ts(v, 10, weir_ts_now(), err);
    if ((rc = weir_store_step(v, err)) < 0)
        goto fail;
    vid = weir_store_last_insert_id(st);

    rc = weir_store_prepare(st,
                            "INSERT INTO check_results (run_id, check_id, kind, target, ds, "
                            "status, failures, observed, message, details, executed_at) "
                            "VALUES (?, ?, 'expectation', ?, ?, ?, ?, ?, ?, ?, ?)", &c, err);
    if (rc)
        goto fail;
    size_t i;
    json_t *one;
    json_array_foreach(results, i, one) {
        const json_t *cfg = json_object_get(one, "expectation_config");
        const json_t *res = json_object_get(one, "result");
        const json_t *exc = json_object_get(one, "exception_info");
        const char *type = json_string_value(json_object_get(cfg, "expectation_type"));
        const char *msg = json_string_value(json_object_get(exc, "exception_message"));
        weir_buf cid = WEIR_BUF_INIT;
        char *tgt = target_of(table, json_object_get(cfg, "kwargs"));
        char *obs = dump(json_object_get(res, "observed_value"));
        char *details = dump(one);
        const json_t *unexp = json_object_get(res, "unexpected_count");
        weir_buf_addf(&cid, "%s[%zu]:%s", suite ? suite : "", i, type ? type : "?");
        weir_store_reset(c);
        if (run_id > 0)
            weir_store_bind_int(c, 1, run_id, err);
        else
            weir_store_bind_null(c, 1, err);
        weir_store_bind_text(c, 2, cid.ptr, err);
        weir_store_bind_text(c, 3, tgt, err);
        weir_store_bind_text(c, 4, ds, err);
        weir_store_bind_text(c, 5, msg ? "error"
                                 : json_is_true(json_object_get(one, "success")) ? "pass" : "fail",
                             err);
        if (json_is_integer(unexp))
            weir_store_bind_int(c, 6, json_integer_value(unexp), err);
        else
            weir_store_bind_null(c, 6, err);
        weir_store_bind_text(c, 7, obs, err);
        weir_store_bind_text(c, 8, msg, err);
        weir_store_bind_text(c, 9, details, err);
        if (at)
            weir_store_bind_text(c, 10, at, err);
        else
            weir_store_bind_ts(c, 10, weir_ts_now(), err);
        rc = weir_store_step(c, err);
        weir_buf_release(&cid);
        free(tgt);
        free(obs);
        free(details);
        if (rc < 0)
            goto fail;
    }
    if ((rc = weir_store_commit(st, err)))
        goto fail;
    if (id)
        *id = vid;
    rc = 0;
    goto cleanup;
fail:
    weir_store_rollback(st, NULL);
    weir_error_wrap(err, "cannot keep the validation of '%s' in the store", suite ? suite : "");
cleanup:
    weir_store_stmt_free(v);
    weir_store_stmt_free(c);
    free(text);
    return rc;
}
