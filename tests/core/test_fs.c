/*
 * Tests of core/fs's stamps: the same files give the same stamp, and a
 * rewrite, a rename over a file, a new file and a removed one change it.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/fs.h"

static uint64_t stamp_of(const char *const *paths, size_t n)
{
    uint64_t h = WEIR_FS_STAMP_INIT;
    for (size_t i = 0; i < n; i++)
        h = weir_fs_stamp(h, paths[i]);
    return h;
}

static void put(const char *path, const char *text)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_fs_write_atomic(path, text, strlen(text), &err), &err);
}

TEST(stamps_change_with_the_files)
{
    weir_buf a = WEIR_BUF_INIT, b = WEIR_BUF_INIT;
    weir_buf_addf(&a, "%s/a.yml", weir_test_tmpdir());
    weir_buf_addf(&b, "%s/b.yml", weir_test_tmpdir());
    const char *paths[] = { a.ptr, b.ptr };
    uint64_t s0, s1, s2, s3;
    put(a.ptr, "x: 1\n");
    s0 = stamp_of(paths, 1);
    CHECK(s0 == stamp_of(paths, 1));
    CHECK(s0 != WEIR_FS_STAMP_INIT);
    /* same size, rewritten: renamed over it, so a new inode (and time) */
    put(a.ptr, "x: 2\n");
    s1 = stamp_of(paths, 1);
    CHECK(s1 != s0);
    /* a file that is missing counts, and its creation changes the stamp */
    s2 = stamp_of(paths, 2);
    CHECK(s2 != s1);
    put(b.ptr, "y: 1\n");
    s3 = stamp_of(paths, 2);
    CHECK(s3 != s2);
    CHECK_INT(unlink(b.ptr), ==, 0);
    CHECK(stamp_of(paths, 2) == s2);
    /* the order of the files matters, as the path is part of it */
    put(b.ptr, "x: 2\n");
    {
        const char *rev[] = { b.ptr, a.ptr };
        CHECK(stamp_of(rev, 2) != stamp_of(paths, 2));
    }
    weir_buf_release(&a);
    weir_buf_release(&b);
}
