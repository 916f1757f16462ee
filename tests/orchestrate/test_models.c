/*
 * Tests of orchestrate/models.c: a pipeline's `models:` selector bound to a
 * compiled project becomes one task per model in build order, each with
 * its tests, looking through ephemeral and unselected models; the tables
 * they write join the pipeline's outputs with their partition_by column.
 */
#include "harness.h"

#include "orchestrate/pipeline.h"
#include "transform/transform.h"

typedef struct fixture {
    weir_project *p;
    weir_transform *tf;
    weir_pipeline *pl;
} fixture;

static void setup(fixture *f, const char *yaml)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    memset(f, 0, sizeof(*f));
    CHECK_INT(weir_project_load(weir_test_data("orchestrate/bind_project"), &f->p, &d), ==, 0);
    CHECK_OK(weir_pipeline_load_models(f->p, NULL, NULL, &f->tf, &d, &err), &err);
    CHECK_INT(weir_pipeline_load_buf(f->p, "pipelines/t.yml", yaml, strlen(yaml), &f->pl, &d), ==, 0);
    weir_diags_release(&d);
    weir_error_release(&err);
}

static void teardown(fixture *f)
{
    weir_pipeline_free(f->pl);
    weir_transform_free(f->tf);
    weir_project_free(f->p);
}

static const weir_task_spec *task(const weir_pipeline *pl, const char *id)
{
    long i = weir_pipeline_task_index(pl, id);
    CHECK(i >= 0);
    return i >= 0 ? &pl->tasks[i] : &pl->tasks[0];
}

static int depends(const weir_pipeline *pl, const char *a, const char *b)
{
    const weir_task_spec *t = task(pl, a);
    long j = weir_pipeline_task_index(pl, b);
    for (size_t k = 0; k < t->n_up; k++)
        if ((long)t->up[k] == j)
            return 1;
    return 0;
}

static int runs_test(weir_transform *tf, const weir_task_spec *t, const char *test)
{
    for (size_t k = 0; k < t->n_tests; k++)
        if (!strcmp(weir_transform_node(tf, t->tests[k])->name, test))
            return 1;
    return 0;
}

TEST(models_become_one_task_each_in_build_order)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    setup(&f, "pipeline: p\n"
              "inputs:\n"
              "  - table: raw.x\n"
              "    partition: day\n"
              "models: [a, b, c, d, w]\n"
              "expectations: [s]\n");
    CHECK(weir_pipeline_has_models(f.pl));
    CHECK_OK(weir_pipeline_bind_models(f.pl, f.tf, &err), &err);
    CHECK(!weir_pipeline_has_models(f.pl));
    CHECK_INT(weir_pipeline_task_index(f.pl, "models"), ==, -1);
    CHECK_INT(weir_pipeline_task_index(f.pl, "e"), ==, -1); /* ephemeral: no task */
    CHECK_INT(weir_pipeline_task_index(f.pl, "u"), ==, -1); /* not selected */
    CHECK_INT(f.pl->n_tasks, ==, 7);                          /* sensor, 5 models, suite */
    CHECK(depends(f.pl, "a", "wait_raw_x"));
    CHECK_INT(task(f.pl, "a")->n_up, ==, 1);
    CHECK(depends(f.pl, "b", "a")); /* through the ephemeral e */
    CHECK(!depends(f.pl, "b", "wait_raw_x"));
    CHECK(depends(f.pl, "c", "a"));
    CHECK(depends(f.pl, "d", "b") && depends(f.pl, "d", "c"));
    CHECK(depends(f.pl, "w", "a")); /* through the unselected u */
    CHECK_STR(weir_task_kind_name(task(f.pl, "d")->kind), "models");
    /* what came after models: waits for every model task */
    CHECK(depends(f.pl, "expect_s", "a") && depends(f.pl, "expect_s", "d") &&
          depends(f.pl, "expect_s", "w"));
    /* the tasks are in an order where upstream comes first */
    for (size_t i = 0; i < f.pl->n_tasks; i++)
        for (size_t k = 0; k < f.pl->tasks[i].n_up; k++)
            CHECK(f.pl->tasks[i].up[k] < i);
    /* and every down list mirrors the up lists */
    for (size_t i = 0; i < f.pl->n_tasks; i++)
        for (size_t k = 0; k < f.pl->tasks[i].n_down; k++) {
            const weir_task_spec *d = &f.pl->tasks[f.pl->tasks[i].down[k]];
            int found = 0;
            for (size_t q = 0; q < d->n_up; q++)
                found |= d->up[q] == i;
            CHECK(found);
        }
    /* tests: a's own right after it; the test on b and c with the later of
     * the two, which then waits for the other */
    CHECK(runs_test(f.tf, task(f.pl, "a"), "not_null_a_x"));
    CHECK_INT(task(f.pl, "a")->n_tests, ==, 1);
    {
        const char *rel = "relationships_c_x__x__ref_b_";
        int in_b = runs_test(f.tf, task(f.pl, "b"), rel), in_c = runs_test(f.tf, task(f.pl, "c"), rel);
        CHECK_INT(in_b + in_c, ==, 1);
        CHECK(in_c ? depends(f.pl, "c", "b") : depends(f.pl, "b", "c"));
    }
    /* the tables model tasks write, for rollback: not the view a or w */
    CHECK_INT(f.pl->n_outputs, ==, 3);
    for (size_t i = 0; i < f.pl->n_outputs; i++) {
        const weir_output_spec *o = &f.pl->outputs[i];
        if (!strcmp(o->table, "main.b"))
            CHECK_STR(o->date_column, "day");
        else
            CHECK(o->date_column == NULL && (!strcmp(o->table, "main.c") || !strcmp(o->table, "main.d")));
        CHECK(o->model != NULL);
    }
    /* binding twice changes nothing */
    CHECK_OK(weir_pipeline_bind_models(f.pl, f.tf, &err), &err);
    CHECK_INT(f.pl->n_tasks, ==, 7);
    weir_error_release(&err);
    teardown(&f);
}

TEST(bad_selectors_and_clashing_names_are_refused_at_their_place)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    setup(&f, "pipeline: p\n"
              "models: \"tag:nothing\"\n");
    CHECK_INT(weir_pipeline_bind_models(f.pl, f.tf, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(err.msg.ptr, "pipelines/t.yml:2:9: models 'tag:nothing' of pipeline 'p' selects no model");
    teardown(&f);
    weir_error_clear(&err);
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: c\n"
              "    run: 'true'\n"
              "models: \"+d\"\n");
    CHECK_INT(weir_pipeline_bind_models(f.pl, f.tf, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(err.msg.ptr, "model 'c' selected by '+d' has the name of task 'c'");
    teardown(&f);
    weir_error_release(&err);
}

TEST(a_server_binds_every_pipeline_with_one_load)
{
    weir_project *p = NULL;
    weir_transform *tf = NULL;
    weir_pipeline_list l = WEIR_VEC_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    const char *ys[] = { "pipeline: one\nmodels: \"+b\"\n", "pipeline: two\nmodels: \"c\"\n",
                         "pipeline: three\ntasks:\n  - name: t\n    run: 'true'\n",
                         "pipeline: bad\nmodels: \"tag:none\"\n" };
    CHECK_INT(weir_project_load(weir_test_data("orchestrate/bind_project"), &p, &d), ==, 0);
    for (size_t i = 0; i < 4; i++) {
        weir_pipeline *pl = NULL;
        CHECK_INT(weir_pipeline_load_buf(p, "pipelines/t.yml", ys[i], strlen(ys[i]), &pl, &d), ==, 0);
        weir_vec_push(&l, pl);
    }
    CHECK_INT(weir_pipeline_bind_all(p, NULL, &l, &tf, &d, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(err.msg.ptr, "pipeline 'bad' selects no model");
    CHECK(tf != NULL);
    CHECK(l.items[0]->transform == tf && l.items[1]->transform == tf);
    CHECK(weir_pipeline_task_index(l.items[0], "a") >= 0 && weir_pipeline_task_index(l.items[0], "b") >= 0);
    CHECK(weir_pipeline_task_index(l.items[1], "c") >= 0 && l.items[1]->n_tasks == 1);
    CHECK(l.items[2]->transform == NULL); /* no models: nothing to bind */
    CHECK(weir_pipeline_has_models(l.items[3]));
    weir_pipeline_list_release(&l);
    weir_transform_free(tf);
    weir_project_free(p);
    weir_diags_release(&d);
    weir_error_release(&err);
}
