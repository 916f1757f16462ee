/*
 * Golden tests of configuration errors: every tests/data/config/errors/NAME.yml
 * is loaded as a weir.yml (interpolation on, with the fixed environment
 * below) and the diagnostics printed must equal NAME.expected, line for line.
 * A file expected to load cleanly has an empty .expected.
 *
 * To write the .expected files of new cases, run the test with
 * WEIR_UPDATE_GOLDEN=1 and read every line it wrote before committing it.
 */
#include "harness.h"

#include "config/project.h"
#include "core/fs.h"

static const char *fake_env(const char *name, void *data)
{
    static const char *const vars[][2] = {
        { "WAREHOUSE_DSN", "postgresql://warehouse/db" },
        { "THREADS", "4" },
        { "EMPTY", "" },
        { "TEAM", "growth" },
    };
    WEIR_UNUSED(data);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(vars); i++)
        if (strcmp(vars[i][0], name) == 0)
            return vars[i][1];
    return NULL;
}

/* Loads one case; appends its diagnostics, one per line, to out. */
static void run_case(const char *yml, const char *name, weir_buf *out)
{
    weir_buf data = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    weir_yaml_options opts = { 0 };

    opts.getenv = fake_env;
    CHECK_OK(weir_fs_read_file(yml, &data, 0, &err), &err);
    int rc = weir_project_load_buf("/project", name, data.ptr, data.len, &opts, &p, &diags);
    /* The return code agrees with the diagnostics. */
    CHECK_INT(rc != 0, ==, diags.errors != 0);
    CHECK_INT(p != NULL, ==, rc == 0);
    weir_diags_sort(&diags);
    for (size_t i = 0; i < diags.list.len; i++) {
        weir_diag_format(&diags.list.items[i], out);
        weir_buf_addch(out, '\n');
    }
    weir_project_free(p);
    weir_diags_release(&diags);
    weir_error_release(&err);
    weir_buf_release(&data);
}

TEST(golden_error_files)
{
    static const char *const exts[] = { ".yml" };
    weir_strvec files = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf got = WEIR_BUF_INIT, want = WEIR_BUF_INIT, expected = WEIR_BUF_INIT;
    weir_buf failures = WEIR_BUF_INIT;
    const char *update = getenv("WEIR_UPDATE_GOLDEN");
    char dir[4096];

    snprintf(dir, sizeof(dir), "%s", weir_test_data("config/errors"));
    CHECK_OK(weir_fs_list(dir, exts, 1, 0, &files, &err), &err);
    CHECK_INT(files.len, >=, 20);
    for (size_t i = 0; i < files.len; i++) {
        const char *name = weir_path_basename(files.items[i]);
        weir_buf_reset(&got);
        weir_buf_reset(&want);
        weir_buf_reset(&expected);
        run_case(files.items[i], name, &got);
        weir_buf_add(&expected, files.items[i], strlen(files.items[i]) - 4);
        weir_buf_adds(&expected, ".expected");
        if (update && *update) {
            CHECK_OK(weir_fs_write_atomic(expected.ptr, got.ptr, got.len, &err), &err);
            continue;
        }
        if (weir_fs_read_file(expected.ptr, &want, 0, &err)) {
            weir_buf_addf(&failures, "%s: %s\n", name, weir_error_str(&err));
            weir_error_clear(&err);
            continue;
        }
        if (strcmp(got.ptr, want.ptr) != 0)
            weir_buf_addf(&failures, "%s:\n--- expected\n%s--- got\n%s", name, want.ptr,
                          got.ptr);
    }
    if (failures.len)
        weir_test_fail(__FILE__, __LINE__, "golden mismatches:\n%s", failures.ptr);
    weir_buf_release(&failures);
    weir_buf_release(&expected);
    weir_buf_release(&want);
    weir_buf_release(&got);
    weir_error_release(&err);
    weir_strvec_release(&files);
}
