/*
 * lock.c: the warehouse lock file (see lock.h), with fcntl record locks:
 * F_GETLK names the holder's pid, and the kernel drops the lock when the
 * holder dies. Record locks belong to the process and vanish when any of
 * its descriptors of the file is closed, so the holder never opens the
 * file a second time (held_fd says it already holds it).
 */
#include "core/compat.h"

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/lock.h"

static int held_fd = -1;

static void lock_path(const char *dir, weir_buf *out)
{
    weir_path_join(out, dir, ".weir/warehouse.lock");
}

int weir_warehouse_busy_error(weir_error *err, long pid, const char *what)
{
    if (!strncmp(what, "weir serve", 10))
        return weir_error_set(err, WEIR_EBUSY,
                              "the warehouse is in use by 'weir serve' (pid %ld), which holds it "
                              "while it runs: stop it with 'kill %ld' (it stops cleanly) and run "
                              "this again; meanwhile 'weir pipeline run', 'backfill' and 'clear' "
                              "hand their work to the server",
                              pid, pid);
    return weir_error_set(err, WEIR_EBUSY,
                          "the warehouse is in use by '%s' (pid %ld): wait for it to finish, or "
                          "stop it with 'kill %ld', then run this again",
                          what, pid, pid);
}

int weir_warehouse_holder(const char *dir, long *pid, char *what, size_t n)
{
    weir_buf path = WEIR_BUF_INIT;
    struct flock fl;
    int fd, held = 0;
    if (held_fd >= 0)
        return 0;
    lock_path(dir, &path);
    fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    weir_buf_release(&path);
    if (fd < 0)
        return 0;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
        char buf[256];
        ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
        char *nl;
        held = 1;
        *pid = (long)fl.l_pid;
        buf[got > 0 ? got : 0] = '\0';
        nl = strchr(buf, '\n');
        snprintf(what, n, "%s", nl ? nl + 1 : "weir");
        if ((nl = strchr(what, '\n')))
            *nl = '\0';
        if (!*what)
            snprintf(what, n, "weir");
    }
    close(fd);
    return held;
}

int weir_warehouse_lock(const char *dir, const char *what, weir_error *err)
{
    weir_buf path = WEIR_BUF_INIT, dirp = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
    struct flock fl;
    int fd = -1, rc = 0;
    if (held_fd >= 0)
        return 0;
    weir_path_join(&dirp, dir, ".weir");
    if ((rc = weir_fs_mkdir_p(dirp.ptr, err)))
        goto cleanup;
    lock_path(dir, &path);
    if ((fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        rc = weir_error_set_errno(err, errno, "cannot open '%s'", path.ptr);
        goto cleanup;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        long pid = 0;
        char holder[200];
        close(fd);
        fd = -1;
        if (weir_warehouse_holder(dir, &pid, holder, sizeof(holder)))
            rc = weir_warehouse_busy_error(err, pid, holder);
        else
            rc = weir_error_set(err, WEIR_EBUSY, "the warehouse lock '%s' is held", path.ptr);
        goto cleanup;
    }
    weir_buf_addf(&text, "%ld\n%s\n", (long)getpid(), what);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text.ptr, text.len, 0) != (ssize_t)text.len) {
        /* the lock still holds; only the description is missing */
    }
    held_fd = fd;
    fd = -1;
cleanup:
    if (fd >= 0)
        close(fd);
    weir_buf_release(&path);
    weir_buf_release(&dirp);
    weir_buf_release(&text);
    return rc;
}

void weir_warehouse_unlock(void)
{
    if (held_fd >= 0) {
        close(held_fd);
        held_fd = -1;
    }
}
