/*
 * Tests of orchestrate/generation: what `weir serve` loads again when a
 * project's files change. The stamp notices edits, new and removed files;
 * a load with an error gives nothing and says where; the diff counts
 * pipelines added, removed and changed, where a comment is no change and a
 * new default in weir.yml is one.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/generation.h"

static void put(const char *dir, const char *rel, const char *text)
{
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_path_join(&path, dir, rel);
    CHECK_OK(weir_fs_write_atomic(path.ptr, text, strlen(text), &err), &err);
    weir_buf_release(&path);
}

static void drop(const char *dir, const char *rel)
{
    weir_buf path = WEIR_BUF_INIT;
    weir_path_join(&path, dir, rel);
    CHECK_INT(unlink(path.ptr), ==, 0);
    weir_buf_release(&path);
}

static weir_generation *load(const char *dir)
{
    weir_generation *g = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_generation_load(dir, NULL, &g, &d, &err);
    if (rc) {
        weir_diags_print(&d, stderr);
        CHECK_OK(rc, &err);
    }
    weir_diags_release(&d);
    return g;
}

static const char task[] = "tasks:\n  - name: t\n    run: \"true\"\n";

static void project(const char *dir)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf_addf(&b, "%s/pipelines", dir);
    CHECK_OK(weir_fs_mkdir_p(b.ptr, &err), &err);
    put(dir, "weir.yml", "name: gen\n");
    weir_buf_reset(&b);
    weir_buf_addf(&b, "pipeline: a\n%s", task);
    put(dir, "pipelines/a.yml", b.ptr);
    weir_buf_reset(&b);
    weir_buf_addf(&b, "pipeline: b\n%s", task);
    put(dir, "pipelines/b.yml", b.ptr);
    weir_buf_release(&b);
}

TEST(stamp_notices_edits_new_and_removed_files)
{
    const char *dir = weir_test_tmpdir();
    weir_generation *g;
    uint64_t s;
    project(dir);
    g = load(dir);
    CHECK_INT(g->pipelines.len, ==, 2);
    s = weir_generation_stamp(g->project);
    CHECK(s == g->stamp);
    CHECK(weir_generation_stamp(g->project) == s);
    put(dir, "pipelines/c.yaml", "pipeline: c\ntasks: []\n");
    CHECK(weir_generation_stamp(g->project) != s);
    drop(dir, "pipelines/c.yaml");
    CHECK(weir_generation_stamp(g->project) == s);
    /* not the files it does not load */
    put(dir, "pipelines/notes.txt", "hello\n");
    CHECK(weir_generation_stamp(g->project) == s);
    put(dir, "weir.yml", "name: gen\n# edited\n");
    CHECK(weir_generation_stamp(g->project) != s);
    weir_generation_free(g);
}

TEST(diff_counts_added_removed_and_changed_pipelines)
{
    const char *dir = weir_test_tmpdir();
    weir_generation *g1, *g2, *g3;
    size_t added, removed, changed;
    weir_buf b = WEIR_BUF_INIT;
    project(dir);
    g1 = load(dir);
    /* a comment is no change */
    weir_buf_addf(&b, "# a comment\npipeline: a\n%s", task);
    put(dir, "pipelines/a.yml", b.ptr);
    g2 = load(dir);
    weir_generation_diff(g1, g2, &added, &removed, &changed);
    CHECK_INT(added, ==, 0);
    CHECK_INT(removed, ==, 0);
    CHECK_INT(changed, ==, 0);
    /* a new pipeline, a removed one, an edited one */
    drop(dir, "pipelines/b.yml");
    put(dir, "pipelines/c.yml", "pipeline: c\ntasks:\n  - name: t\n    run: \"false\"\n");
    weir_buf_reset(&b);
    weir_buf_addf(&b, "pipeline: a\nretries: 3\n%s", task);
    put(dir, "pipelines/a.yml", b.ptr);
    g3 = load(dir);
    weir_generation_diff(g2, g3, &added, &removed, &changed);
    CHECK_INT(added, ==, 1);
    CHECK_INT(removed, ==, 1);
    CHECK_INT(changed, ==, 1);
    weir_generation_free(g1);
    weir_generation_free(g2);
    /* a default in weir.yml changes the pipelines that take it */
    put(dir, "weir.yml", "name: gen\ndefaults: { owner: someone }\n");
    g1 = load(dir);
    weir_generation_diff(g3, g1, &added, &removed, &changed);
    CHECK_INT(added, ==, 0);
    CHECK_INT(removed, ==, 0);
    CHECK_INT(changed, ==, 2);
    weir_generation_free(g1);
    weir_generation_free(g3);
    weir_buf_release(&b);
}

TEST(a_load_with_an_error_gives_nothing_and_says_where)
{
    const char *dir = weir_test_tmpdir();
    weir_generation *g = (weir_generation *)1;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf shown = WEIR_BUF_INIT;
    project(dir);
    put(dir, "pipelines/b.yml", "pipeline: b\ntasks:\n  - name: t\n    runn: \"true\"\n");
    CHECK_INT(weir_generation_load(dir, NULL, &g, &d, &err), ==, WEIR_EINVALID);
    CHECK(g == NULL);
    CHECK_INT(d.errors, ==, 1);
    weir_diag_format(&d.list.items[0], &shown);
    CHECK_CONTAINS(shown.ptr, "pipelines/b.yml:4:5: error: unknown key 'runn'");
    weir_buf_release(&shown);
    weir_diags_release(&d);
    weir_error_release(&err);
}
