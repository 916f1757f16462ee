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
