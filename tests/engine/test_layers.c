/*
 * The layering rule of DESIGN.md, checked on the source tree: only
 * src/engine/ includes an engine's client header (duckdb.h, libpq-fe.h).
 */
#include "harness.h"

#include "core/fs.h"
#include "core/str.h"

static void check_includes(const char *header, const char *allowed_dir)
{
    const char *top = getenv("WEIR_SRCDIR");
    static const char *const exts[] = { ".c", ".h" };
    weir_buf src = WEIR_BUF_INIT, needle = WEIR_BUF_INIT, allowed = WEIR_BUF_INIT;
    weir_strvec files = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_path_join(&src, top ? top : ".", "src");
    weir_path_join(&allowed, src.ptr, allowed_dir);
    weir_buf_addch(&allowed, '/');
    weir_buf_addf(&needle, "<%s>", header);
    CHECK_OK(weir_fs_list(src.ptr, exts, WEIR_ARRAY_SIZE(exts), 1, &files, &err), &err);
    CHECK_INT(files.len, >, 0);
    for (size_t i = 0; i < files.len; i++) {
        weir_buf text = WEIR_BUF_INIT;
        CHECK_OK(weir_fs_read_file(files.items[i], &text, 0, &err), &err);
        if (strstr(text.ptr, needle.ptr) && !weir_str_starts_with(files.items[i], allowed.ptr))
            weir_test_fail(__FILE__, __LINE__, "'%s' includes %s: only src/%s may", files.items[i],
                           needle.ptr, allowed_dir);
        weir_buf_release(&text);
    }
    weir_strvec_release(&files);
    weir_buf_release(&src);
    weir_buf_release(&needle);
    weir_buf_release(&allowed);
}

TEST(only_engine_includes_engine_clients)
{
    check_includes("duckdb.h", "engine");
    check_includes("libpq-fe.h", "engine");
}
