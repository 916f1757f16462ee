/*
 * fs.c: files and paths (see fs.h).
 */
/* readdir's d_type and its DT_* names are BSD extensions in glibc */
#define _DEFAULT_SOURCE 1
#include "core/compat.h"

#include <dirent.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/str.h"

int weir_fs_read_file(const char *path, weir_buf *out, size_t limit, weir_error *err)
{
    if (!limit)
        limit = WEIR_FS_READ_LIMIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return weir_error_set_errno(err, errno, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return weir_error_set(err, WEIR_EINVALID, "cannot read '%s': it is a folder", path);
    }
    char chunk[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return weir_error_set_errno(err, e, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > limit) {
            close(fd);
            return weir_error_set(err, WEIR_ETOOBIG, "'%s' is larger than %zu bytes", path, limit);
        }
        weir_buf_add(out, chunk, (size_t)n);
    }
    close(fd);
    return 0;
}

int weir_fs_write_atomic(const char *path, const void *data, size_t len, weir_error *err)
{
    weir_buf tmp = WEIR_BUF_INIT;
    int rc = WEIR_ERROR, fd;
    weir_buf_addf(&tmp, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp.ptr);
    if (fd < 0) {
        rc = weir_error_set_errno(err, errno, "cannot create '%s'", tmp.ptr);
        goto cleanup;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = weir_error_set_errno(err, errno, "cannot write '%s'", path);
            close(fd);
            unlink(tmp.ptr);
            goto cleanup;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        rc = weir_error_set_errno(err, errno, "cannot write '%s'", path);
        close(fd);
        unlink(tmp.ptr);
        goto cleanup;
    }
    close(fd);
    if (rename(tmp.ptr, path) != 0) {
        rc = weir_error_set_errno(err, errno, "cannot replace '%s'", path);
        unlink(tmp.ptr);
        goto cleanup;
    }
    rc = 0;
cleanup:
    weir_buf_release(&tmp);
    return rc;
}

int weir_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int weir_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int weir_fs_mkdir_p(const char *path, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT;
    int rc = 0;
    weir_buf_adds(&b, path);
    for (size_t i = 1; i <= b.len; i++) {
        if (b.ptr[i] != '/' && b.ptr[i] != '\0')
            continue;
        char saved = b.ptr[i];
        b.ptr[i] = '\0';
        if (mkdir(b.ptr, 0755) != 0 && errno != EEXIST) {
            rc = weir_error_set_errno(err, errno, "cannot create folder '%s'", b.ptr);
            break;
        }
        b.ptr[i] = saved;
    }
    if (rc == 0 && !weir_fs_is_dir(path))
        rc = weir_error_set(err, WEIR_EEXISTS, "'%s' exists and is not a folder", path);
    weir_buf_release(&b);
    return rc;
}

int weir_fs_remove_tree(const char *path, weir_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : weir_error_set_errno(err, errno, "cannot remove '%s'", path);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0)
            return weir_error_set_errno(err, errno, "cannot remove '%s'", path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return weir_error_set_errno(err, errno, "cannot open folder '%s'", path);
    struct dirent *de;
    weir_buf child = WEIR_BUF_INIT;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        weir_buf_reset(&child);
        weir_path_join(&child, path, de->d_name);
        rc = weir_fs_remove_tree(child.ptr, err);
    }
    closedir(d);
    weir_buf_release(&child);
    if (rc == 0 && rmdir(path) != 0)
        rc = weir_error_set_errno(err, errno, "cannot remove folder '%s'", path);
    return rc;
}

void weir_path_join(weir_buf *out, const char *a, const char *b)
{
    if (b[0] == '/' || !a[0]) {
        weir_buf_adds(out, b);
        return;
    }
    weir_buf_adds(out, a);
    if (!weir_str_ends_with(a, "/"))
        weir_buf_addch(out, '/');
    while (b[0] == '.' && b[1] == '/')
        b += 2;
    weir_buf_adds(out, b);
}

const char *weir_path_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int has_ext(const char *name, const char *const *exts, size_t n)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (weir_str_ends_with(name, exts[i]))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_into(const char *dir, const char *const *exts, size_t n_exts,
                     int recursive, weir_strvec *out, weir_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return weir_error_set_errno(err, errno, "cannot open folder '%s'", dir);
    }
    struct dirent *de;
    weir_buf p = WEIR_BUF_INIT;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files */
        weir_buf_reset(&p);
        weir_path_join(&p, dir, de->d_name);
        /* the entry's type from readdir saves a stat a file (tens of
         * thousands in a big dbt project); links and file systems that do
         * not fill d_type are asked */
        int is_dir, is_reg;
#ifdef DT_DIR
        if (de->d_type == DT_DIR || de->d_type == DT_REG) {
            is_dir = de->d_type == DT_DIR;
            is_reg = !is_dir;
        } else
#endif
        {
            struct stat st;
            if (stat(p.ptr, &st) != 0)
                continue;
            is_dir = S_ISDIR(st.st_mode);
            is_reg = S_ISREG(st.st_mode);
        }
        if (is_dir) {
            if (recursive)
                rc = list_into(p.ptr, exts, n_exts, recursive, out, err);
        } else if (is_reg && has_ext(de->d_name, exts, n_exts)) {
            weir_strvec_push(out, p.ptr);
        }
    }
    closedir(d);
    weir_buf_release(&p);
    return rc;
}

int weir_fs_list(const char *dir, const char *const *exts, size_t n_exts,
                 int recursive, weir_strvec *out, weir_error *err)
{
    size_t start = out->len;
    int rc = list_into(dir, exts, n_exts, recursive, out, err);
    if (out->len > start)
        qsort(out->items + start, out->len - start, sizeof(char *), cmp_str);
    return rc;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t weir_fs_stamp(uint64_t h, const char *path)
{
    struct stat st;
    int64_t v[4] = { -1, -1, -1, -1 };
    /* the NUL ends the path, so "ab" + "c" and "a" + "bc" differ */
    h = fnv(h, path, strlen(path) + 1);
    if (stat(path, &st) == 0) {
        v[0] = (int64_t)st.st_size;
        v[1] = (int64_t)st.st_mtim.tv_sec;
        v[2] = (int64_t)st.st_mtim.tv_nsec;
        v[3] = (int64_t)st.st_ino; /* a file renamed over it (an atomic write) */
    }
    return fnv(h, v, sizeof(v));
}
