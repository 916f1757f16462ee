/*
 * json.c: jansson with weir's errors and buffers (see json.h).
 */
#include "core/compat.h"

#include "core/fs.h"
#include "core/json.h"

int weir_json_parse(const char *text, size_t len, const char *name, json_t **out,
                    weir_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v)
        return weir_error_set_at(err, WEIR_EINVALID, name, (unsigned)(je.line > 0 ? je.line : 0),
                                 (unsigned)(je.column > 0 ? je.column : 0), "invalid JSON: %s",
                                 je.text);
    *out = v;
    return 0;
}

int weir_json_load_file(const char *path, json_t **out, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT;
    int rc = weir_fs_read_file(path, &b, 0, err);
    if (rc == 0)
        rc = weir_json_parse(b.ptr, b.len, path, out, err);
    weir_buf_release(&b);
    return rc;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    weir_buf_add(data, buffer, size);
    return 0;
}

void weir_json_dump(const json_t *v, int indent, weir_buf *out)
{
    size_t flags = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);
    if (indent > 0)
        flags |= JSON_INDENT(indent);
    else
        flags |= JSON_COMPACT;
    json_dump_callback(v, dump_cb, out, flags);
}

int weir_json_write_file(const char *path, const json_t *v, int indent, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_json_dump(v, indent, &b);
    weir_buf_addch(&b, '\n');
    int rc = weir_fs_write_atomic(path, b.ptr, b.len, err);
    weir_buf_release(&b);
    return rc;
}
