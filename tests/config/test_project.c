/* Tests of config/project: weir.yml defaults, path resolution, dbt projects,
 * the missing-project message and weir_project_check over a project's files. */
#include "harness.h"

#include "config/project.h"
#include "core/fs.h"

static const char *fake_env(const char *name, void *data)
{
    WEIR_UNUSED(data);
    if (strcmp(name, "WAREHOUSE_DSN") == 0)
        return "postgresql://wh/db";
    return NULL;
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_path_join(&path, dir, rel);
    char *slash = strrchr(path.ptr, '/');
    *slash = '\0';
    CHECK_OK(weir_fs_mkdir_p(path.ptr, &err), &err);
    *slash = '/';
    CHECK_OK(weir_fs_write_atomic(path.ptr, text, strlen(text), &err), &err);
    weir_buf_release(&path);
}

static const char *diags_text(weir_diags *d)
{
    static weir_buf b = WEIR_BUF_INIT;
    weir_buf_reset(&b);
    weir_diags_sort(d);
    for (size_t i = 0; i < d->list.len; i++) {
        weir_diag_format(&d->list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    return b.ptr;
}

static weir_project *load_text(const char *text, weir_diags *d)
{
    weir_project *p = NULL;
    weir_yaml_options o = { 0 };
    o.getenv = fake_env;
    weir_project_load_buf("/srv/proj", "weir.yml", text, strlen(text), &o, &p, d);
    return p;
}

TEST(defaults_of_a_minimal_project)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = load_text("name: classroom\n", &d);
    CHECK_STR(diags_text(&d), "");
    CHECK(p != NULL);
    CHECK_INT(p->kind, ==, WEIR_PROJECT_WEIR);
    CHECK_STR(p->name, "classroom");
    CHECK_STR(p->dir, "/srv/proj");
    CHECK_STR(p->file, "/srv/proj/weir.yml");
    CHECK_INT(p->warehouse.kind, ==, WEIR_WAREHOUSE_DUCKDB);
    CHECK_STR(p->warehouse.type, "duckdb");
    CHECK_STR(p->warehouse.path, "/srv/proj/warehouse.duckdb");
    CHECK(p->warehouse.dsn == NULL);
    CHECK_INT(p->warehouse.threads, ==, 0);
    CHECK_INT(p->store.kind, ==, WEIR_STORE_SQLITE);
    CHECK_STR(p->store.path, "/srv/proj/.weir/store.db");
    CHECK(p->lake_path == NULL);
    CHECK_STR(p->defaults.timezone, "UTC");
    CHECK_INT(p->defaults.retries, ==, 0);
    CHECK_INT(p->defaults.retry_delay, ==, 300);
    CHECK_STR(p->defaults.schedule, "@daily");
    CHECK(p->defaults.owner == NULL);
    const struct { const weir_pathlist *l; const char *path; } paths[] = {
        { &p->paths.models, "/srv/proj/models" },
        { &p->paths.seeds, "/srv/proj/seeds" },
        { &p->paths.macros, "/srv/proj/macros" },
        { &p->paths.tests, "/srv/proj/tests" },
        { &p->paths.snapshots, "/srv/proj/snapshots" },
        { &p->paths.pipelines, "/srv/proj/pipelines" },
        { &p->paths.sources, "/srv/proj/sources" },
        { &p->paths.expectations, "/srv/proj/expectations" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(paths); i++) {
        CHECK_INT(paths[i].l->len, ==, 1);
        CHECK_STR(paths[i].l->items[0], paths[i].path);
    }
    CHECK(p->vars == NULL);
    weir_project_free(p);
    weir_diags_release(&d);
}

TEST(everything_set_and_resolved)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = load_text("name: classroom\n"
                                "warehouse: { type: postgres, dsn: \"${WAREHOUSE_DSN}\", "
                                "threads: 8 }\n"
                                "store: { type: sqlite, path: /var/lib/weir/store.db }\n"
                                "lake: { path: ./data/lake/ }\n"
                                "defaults:\n"
                                "  timezone: Europe/Paris\n"
                                "  retries: 3\n"
                                "  retry_delay: 2m\n"
                                "  schedule: 0 3 * * *\n"
                                "  owner: data\n"
                                "paths:\n"
                                "  models: [models, ./shared/models, /abs/models]\n"
                                "  seeds: data/seeds\n"
                                "  tests: []\n"
                                "vars:\n"
                                "  start: 2024-01-01\n",
                                &d);
    CHECK_STR(diags_text(&d), "");
    CHECK(p != NULL);
    CHECK_INT(p->warehouse.kind, ==, WEIR_WAREHOUSE_POSTGRES);
    CHECK_STR(p->warehouse.dsn, "postgresql://wh/db");
    CHECK(p->warehouse.path == NULL);
    CHECK_INT(p->warehouse.threads, ==, 8);
    CHECK_STR(p->store.path, "/var/lib/weir/store.db");
    CHECK_STR(p->lake_path, "/srv/proj/data/lake/");
    CHECK_STR(p->defaults.timezone, "Europe/Paris");
    CHECK_INT(p->defaults.retries, ==, 3);
    CHECK_INT(p->defaults.retry_delay, ==, 120);
    CHECK_STR(p->defaults.schedule, "0 3 * * *");
    CHECK_STR(p->defaults.owner, "data");
    CHECK_INT(p->paths.models.len, ==, 3);
    CHECK_STR(p->paths.models.items[0], "/srv/proj/models");
    CHECK_STR(p->paths.models.items[1], "/srv/proj/shared/models");
    CHECK_STR(p->paths.models.items[2], "/abs/models");
    CHECK_INT(p->paths.seeds.len, ==, 1);
    CHECK_STR(p->paths.seeds.items[0], "/srv/proj/data/seeds");
    CHECK_INT(p->paths.tests.len, ==, 0);
    CHECK_STR(p->paths.macros.items[0], "/srv/proj/macros");
    CHECK(p->vars != NULL);
    CHECK_STR(weir_yaml_map_get(p->vars, "start")->text, "2024-01-01");
    weir_project_free(p);
    weir_diags_release(&d);

    p = load_text("name: x\nwarehouse: { path: \":memory:\" }\n", &d);
    CHECK(p != NULL);
    CHECK_STR(p->warehouse.path, ":memory:");
    weir_project_free(p);
    weir_diags_release(&d);
}

TEST(merge_keys_and_interpolation_in_weir_yml)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = load_text(
        "name: ${PROJECT:-classroom}\n"
        "vars:\n"
        "  base: &base { type: duckdb, path: base.duckdb, threads: 2 }\n"
        "  pg: &pg { type: postgres }\n"
        "warehouse:\n"
        "  <<: [*base, *pg]\n"
        "  threads: 8\n"
        "defaults: { owner: $$team }\n",
        &d);
    CHECK_STR(diags_text(&d), "");
    CHECK(p != NULL);
    CHECK_STR(p->name, "classroom");
    CHECK_STR(p->warehouse.type, "duckdb");
    CHECK_STR(p->warehouse.path, "/srv/proj/base.duckdb");
    CHECK_INT(p->warehouse.threads, ==, 8);
    CHECK_STR(p->defaults.owner, "$team");
    weir_project_free(p);
    weir_diags_release(&d);
}

TEST(missing_project)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = (weir_project *)&d; /* must be reset to NULL */
    const char *dir = weir_test_tmpdir();
    CHECK_INT(weir_project_load(dir, &p, &d), ==, WEIR_ENOTFOUND);
    CHECK(p == NULL);
    CHECK_INT(d.errors, ==, 1);
    weir_buf want = WEIR_BUF_INIT;
    weir_buf_addf(&want, "error: no weir.yml in '%s' (run 'weir init %s' to create a project)\n",
                  dir, dir);
    CHECK_STR(diags_text(&d), want.ptr);
    weir_buf_release(&want);
    weir_diags_release(&d);

    CHECK_INT(weir_project_load("/nonexistent/dir", &p, &d), ==, WEIR_ENOTFOUND);
    CHECK_STR(diags_text(&d), "error: no weir.yml in '/nonexistent/dir' (run 'weir init "
                              "/nonexistent/dir' to create a project)\n");
    weir_diags_release(&d);
}

TEST(load_from_a_folder)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    const char *dir = weir_test_tmpdir();
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    write_file(dir, "proj/weir.yml", "name: demo\nwarehouse:\n  path: wh/w.duckdb\n");
    CHECK(chdir(dir) == 0);

    CHECK_OK(weir_project_load("proj", &p, &d), NULL);
    char *real = realpath(dir, NULL);
    weir_buf want = WEIR_BUF_INIT;
    weir_buf_addf(&want, "%s/proj", real);
    CHECK_STR(p->dir, want.ptr);
    CHECK_STR(p->display_dir, "proj");
    weir_buf_adds(&want, "/wh/w.duckdb");
    CHECK_STR(p->warehouse.path, want.ptr);
    weir_buf_reset(&want);
    weir_buf_addf(&want, "%s/proj/weir.yml", real);
    CHECK_STR(p->file, want.ptr);
    weir_project_free(p);

    /* Errors name the file as the user reaches it from here. */
    write_file(dir, "proj/weir.yml", "name: demo\nwarehouse:\n  threads: many\n");
    CHECK_INT(weir_project_load("proj/", &p, &d), ==, WEIR_EINVALID);
    CHECK(p == NULL);
    CHECK_STR(diags_text(&d), "proj/weir.yml:3:12: error: expected an integer for "
                              "'warehouse.threads', got 'many'\n");
    weir_diags_release(&d);
    CHECK(chdir("proj") == 0);
    CHECK_INT(weir_project_load(".", &p, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d), "weir.yml:3:12: error: expected an integer for "
                              "'warehouse.threads', got 'many'\n");
    weir_diags_release(&d);

    CHECK(chdir(cwd) == 0);
    free(real);
    weir_buf_release(&want);
}

TEST(dbt_project_is_a_project)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    const char *dir = weir_test_tmpdir();
    write_file(dir, "dbt_project.yml",
               "name: 'jaffle_shop'\n"
               "version: '1.0.0'\n"
               "config-version: 2\n"
               "profile: jaffle_shop\n"
               "model-paths: [\"models\", \"more\"]\n"
               "seed-paths: [\"seeds\"]\n"
               "target-path: target\n"
               "models:\n"
               "  jaffle_shop:\n"
               "    +materialized: \"{{ env_var('MAT', 'view') }} ${NOT_INTERPOLATED}\"\n");
    CHECK_OK(weir_project_load(dir, &p, &d), NULL);
    CHECK_STR(diags_text(&d), "");
    CHECK_INT(p->kind, ==, WEIR_PROJECT_DBT);
    CHECK_STR(p->name, "jaffle_shop");
    CHECK_INT(p->paths.models.len, ==, 2);
    CHECK_CONTAINS(p->paths.models.items[1], "/more");
    CHECK_CONTAINS(p->file, "/dbt_project.yml");
    CHECK_INT(p->warehouse.kind, ==, WEIR_WAREHOUSE_DUCKDB);
    CHECK_CONTAINS(p->warehouse.path, "/warehouse.duckdb");
    weir_project_free(p);

    /* weir.yml wins when both are there. */
    write_file(dir, "weir.yml", "name: weir_side\n");
    CHECK_OK(weir_project_load(dir, &p, &d), NULL);
    CHECK_INT(p->kind, ==, WEIR_PROJECT_WEIR);
    CHECK_STR(p->name, "weir_side");
    weir_project_free(p);
    weir_diags_release(&d);

    /* A dbt project without a name is reported. */
    const char *dir2 = weir_test_tmpdir();
    write_file(dir2, "sub/dbt_project.yml", "version: '1.0'\n");
    weir_buf sub = WEIR_BUF_INIT;
    weir_path_join(&sub, dir2, "sub");
    CHECK_INT(weir_project_load(sub.ptr, &p, &d), ==, WEIR_EINVALID);
    CHECK_CONTAINS(diags_text(&d), "dbt_project.yml:1:1: error: missing required key 'name'\n");
    weir_buf_release(&sub);
    weir_diags_release(&d);
}

TEST(check_reports_every_file)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    const char *dir = weir_test_tmpdir();
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    write_file(dir, "p/weir.yml", "name: demo\npaths: { sources: [sources, extra] }\n");
    write_file(dir, "p/pipelines/good.yml", "pipeline: good\nschedule: '@daily'\n");
    write_file(dir, "p/pipelines/sub/broken.yaml", "pipeline: [x\n");
    write_file(dir, "p/pipelines/notes.txt", "not: [yaml\n");
    write_file(dir, "p/sources/app.yml", "source: app\nsource: again\n");
    write_file(dir, "p/extra/env.yml", "dsn: ${NOT_SET_ANYWHERE_42}\n");
    write_file(dir, "p/models/schema.yml",
               "version: 2\nmodels:\n  - name: x\n    description: \"${dbt_is_not_interpolated}\"\n");
    write_file(dir, "p/models/staging/bad.yml", "a: 1\n\tb: 2\n");
    write_file(dir, "p/expectations/suite.yml", "a: 1\n---\nb: 2\n");
    CHECK(chdir(dir) == 0);
    CHECK_OK(weir_project_load("p", &p, &d), NULL);
    CHECK_INT(weir_project_check(p, &d), ==, WEIR_EINVALID);
    CHECK_STR(diags_text(&d),
              "p/expectations/suite.yml:2:1: error: more than one document in the file "
              "(remove the second '---')\n"
              "p/extra/env.yml:1:6: error: environment variable 'NOT_SET_ANYWHERE_42' is not "
              "set (set it, or write '${NOT_SET_ANYWHERE_42:-default}')\n"
              "p/models/staging/bad.yml:2:1: error: found a tab character that violates "
              "indentation while scanning a plain scalar (started at 1:4)\n"
              "p/pipelines/sub/broken.yaml:2:1: error: did not find expected ',' or ']' while "
              "parsing a flow sequence (started at 1:11)\n"
              "p/sources/app.yml:2:1: error: duplicate key 'source' (first defined at line 1)\n");
    weir_project_free(p);
    weir_diags_release(&d);

    /* A clean project checks clean. */
    write_file(dir, "q/weir.yml", "name: q\n");
    write_file(dir, "q/pipelines/a.yml", "pipeline: a\n");
    CHECK_OK(weir_project_load("q", &p, &d), NULL);
    CHECK_OK(weir_project_check(p, &d), NULL);
    CHECK_INT(d.list.len, ==, 0);
    weir_project_free(p);
    CHECK(chdir(cwd) == 0);
}

TEST(invalid_project_can_be_kept_for_check)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    const char *dir = weir_test_tmpdir();
    weir_project_options o = { 0 };
    o.keep_invalid = 1;
    write_file(dir, "weir.yml", "warehouse: { threads: lots }\npaths: { pipelines: flows }\n");
    write_file(dir, "flows/x.yml", "a: 1\na: 2\n");
    CHECK_INT(weir_project_load_opts(dir, &o, &p, &d), ==, WEIR_EINVALID);
    CHECK(p != NULL);
    CHECK_STR(p->name, "");
    CHECK_INT(p->warehouse.threads, ==, 0);
    CHECK_CONTAINS(p->warehouse.path, "/warehouse.duckdb");
    CHECK_INT(d.errors, ==, 2);
    CHECK_INT(weir_project_check(p, &d), ==, WEIR_EINVALID);
    CHECK_INT(d.errors, ==, 3);
    CHECK_CONTAINS(diags_text(&d), "flows/x.yml:2:1: error: duplicate key 'a'");
    weir_project_free(p);
    weir_diags_release(&d);

    /* Without the option, nothing is returned. */
    CHECK_INT(weir_project_load(dir, &p, &d), ==, WEIR_EINVALID);
    CHECK(p == NULL);
    weir_diags_release(&d);

    /* A syntax error leaves nothing to keep. */
    write_file(dir, "weir.yml", "name: [x\n");
    CHECK_INT(weir_project_load_opts(dir, &o, &p, &d), ==, WEIR_EINVALID);
    CHECK(p == NULL);
    weir_diags_release(&d);
}

TEST(environment_is_injectable)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    const char *dir = weir_test_tmpdir();
    weir_project_options o = { 0 };
    o.getenv = fake_env;
    unsetenv("WAREHOUSE_DSN"); /* the real environment must not leak in */
    write_file(dir, "weir.yml", "name: x\nwarehouse: { type: postgres, dsn: \"${WAREHOUSE_DSN}\" }\n");
    write_file(dir, "sources/s.yml", "dsn: ${WAREHOUSE_DSN}\n");
    CHECK_OK(weir_project_load_opts(dir, &o, &p, &d), NULL);
    CHECK_STR(p->warehouse.dsn, "postgresql://wh/db");
    /* the check reads variables the same way */
    CHECK_OK(weir_project_check(p, &d), NULL);
    weir_project_free(p);
    CHECK_INT(weir_project_load(dir, &p, &d), ==, WEIR_EINVALID);
    CHECK_CONTAINS(diags_text(&d), "environment variable 'WAREHOUSE_DSN' is not set");
    weir_diags_release(&d);
}
