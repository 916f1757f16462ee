/*
 * A pipeline's model task builds one node with weir_transform_build_node:
 * builds of one node take turns on its lock, and one waiting for its turn
 * stops when its cancel flag is set (a timeout, a shutdown), which no query
 * interrupt would reach.
 */
#include "harness.h"

#include "config/project.h"
#include "core/date.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "engine/engine.h"
#include "transform/tf_int.h"
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

/* A loaded and compiled project on an engine in dir. */
typedef struct project {
    weir_project *p;
    weir_transform *tf;
    weir_engine *e;
} project;

static void project_open(const char *dir, project *pr)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf dbfile = WEIR_BUF_INIT;
    memset(pr, 0, sizeof(*pr));
    weir_path_join(&dbfile, dir, "w.duckdb");
    CHECK_OK(weir_engine_open(dbfile.ptr, NULL, &pr->e, &err), &err);
    CHECK_INT(weir_project_load(dir, &pr->p, &diags), ==, 0);
    CHECK_INT(weir_transform_load(pr->p, NULL, &pr->tf, &diags), ==, 0);
    weir_transform_set_engine(pr->tf, pr->e);
    CHECK_OK(weir_transform_compile(pr->tf, &err), &err);
    weir_diags_release(&diags);
    weir_error_release(&err);
    weir_buf_release(&dbfile);
}

static void project_close(project *pr)
{
    weir_transform_free(pr->tf);
    weir_project_free(pr->p);
    weir_engine_free(pr->e);
}

/* One build on its own thread and connection. */
typedef struct builder {
    pthread_t th;
    project *pr;
    size_t node;
    atomic_int cancel;
    int done; /* atomic */
    int rc;
    weir_error err;
    weir_node_outcomes out;
} builder;

static void *build_thread(void *arg)
{
    builder *b = arg;
    weir_conn *c = NULL;
    weir_build_options bo = { NULL, NULL, NULL, NULL, &b->cancel };
    b->rc = weir_conn_new(b->pr->e, &c, &b->err);
    if (!b->rc)
        b->rc = weir_transform_build_node(b->pr->tf, c, b->node, NULL, 0, &bo, &b->out, &b->err);
    weir_conn_free(c);
    __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void builder_start(builder *b, project *pr, size_t node)
{
    memset(b, 0, sizeof(*b));
    b->pr = pr;
    b->node = node;
    weir_error_init(&b->err);
    CHECK_INT(pthread_create(&b->th, NULL, build_thread, b), ==, 0);
}

/* Whether b ended within ms milliseconds. */
static int ended_within(builder *b, int ms)
{
    int64_t until = weir_monotonic_us() + (int64_t)ms * 1000;
    while (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
        if (weir_monotonic_us() >= until)
            return 0;
        struct timespec ts = { 0, 2 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 1;
}

static void builder_finish(builder *b)
{
    pthread_join(b->th, NULL);
    weir_node_outcomes_release(&b->out);
    weir_error_release(&b->err);
}

TEST(a_build_waiting_for_its_turn_stops_when_cancelled)
{
    const char *dir = weir_test_tmpdir();
    project pr;
    builder waits, stops;
    weir_error err = WEIR_ERROR_INIT;
    weir_node_outcomes out;
    atomic_int at_once = 1;
    weir_conn *c = NULL;

    put(dir, "dbt_project.yml", "name: turns\nmodels:\n  turns:\n    +materialized: table\n");
    put(dir, "models/m.sql", "select 1 as x\n");
    project_open(dir, &pr);
    weir_tnode *m = weir_transform_find(pr.tf, "m");
    CHECK(m != NULL);

    /* another interval's build holds the model's turn */
    pthread_mutex_lock(&pr.tf->build_locks[m->index]);
    builder_start(&waits, &pr, m->index);
    builder_start(&stops, &pr, m->index);
    CHECK(!ended_within(&waits, 150));
    CHECK(!ended_within(&stops, 1));

    /* a timeout sets the flag while the build waits: it returns promptly */
    int64_t t0 = weir_monotonic_us();
    atomic_store(&stops.cancel, 1);
    if (!ended_within(&stops, 2000))
        weir_test_fail(__FILE__, __LINE__, "a cancelled build still waits for its turn after 2 s");
    CHECK_INT(weir_monotonic_us() - t0, <, 1000000);
    CHECK_INT(stops.rc, ==, WEIR_EINTERRUPTED);
    CHECK_CONTAINS(weir_error_str(&stops.err), "build of model 'm' interrupted while waiting");
    CHECK_INT(stops.out.list.len, ==, 0); /* nothing ran */

    /* a build whose flag is set before it starts does not wait either */
    memset(&out, 0, sizeof(out));
    CHECK_OK(weir_conn_new(pr.e, &c, &err), &err);
    weir_build_options bo = { NULL, NULL, NULL, NULL, &at_once };
    CHECK_INT(weir_transform_build_node(pr.tf, c, m->index, NULL, 0, &bo, &out, &err), ==,
              WEIR_EINTERRUPTED);
    weir_node_outcomes_release(&out);
    weir_error_clear(&err);

    /* the build without a cancel still waits, then builds once its turn comes */
    CHECK(!ended_within(&waits, 1));
    pthread_mutex_unlock(&pr.tf->build_locks[m->index]);
    if (!ended_within(&waits, 10000))
        weir_test_fail(__FILE__, __LINE__, "the waiting build did not finish after its turn came");
    CHECK_OK(waits.rc, &waits.err);
    CHECK_INT(waits.out.list.len, ==, 1);
    CHECK_STR(waits.out.list.items[0].status, "success");

    builder_finish(&waits);
    builder_finish(&stops);
    weir_conn_free(c);
    weir_error_release(&err);
    project_close(&pr);
}

/*
 * Generic tests read the run's vars: their where config and templated
 * arguments render per build, as singular tests do. The project's own ds is
 * the bad day, so SQL rendered once at compile would fail the clean day.
 */
static void write_where_project(const char *dir)
{
    put(dir, "dbt_project.yml",
          "name: runvars\n"
          "vars: {ds: '2024-01-02', max_k: 0}\n"
          "models:\n  runvars:\n    +materialized: table\n");
    /* 2024-01-01 is clean; 2024-01-02 breaks every test below */
    put(dir, "models/days.sql",
        "select * from (values\n"
        "  (date '2024-01-01', 1, 'a', 10, 1), (date '2024-01-01', 2, 'b', 20, 2),\n"
        "  (date '2024-01-02', 3, 'a', null, 1), (date '2024-01-02', 3, 'z', -5, 9)\n"
        ") t(day, k, status, v, fk)\n");
    put(dir, "models/parents.sql", "select * from (values (1), (2)) t(pk)\n");
    put(dir, "macros/tests.sql",
        "{% test non_negative(model, column_name) %}\n"
        "select * from {{ model }} where {{ column_name }} < 0\n"
        "{% endtest %}\n"
        "{% test at_most(model, column_name, max_value) %}\n"
        "select * from {{ model }} where {{ column_name }} > {{ max_value }}\n"
        "{% endtest %}\n");
    put(dir, "models/schema.yml",
        "version: 2\n"
        "models:\n"
        "  - name: days\n"
        "    columns:\n"
        "      - name: v\n"
        "        tests:\n"
        "          - not_null: { name: v_nn, config: { where: \"day = '{{ var(\\\"ds\\\") }}'\" } }\n"
        "          - non_negative: { name: v_nonneg, config: { where: \"day = '{{ var(\\\"ds\\\") }}'\" } }\n"
        "      - name: k\n"
        "        tests:\n"
        "          - unique: { name: k_u, where: \"day = '{{ var('ds') }}'\" }\n"
        "          - at_most: { name: k_max, max_value: \"{{ var('max_k') }}\" }\n"
        "      - name: status\n"
        "        tests:\n"
        "          - accepted_values: { name: status_av, values: [a, b], config: { where: \"day = '{{ var('ds') }}'\" } }\n"
        "      - name: fk\n"
        "        tests:\n"
        "          - relationships: { name: fk_rel, to: ref('parents'), field: pk, config: { where: \"day = '{{ var('ds') }}'\" } }\n");
}

/* Builds node name with vars (JSON text); returns the call's code, fills out and log. */
static int build_with(project *pr, const char *name, const char *vars_json, int batched,
                      weir_node_outcomes *out, weir_buf *logtext)
{
    WEIR_VEC(size_t) tests = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_conn *c = NULL;
    json_error_t jerr;
    json_t *vars = json_loads(vars_json, 0, &jerr);
    FILE *log = tmpfile();
    char chunk[4096];
    size_t got;
    int rc;
    weir_tnode *m = weir_transform_find(pr->tf, name);
    CHECK(m != NULL && vars != NULL && log != NULL);
    for (size_t i = 0; i < weir_transform_count(pr->tf); i++) {
        weir_tnode *t = weir_transform_node(pr->tf, i);
        if (t->kind == WEIR_NODE_TEST && t->attached == m->index)
            weir_vec_push(&tests, i);
    }
    CHECK_OK(weir_conn_new(pr->e, &c, &err), &err);
    if (batched)
        unsetenv("WEIR_TEST_BATCH");
    else
        setenv("WEIR_TEST_BATCH", "0", 1);
    memset(out, 0, sizeof(*out));
    weir_build_options bo = { vars, NULL, NULL, log, NULL };
    rc = weir_transform_build_node(pr->tf, c, m->index, tests.items, tests.len, &bo, out, &err);
    unsetenv("WEIR_TEST_BATCH");
    rewind(log);
    weir_buf_reset(logtext);
    while ((got = fread(chunk, 1, sizeof(chunk), log)) > 0)
        weir_buf_add(logtext, chunk, got);
    fclose(log);
    json_decref(vars);
    weir_conn_free(c);
    weir_vec_release(&tests);
    weir_error_release(&err);
    return rc;
}

/* "name=status" of every test in out, in order, space-separated. */
static void statuses(project *pr, const weir_node_outcomes *out, weir_buf *b)
{
    weir_buf_reset(b);
    for (size_t i = 0; i < out->list.len; i++) {
        const weir_tnode *t = weir_transform_node(pr->tf, out->list.items[i].node);
        if (t->kind == WEIR_NODE_TEST)
            weir_buf_addf(b, "%s%s=%s", b->len ? " " : "", t->name, out->list.items[i].status);
    }
}

TEST(generic_tests_render_where_and_arguments_with_the_runs_vars)
{
    const char *dir = weir_test_tmpdir();
    project pr;
    weir_node_outcomes out;
    weir_buf st = WEIR_BUF_INIT, logtext = WEIR_BUF_INIT;

    write_where_project(dir);
    project_open(dir, &pr);
    CHECK_INT(build_with(&pr, "parents", "{}", 1, &out, &logtext), ==, 0);
    weir_node_outcomes_release(&out);

    for (int batched = 0; batched <= 1; batched++) {
        /* the clean day passes, though the project's ds is the bad one */
        CHECK_INT(build_with(&pr, "days", "{\"ds\": \"2024-01-01\", \"max_k\": 10}", batched, &out,
                             &logtext), ==, 0);
        statuses(&pr, &out, &st);
        CHECK_STR(st.ptr, "v_nn=pass v_nonneg=pass k_u=pass k_max=pass status_av=pass fk_rel=pass");
        CHECK_CONTAINS(logtext.ptr, "where day = '2024-01-01'");
        if (batched)
            CHECK_CONTAINS(logtext.ptr, "computed together");
        else
            CHECK(strstr(logtext.ptr, "computed together") == NULL);
        weir_node_outcomes_release(&out);

        /* the bad day fails every test its where keeps to that day */
        CHECK_INT(build_with(&pr, "days", "{\"ds\": \"2024-01-02\", \"max_k\": 10}", batched, &out,
                             &logtext), ==, WEIR_ERROR);
        statuses(&pr, &out, &st);
        CHECK_STR(st.ptr, "v_nn=fail v_nonneg=fail k_u=fail k_max=pass status_av=fail fk_rel=fail");
        for (size_t i = 0; i < out.list.len; i++)
            if (!strcmp(out.list.items[i].status, "fail") && batched == 0)
                CHECK_INT(out.list.items[i].rows, ==, 1);
        CHECK(out.error != NULL);
        weir_node_outcomes_release(&out);

        /* a templated argument reads the run's vars too */
        CHECK_INT(build_with(&pr, "days", "{\"ds\": \"2024-01-01\", \"max_k\": 1}", batched, &out,
                             &logtext), ==, WEIR_ERROR);
        statuses(&pr, &out, &st);
        CHECK_STR(st.ptr, "v_nn=pass v_nonneg=pass k_u=pass k_max=fail status_av=pass fk_rel=pass");
        CHECK_CONTAINS(out.error, "k_max");
        weir_node_outcomes_release(&out);
    }

    /* the graph kept what compile rendered, with the project's vars */
    weir_tnode *nn = NULL;
    for (size_t i = 0; i < weir_transform_count(pr.tf); i++)
        if (!strcmp(weir_transform_node(pr.tf, i)->name, "v_nn"))
            nn = weir_transform_node(pr.tf, i);
    CHECK(nn != NULL);
    CHECK_CONTAINS(nn->compiled_sql, "where day = '2024-01-02'");

    weir_buf_release(&st);
    weir_buf_release(&logtext);
    project_close(&pr);
}

TEST(a_where_that_cannot_render_fails_its_test_only)
{
    const char *dir = weir_test_tmpdir();
    project pr;
    weir_node_outcomes out;
    weir_buf st = WEIR_BUF_INIT, logtext = WEIR_BUF_INIT;

    write_where_project(dir);
    project_open(dir, &pr);
    CHECK_INT(build_with(&pr, "parents", "{}", 1, &out, &logtext), ==, 0);
    weir_node_outcomes_release(&out);
    /* var('ds') is the project's at compile; a run's vars may lack it only
     * if the project's did, so break the template of one test instead */
    weir_tnode *u = NULL;
    for (size_t i = 0; i < weir_transform_count(pr.tf); i++)
        if (!strcmp(weir_transform_node(pr.tf, i)->name, "k_u"))
            u = weir_transform_node(pr.tf, i);
    CHECK(u != NULL);
    json_object_set_new(u->config, "where", json_string("day = '{{ var(\"no_such_var\") }}'"));
    CHECK_INT(build_with(&pr, "days", "{\"ds\": \"2024-01-01\", \"max_k\": 10}", 1, &out, &logtext),
              ==, WEIR_ERROR);
    statuses(&pr, &out, &st);
    CHECK_STR(st.ptr, "v_nn=pass v_nonneg=pass k_u=error k_max=pass status_av=pass fk_rel=pass");
    CHECK_CONTAINS(out.error, "models/schema.yml: cannot render the where config of test 'k_u': "
                              "required var 'no_such_var' not found");
    weir_node_outcomes_release(&out);
    weir_buf_release(&st);
    weir_buf_release(&logtext);
    project_close(&pr);
}
