/*
 * dbt's built-in generic tests run two ways: each its own query (as dbt
 * runs them) and batched per model through quality/. A project with nulls,
 * duplicates, keys missing from their parent, an empty model, a view,
 * where / limit / severity / warn_if / error_if configs, a test whose
 * where the engine refuses, a singular test and a model downstream of
 * failing tests is built both ways; every node's status and failure count
 * must be the same, and a few counts are checked against dbt's semantics.
 * A pipeline's model task (weir_transform_build_node) batches its node's
 * tests the same way, and WEIR_TEST_BATCH=0 turns it off there too.
 */
#include "harness.h"

#include "config/project.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "engine/engine.h"
#include "transform/transform.h"

static void put(const char *dir, const char *rel, const char *text)
{
    weir_buf path = WEIR_BUF_INIT, parent = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_path_join(&path, dir, rel);
    weir_buf_add(&parent, path.ptr, (size_t)(strrchr(path.ptr, '/') - path.ptr));
    CHECK_OK(weir_fs_mkdir_p(parent.ptr, &err), &err);
    CHECK_OK(weir_fs_write_atomic(path.ptr, text, strlen(text), &err), &err);
    weir_buf_release(&path);
    weir_buf_release(&parent);
    weir_error_release(&err);
}

/* The same tests on every model M. */
static void model_tests(weir_buf *y, const char *m, int bad_where)
{
    weir_buf_addf(y,
                  "  - name: %s\n"
                  "    columns:\n"
                  "      - name: id\n"
                  "        tests:\n"
                  "          - not_null\n"
                  "          - unique\n"
                  "          - not_null: { name: %s_id_nn_where, config: { where: \"k > 40\" } }\n"
                  "          - unique: { name: %s_id_u_where, config: { where: \"k < 60\" } }\n"
                  "          - unique: { name: %s_id_u_limit, config: { limit: 1 } }\n"
                  "          - not_null: { name: %s_id_nn_warn, config: { severity: warn } }\n"
                  "          - not_null: { name: %s_id_nn_thr, config: { warn_if: \">= 1\", error_if: \"> 2\" } }\n"
                  "          - unique: { name: %s_id_u_thr, config: { warn_if: \"> 1\", error_if: \"> 5\" } }\n"
                  "          - unique: { name: %s_id_u_sevwarn, config: { severity: warn, warn_if: \"> 1\" } }\n"
                  "      - name: status\n"
                  "        tests:\n"
                  "          - accepted_values: { values: [a, b] }\n"
                  "          - accepted_values: { name: %s_st_av_where, values: [a, b, z], config: { where: \"k >= 30\" } }\n"
                  "          - accepted_values: { name: %s_st_av_limit, values: [a], config: { limit: 2, error_if: \">= 2\" } }\n"
                  "          - unique: { name: %s_st_u }\n"
                  "          - not_null: { name: %s_st_nn_limit0, config: { limit: 0 } }\n"
                  "      - name: fk\n"
                  "        tests:\n"
                  "          - relationships: { to: ref('parents'), field: pk }\n"
                  "          - relationships: { name: %s_fk_rel_where, to: ref('parents'), field: pk, config: { where: \"k <= 50\" } }\n"
                  "          - accepted_values: { name: %s_fk_av_noquote, values: [1, 2, 3], quote: false }\n"
                  "      - name: grp\n"
                  "        tests:\n"
                  "          - unique: { name: %s_grp_u_where, config: { where: \"grp = 'x'\" } }\n"
                  "          - relationships: { name: %s_grp_rel, to: ref('items'), field: grp }\n",
                  m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m);
    if (bad_where)
        weir_buf_addf(y, "          - not_null: { name: %s_bad_where, config: { where: \"no_such_column > 1\" } }\n", m);
}

static void write_project(const char *dir)
{
    weir_buf y = WEIR_BUF_INIT;
    put(dir, "dbt_project.yml", "name: batch\nmodels:\n  batch:\n    +materialized: table\n");
    put(dir, "models/items.sql",
        "select * from (values\n"
        "  (1, 'a', 10, 1, 'x'), (1, 'b', 20, 2, 'x'), (2, 'a', 30, 9, 'y'),\n"
        "  (null, 'z', 40, null, 'y'), (3, null, 50, 3, null), (3, 'z', 60, 8, 'x'),\n"
        "  (4, 'q', 70, 1, 'x'), (null, null, 80, 7, 'y')\n"
        ") t(id, status, k, fk, grp)\n");
    put(dir, "models/parents.sql", "select * from (values (1), (2), (2), (3)) t(pk)\n");
    put(dir, "models/empty_items.sql", "select * from {{ ref('items') }} where false\n");
    put(dir, "models/items_v.sql", "{{ config(materialized='view') }}\nselect * from {{ ref('items') }}\n");
    put(dir, "models/downstream.sql", "select count(*) as n from {{ ref('items') }}\n");
    put(dir, "tests/assert_k_small.sql", "select * from {{ ref('items') }} where k > 70\n");
    weir_buf_adds(&y, "version: 2\nmodels:\n");
    model_tests(&y, "items", 0);
    model_tests(&y, "empty_items", 0);
    model_tests(&y, "items_v", 1);
    put(dir, "models/schema.yml", y.ptr);
    weir_buf_release(&y);
}

/* Runs what of everything; returns run_results.json's results by unique_id. */
static json_t *run_all(const char *dir, weir_engine *e, unsigned what, int own)
{
    weir_project *p = NULL;
    weir_transform *tf = NULL;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_selection sel;
    weir_buf path = WEIR_BUF_INIT;
    json_t *rr = NULL, *out = json_object(), *x;
    size_t i;
    CHECK_INT(weir_project_load(dir, &p, &diags), ==, 0);
    CHECK_INT(weir_transform_load(p, NULL, &tf, &diags), ==, 0);
    weir_transform_set_engine(tf, e);
    CHECK_OK(weir_transform_compile(tf, &err), &err);
    CHECK_OK(weir_transform_select(tf, NULL, 0, NULL, 0, 1, &sel, &err), &err);
    weir_run_options ro = { what, 2, 0, 0, "build", NULL, own };
    /* some tests fail: the run says so */
    CHECK_INT(weir_transform_run(tf, e, &sel, &ro, NULL, &err), ==, what == WEIR_RUN_MODELS ? 0 : WEIR_ERROR);
    weir_error_clear(&err);
    weir_path_join(&path, dir, "target/run_results.json");
    CHECK_OK(weir_json_load_file(path.ptr, &rr, &err), &err);
    json_array_foreach(json_object_get(rr, "results"), i, x)
        json_object_set(out, json_string_value(json_object_get(x, "unique_id")), x);
    json_decref(rr);
    weir_selection_release(&sel);
    weir_transform_free(tf);
    weir_project_free(p);
    weir_diags_release(&diags);
    weir_error_release(&err);
    weir_buf_release(&path);
    return out;
}

static const char *status_of(json_t *res, const char *id)
{
    json_t *x = json_object_get(res, id);
    CHECK(x != NULL);
    return json_string_value(json_object_get(x, "status"));
}

static long long failures_of(json_t *res, const char *id)
{
    json_t *x = json_object_get(res, id);
    CHECK(x != NULL);
    return json_is_integer(json_object_get(x, "failures")) ? json_integer_value(json_object_get(x, "failures"))
                                                           : -1;
}

/* Every node has the same status and failure count in a and b. */
static void same(json_t *a, json_t *b, size_t *seen, const char *const *kinds, size_t n_kinds,
                 size_t *n_tests)
{
    const char *k;
    json_t *x;
    CHECK_INT(json_object_size(a), ==, json_object_size(b));
    json_object_foreach(a, k, x)
    {
        const char *st = status_of(a, k);
        if (strcmp(st, status_of(b, k)) || failures_of(a, k) != failures_of(b, k))
            weir_test_fail(__FILE__, __LINE__, "%s: own query %s with %lld failures, batched %s with %lld",
                           k, st, failures_of(a, k), status_of(b, k), failures_of(b, k));
        *n_tests += weir_str_starts_with(k, "test.");
        for (size_t i = 0; i < n_kinds; i++)
            seen[i] += !strcmp(st, kinds[i]);
    }
}

TEST(batched_generic_tests_match_their_own_queries)
{
    const char *dir = weir_test_tmpdir();
    weir_engine *e = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf dbfile = WEIR_BUF_INIT, sql = WEIR_BUF_INIT;
    size_t n_tests = 0, seen[5] = { 0 };
    static const char *const kinds[] = { "pass", "fail", "warn", "error", "skipped" };

    write_project(dir);
    weir_path_join(&dbfile, dir, "w.duckdb");
    CHECK_OK(weir_engine_open(dbfile.ptr, NULL, &e, &err), &err);
    json_t *models = run_all(dir, e, WEIR_RUN_MODELS, 0);
    json_t *own = run_all(dir, e, WEIR_RUN_TESTS, 1);
    json_t *batched = run_all(dir, e, WEIR_RUN_TESTS, 0);
    same(own, batched, seen, kinds, WEIR_ARRAY_SIZE(kinds), &n_tests);
    CHECK_INT(n_tests, ==, 59); /* 19 generic tests on each of 3 models, a bad one, a singular one */
    /* dbt's counts: duplicated values, not rows; distinct values outside the list; orphans */
    CHECK_INT(failures_of(batched, "test.batch.unique_items_id"), ==, 2);
    CHECK_INT(failures_of(batched, "test.batch.items_id_u_where"), ==, 1);
    CHECK_INT(failures_of(batched, "test.batch.items_id_u_limit"), ==, 1);
    CHECK_INT(failures_of(batched, "test.batch.accepted_values_items_status__a__b"), ==, 2);
    CHECK_INT(failures_of(batched, "test.batch.items_st_av_limit"), ==, 2);
    CHECK_INT(failures_of(batched, "test.batch.relationships_items_fk__pk__ref_parents_"), ==, 3);
    CHECK_INT(failures_of(batched, "test.batch.items_fk_rel_where"), ==, 1);
    CHECK_INT(failures_of(batched, "test.batch.not_null_items_id"), ==, 2);
    CHECK_STR(status_of(batched, "test.batch.items_id_nn_thr"), "warn");
    CHECK_STR(status_of(batched, "test.batch.items_id_nn_warn"), "warn");
    CHECK_STR(status_of(batched, "test.batch.items_st_nn_limit0"), "pass");
    CHECK_STR(status_of(batched, "test.batch.items_v_bad_where"), "error");
    CHECK_STR(status_of(batched, "test.batch.unique_empty_items_id"), "pass");

    /* the batch really ran: the tests' SQL names it */
    weir_path_join(&sql, dir, "target/run/batch/models/schema.yml/not_null_items_id.sql");
    weir_buf text = WEIR_BUF_INIT;
    CHECK_OK(weir_fs_read_file(sql.ptr, &text, 0, &err), &err);
    CHECK_CONTAINS(text.ptr, "computed together");
    CHECK_CONTAINS(text.ptr, "bitstring_agg"); /* uniqueness of an integer column: a bitmap first */
    weir_buf_release(&text);

    /* in a build, a model's tests run after it and a failing one skips what is downstream */
    json_t *own_build = run_all(dir, e, WEIR_RUN_BUILD, 1);
    json_t *batched_build = run_all(dir, e, WEIR_RUN_BUILD, 0);
    n_tests = 0;
    same(own_build, batched_build, seen, kinds, WEIR_ARRAY_SIZE(kinds), &n_tests);
    CHECK_STR(status_of(batched_build, "model.batch.downstream"), "skipped");
    CHECK_STR(status_of(batched_build, "test.batch.unique_items_v_id"), "skipped");
    CHECK_INT(failures_of(batched_build, "test.batch.unique_items_id"), ==, 2);

    /* every outcome is exercised */
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(kinds); i++)
        if (!seen[i])
            weir_test_fail(__FILE__, __LINE__, "no node ended '%s'", kinds[i]);

    json_decref(models);
    json_decref(own);
    json_decref(batched);
    json_decref(own_build);
    json_decref(batched_build);
    weir_engine_free(e);
    weir_buf_release(&dbfile);
    weir_buf_release(&sql);
    weir_error_release(&err);
}

/* A model task's node and tests, batched or not (WEIR_TEST_BATCH). */
static void build_items(const char *dir, weir_engine *e, int batched, weir_node_outcomes *out,
                        weir_buf *logtext)
{
    FILE *log = tmpfile();
    char chunk[4096];
    size_t got;
    weir_project *p = NULL;
    weir_transform *tf = NULL;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_conn *c = NULL;
    WEIR_VEC(size_t) tests = WEIR_VEC_INIT;
    CHECK_INT(weir_project_load(dir, &p, &diags), ==, 0);
    CHECK_INT(weir_transform_load(p, NULL, &tf, &diags), ==, 0);
    weir_transform_set_engine(tf, e);
    CHECK_OK(weir_transform_compile(tf, &err), &err);
    weir_tnode *items = weir_transform_find(tf, "items");
    CHECK(items != NULL);
    for (size_t i = 0; i < weir_transform_count(tf); i++) {
        weir_tnode *t = weir_transform_node(tf, i);
        if (t->kind == WEIR_NODE_TEST && t->attached == items->index)
            weir_vec_push(&tests, i);
    }
    CHECK_INT(tests.len, >=, 19);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    if (batched)
        unsetenv("WEIR_TEST_BATCH");
    else
        setenv("WEIR_TEST_BATCH", "0", 1);
    /* some tests fail: the build says so */
    CHECK(log != NULL);
    weir_build_options bo = { NULL, NULL, NULL, log, NULL };
    CHECK_INT(weir_transform_build_node(tf, c, items->index, tests.items, tests.len, &bo, out, &err),
              ==, WEIR_ERROR);
    unsetenv("WEIR_TEST_BATCH");
    rewind(log);
    while ((got = fread(chunk, 1, sizeof(chunk), log)) > 0)
        weir_buf_add(logtext, chunk, got);
    fclose(log);
    weir_conn_free(c);
    weir_vec_release(&tests);
    weir_transform_free(tf);
    weir_project_free(p);
    weir_diags_release(&diags);
    weir_error_release(&err);
}

TEST(a_model_task_batches_its_tests_too)
{
    const char *dir = weir_test_tmpdir();
    weir_engine *e = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf dbfile = WEIR_BUF_INIT;
    weir_node_outcomes own, batched;
    weir_buf own_log = WEIR_BUF_INIT, batched_log = WEIR_BUF_INIT;
    memset(&own, 0, sizeof(own));
    memset(&batched, 0, sizeof(batched));
    write_project(dir);
    weir_path_join(&dbfile, dir, "w.duckdb");
    CHECK_OK(weir_engine_open(dbfile.ptr, NULL, &e, &err), &err);
    json_decref(run_all(dir, e, WEIR_RUN_MODELS, 0)); /* the parents the relationships read */
    build_items(dir, e, 0, &own, &own_log);
    build_items(dir, e, 1, &batched, &batched_log);
    /* the task's log shows the SQL that ran: one batch, or each test's own */
    CHECK_CONTAINS(batched_log.ptr, "computed together");
    CHECK(strstr(own_log.ptr, "computed together") == NULL);
    CHECK_INT(own.list.len, ==, batched.list.len);
    size_t fails = 0;
    for (size_t i = 0; i < own.list.len; i++) {
        const weir_node_outcome *a = &own.list.items[i], *b = &batched.list.items[i];
        CHECK_INT(a->node, ==, b->node);
        if (strcmp(a->status, b->status) || a->rows != b->rows)
            weir_test_fail(__FILE__, __LINE__, "node %zu: own %s with %lld, batched %s with %lld", a->node,
                           a->status, a->rows, b->status, b->rows);
        fails += !strcmp(a->status, "fail");
    }
    CHECK_INT(fails, >=, 3);
    CHECK(own.error != NULL && batched.error != NULL);
    weir_node_outcomes_release(&own);
    weir_node_outcomes_release(&batched);
    weir_buf_release(&own_log);
    weir_buf_release(&batched_log);
    weir_engine_free(e);
    weir_buf_release(&dbfile);
    weir_error_release(&err);
}
