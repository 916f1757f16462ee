/* Tests of core/error (chains, locations, diagnostics), core/log, core/fs, core/json. */
#include "harness.h"

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"

static int inner(weir_error *err)
{
    return weir_error_set_at(err, WEIR_EINVALID, "pipelines/x.yml", 3, 5,
                             "unknown key '%s'", "shedule");
}

static int middle(weir_error *err)
{
    int rc = inner(err);
    if (rc)
        return weir_error_wrap(err, "while loading pipeline '%s'", "x");
    return 0;
}

TEST(chain_formats_outermost_first)
{
    weir_error err = WEIR_ERROR_INIT;
    int rc = middle(&err);
    CHECK_INT(rc, ==, WEIR_EINVALID);
    weir_error_wrap(&err, "while checking the project");
    CHECK_STR(weir_error_str(&err),
              "pipelines/x.yml:3:5: while checking the project: while loading pipeline 'x': "
              "unknown key 'shedule'");
    weir_error moved = WEIR_ERROR_INIT;
    weir_error_move(&moved, &err);
    CHECK_INT(err.code, ==, 0);
    CHECK_INT(moved.code, ==, WEIR_EINVALID);
    weir_error_release(&moved);
    weir_error_release(&err);
}

TEST(null_error_is_allowed)
{
    CHECK_INT(weir_error_set(NULL, WEIR_ENOTFOUND, "x"), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_error_wrap(NULL, "y"), ==, WEIR_ERROR);
}

TEST(errno_messages)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf b = WEIR_BUF_INIT;
    int rc = weir_fs_read_file("/nonexistent/file.yml", &b, 0, &err);
    CHECK_INT(rc, ==, WEIR_ENOTFOUND);
    CHECK_STR(weir_error_str(&err), "cannot open '/nonexistent/file.yml': no such file or directory");
    weir_error_release(&err);
    weir_buf_release(&b);
}

TEST(diags_sorted_and_formatted)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_diags_add(&d, WEIR_DIAG_ERROR, "b.yml", 2, 1, "second file");
    weir_diags_add(&d, WEIR_DIAG_WARNING, "a.yml", 9, 3, "late");
    weir_diags_add(&d, WEIR_DIAG_ERROR, "a.yml", 1, 7, "early");
    weir_diags_add(&d, WEIR_DIAG_ERROR, "a.yml", 1, 7, "same place, found later");
    weir_diags_sort(&d);
    CHECK_INT(d.errors, ==, 3);
    CHECK_INT(d.warnings, ==, 1);
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < d.list.len; i++) {
        weir_diag_format(&d.list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    CHECK_STR(b.ptr, "a.yml:1:7: error: early\n"
                     "a.yml:1:7: error: same place, found later\n"
                     "a.yml:9:3: warning: late\n"
                     "b.yml:2:1: error: second file\n");
    weir_buf_release(&b);
    weir_diags_release(&d);
}

TEST(log_levels_and_json)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/log.txt", weir_test_tmpdir());
    FILE *f = fopen(path, "w+");
    CHECK(f);
    weir_log_set_stream(f);
    weir_log_set_level(WEIR_LOG_WARN);
    weir_info("hidden");
    weir_warn("shown %d", 1);
    weir_log_set_format(WEIR_LOG_JSON);
    weir_error_log("quote \" here");
    weir_log_set_stream(NULL);
    weir_log_set_format(WEIR_LOG_TEXT);
    fclose(f);
    weir_buf b = WEIR_BUF_INIT;
    CHECK_OK(weir_fs_read_file(path, &b, 0, NULL), NULL);
    CHECK(strstr(b.ptr, "hidden") == NULL);
    CHECK_CONTAINS(b.ptr, "weir: warning: shown 1\n");
    CHECK_CONTAINS(b.ptr, "\"level\":\"error\",\"msg\":\"quote \\\" here\"}");
    /* the JSON line parses */
    const char *js = strchr(b.ptr, '{');
    json_t *v = NULL;
    CHECK_OK(weir_json_parse(js, strlen(js), "log", &v, NULL), NULL);
    CHECK_STR(json_string_value(json_object_get(v, "msg")), "quote \" here");
    json_decref(v);
    weir_buf_release(&b);
}

TEST(atomic_write_and_listing)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf p = WEIR_BUF_INIT;
    weir_path_join(&p, weir_test_tmpdir(), "a/b/c");
    CHECK_OK(weir_fs_mkdir_p(p.ptr, &err), &err);
    weir_buf_adds(&p, "/x.yml");
    CHECK_OK(weir_fs_write_atomic(p.ptr, "one", 3, &err), &err);
    CHECK_OK(weir_fs_write_atomic(p.ptr, "two!", 4, &err), &err);
    weir_buf got = WEIR_BUF_INIT;
    CHECK_OK(weir_fs_read_file(p.ptr, &got, 0, &err), &err);
    CHECK_STR(got.ptr, "two!");
    weir_buf_reset(&got);
    CHECK_INT(weir_fs_read_file(p.ptr, &got, 3, &err), ==, WEIR_ETOOBIG);
    weir_error_release(&err);
    weir_buf_reset(&p);
    weir_path_join(&p, weir_test_tmpdir(), "a/top.yaml");
    CHECK_OK(weir_fs_write_atomic(p.ptr, "", 0, &err), &err);
    weir_buf_reset(&p);
    weir_path_join(&p, weir_test_tmpdir(), "a/ignored.txt");
    CHECK_OK(weir_fs_write_atomic(p.ptr, "", 0, &err), &err);
    weir_strvec files = WEIR_VEC_INIT;
    const char *exts[] = { ".yml", ".yaml" };
    weir_buf_reset(&p);
    weir_path_join(&p, weir_test_tmpdir(), "a");
    CHECK_OK(weir_fs_list(p.ptr, exts, 2, 1, &files, &err), &err);
    CHECK_INT(files.len, ==, 2);
    CHECK_CONTAINS(files.items[0], "a/b/c/x.yml");
    CHECK_CONTAINS(files.items[1], "a/top.yaml");
    weir_strvec_release(&files);
    weir_buf_release(&p);
    weir_buf_release(&got);
}
