/*
 * fs.h: files and paths.
 *
 * Writes are atomic: weir_fs_write_atomic() writes a temporary file in the
 * same folder, fsyncs it and renames it over the target, so a crash leaves
 * either the old file or the new one, never half of one.
 */
#ifndef WEIR_FS_H
#define WEIR_FS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/vec.h"

/* Default cap for files read into memory (project files, SQL, JSON). */
#define WEIR_FS_READ_LIMIT ((size_t)256 << 20)

/*
 * Appends the file's contents to out. Fails with WEIR_ENOTFOUND when it does
 * not exist and WEIR_ETOOBIG when it is larger than limit (0: the default).
 */
int weir_fs_read_file(const char *path, weir_buf *out, size_t limit, weir_error *err);
int weir_fs_write_atomic(const char *path, const void *data, size_t len, weir_error *err);

int weir_fs_exists(const char *path);
int weir_fs_is_dir(const char *path);
/* mkdir -p; succeeds when the folder exists. */
int weir_fs_mkdir_p(const char *path, weir_error *err);
/* rm -r; succeeds when the path does not exist. */
int weir_fs_remove_tree(const char *path, weir_error *err);

/* Appends a/b to out, without doubling the slash; b absolute wins. */
void weir_path_join(weir_buf *out, const char *a, const char *b);
/* Pointer into path after the last slash. */
const char *weir_path_basename(const char *path);

/*
 * Lists regular files under dir whose names end with one of exts (e.g.
 * {".yml", ".yaml"}), recursively when recursive != 0, as paths joined to
 * dir, sorted. A missing dir yields an empty list and returns 0.
 */
int weir_fs_list(const char *dir, const char *const *exts, size_t n_exts,
                 int recursive, weir_strvec *out, weir_error *err);

/*
 * A cheap fingerprint of files, to notice that some changed without reading
 * them: start from WEIR_FS_STAMP_INIT and fold in each file with
 * weir_fs_stamp(), which mixes its path, size, modification time and inode (or
 * that it is missing) into the 64-bit hash h (FNV-1a) and returns the new
 * hash. Two stamps of the same files in the same order are equal unless one
 * of them was written, replaced, created or removed in between (a rewrite
 * within the file system's time resolution that keeps the size escapes it).
 */
#define WEIR_FS_STAMP_INIT UINT64_C(0xcbf29ce484222325)
uint64_t weir_fs_stamp(uint64_t h, const char *path);

#endif
