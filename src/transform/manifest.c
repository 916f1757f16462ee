/*
 * manifest.c: target/manifest.json and target/compiled/, in the shape
 * dbt writes them (manifest v12's top-level keys; per node the fields tools
 * read most: unique_id, resource_type, name, fqn, path, config, tags,
 * depends_on, raw_code, compiled_code, relation_name, columns).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "transform/tf_int.h"

/*
 * The manifest is written as a stream into one buffer, not built as a
 * jansson tree: for tens of thousands of nodes, building, dumping and
 * freeing the tree took most of `weir compile`.
 */
/*
 * Appends without weir_buf's limit check: manifest buffers have no limit,
 * and the check and call per character were a tenth of `weir compile`.
 * The buffer's rules still hold (grown first, NUL-terminated after).
 */
static inline void put(weir_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap)
        weir_buf_grow(b, n);
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

static inline void putch(weir_buf *b, char c)
{
    put(b, &c, 1);
}

static inline void putstr(weir_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void jstr(weir_buf *b, const char *s)
{
    if (!s) {
        putstr(b, "null");
        return;
    }
    /* copies runs of plain bytes at once; escapes the rest */
    putch(b, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run)
            put(b, run, (size_t)(p - run));
        if (!c)
            break;
        weir_buf_add_json_escaped(b, p, 1);
        run = p + 1;
    }
    putch(b, '"');
}

static void jkey(weir_buf *b, const char *k, int *first)
{
    if (!*first)
        putch(b, ',');
    *first = 0;
    jstr(b, k);
    putch(b, ':');
}

static void jkv(weir_buf *b, const char *k, const char *v, int *first)
{
    jkey(b, k, first);
    jstr(b, v);
}

/* A string as jansson dumps it (control characters as \u00XX, upper case hex). */
static void jstr_as_jansson(weir_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s, *end = s + len;
    putch(b, '"');
    for (const char *p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run)
            put(b, run, (size_t)(p - run));
        run = p + 1;
        switch (c) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        default: {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(b, esc, 6);
        }
        }
    }
    if (end > run)
        put(b, run, (size_t)(end - run));
    putch(b, '"');
}

/*
 * v as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) prints it, written
 * straight into b: a dump per config, column list and test argument made
 * a malloc'd string each. Reals, rare in configs, go through jansson so
 * their digits stay jansson's.
 */
static void jjson(weir_buf *b, const json_t *v)
{
    if (!v) {
        putstr(b, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        int first = 1;
        putch(b, '{');
        json_object_foreach((json_t *)v, k, x)
        {
            if (!first)
                putch(b, ',');
            first = 0;
            jstr_as_jansson(b, k, strlen(k));
            putch(b, ':');
            jjson(b, x);
        }
        putch(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        putch(b, '[');
        json_array_foreach((json_t *)v, i, x)
        {
            if (i)
                putch(b, ',');
            jjson(b, x);
        }
        putch(b, ']');
        break;
    }
    case JSON_STRING:
        jstr_as_jansson(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        weir_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_TRUE:
        putstr(b, "true");
        break;
    case JSON_FALSE:
        putstr(b, "false");
        break;
    case JSON_NULL:
        putstr(b, "null");
        break;
    default: {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        putstr(b, t ? t : "null");
        free(t);
    }
    }
}

static void node_json(weir_transform *tf, weir_tnode *n, weir_buf *b)
{
    int f = 1;
    putch(b, '{');
    jkv(b, "unique_id", n->unique_id, &f);
    jkv(b, "resource_type", weir_node_kind_name(n->kind), &f);
    jkv(b, "package_name", tf->name, &f);
    jkv(b, "name", n->name, &f);
    jkey(b, "fqn", &f);
    putch(b, '[');
    for (size_t i = 0; i < n->n_fqn; i++) {
        if (i)
            putch(b, ',');
        jstr(b, n->fqn[i]);
    }
    putch(b, ']');
    jkv(b, "path", n->path, &f);
    jkv(b, "original_file_path", n->path, &f);
    jkv(b, "database", "main", &f);
    jkv(b, "schema", n->schema, &f);
    jkv(b, "alias", n->alias, &f);
    jkv(b, "description", n->description ? n->description : "", &f);
    jkey(b, "columns", &f);
    jjson(b, n->columns);
    jkey(b, "config", &f);
    jjson(b, n->config);
    jkey(b, "tags", &f);
    json_t *tags = json_object_get(n->config, "tags");
    if (tags)
        jjson(b, tags);
    else
        putstr(b, "[]");
    jkey(b, "depends_on", &f);
    putstr(b, "{\"macros\":[],\"nodes\":[");
    for (size_t i = 0; i < n->deps.len; i++) {
        if (i)
            putch(b, ',');
        jstr(b, tf->nodes.items[n->deps.items[i]]->unique_id);
    }
    putstr(b, "]}");
    jkey(b, "refs", &f);
    putch(b, '[');
    int first = 1;
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        if (d->kind == WEIR_NODE_SOURCE)
            continue;
        if (!first)
            putch(b, ',');
        first = 0;
        putstr(b, "{\"name\":");
        jstr(b, d->name);
        putstr(b, ",\"package\":null,\"version\":null}");
    }
    putch(b, ']');
    jkey(b, "sources", &f);
    putch(b, '[');
    first = 1;
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        if (d->kind != WEIR_NODE_SOURCE)
            continue;
        if (!first)
            putch(b, ',');
        first = 0;
        putch(b, '[');
        jstr(b, d->source_name);
        putch(b, ',');
        jstr(b, d->table_name);
        putch(b, ']');
    }
    putch(b, ']');
    jkv(b, "raw_code", n->raw_sql ? n->raw_sql : "", &f);
    jkv(b, "language", "sql", &f);
    if (n->compiled) {
        jkey(b, "compiled", &f);
        putstr(b, "true");
        jkv(b, "compiled_code", n->compiled_sql ? n->compiled_sql : "", &f);
    }
    if (n->kind != WEIR_NODE_TEST)
        jkv(b, "relation_name", n->relation, &f);
    if (n->kind == WEIR_NODE_TEST && n->attached != TF_NONE) {
        jkey(b, "test_metadata", &f);
        putstr(b, "{\"name\":");
        jstr(b, n->test_kind);
        putstr(b, ",\"kwargs\":");
        if (n->test_args)
            jjson(b, n->test_args);
        else
            putstr(b, "{}");
        putstr(b, ",\"namespace\":null}");
        jkv(b, "column_name", n->column, &f);
        jkv(b, "attached_node", tf->nodes.items[n->attached]->unique_id, &f);
    }
    if (n->kind == WEIR_NODE_SOURCE) {
        jkv(b, "source_name", n->source_name, &f);
        jkv(b, "identifier", n->alias, &f);
        jkey(b, "loaded_at_field", &f);
        jjson(b, json_object_get(n->config, "loaded_at_field"));
        jkey(b, "freshness", &f);
        jjson(b, json_object_get(n->config, "freshness"));
    }
    putch(b, '}');
}

int tf_write_file(const char *path, const char *data, weir_error *err)
{
    /*
     * Build outputs, rewritten by every command, thousands per compile:
     * no fsync. An unchanged file is left alone, and a changed one is
     * unlinked rather than truncated, because ext4 (auto_da_alloc) flushes
     * a truncated-and-rewritten file to disk on close, which costs
     * milliseconds a file.
     */
    size_t len = strlen(data);
    struct stat st;
    if (stat(path, &st) == 0) {
        if ((size_t)st.st_size == len) {
            weir_buf old = WEIR_BUF_INIT;
            weir_error ignore = WEIR_ERROR_INIT;
            int same = !weir_fs_read_file(path, &old, len + 1, &ignore) && old.len == len &&
                       !memcmp(old.ptr, data, len);
            weir_buf_release(&old);
            weir_error_release(&ignore);
            if (same)
                return 0;
        }
        unlink(path);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return weir_error_set_errno(err, errno, "cannot write '%s'", path);
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(path);
        return weir_error_set_errno(err, errno, "cannot write '%s'", path);
    }
    return 0;
}

/*
 * compiled/ is written through open folders: tens of thousands of files
 * sit in a few folders, and a name looked up from its folder's descriptor
 * saves the walk down target/compiled/<project>/models/... per call.
 */
enum { DIR_SLOTS = 16 };

typedef struct dir_cache {
    char *path[DIR_SLOTS];
    int fd[DIR_SLOTS];
    size_t next; /* the slot to reuse when all are taken */
} dir_cache;

static void dir_cache_init(dir_cache *c)
{
    for (size_t i = 0; i < DIR_SLOTS; i++) {
        c->path[i] = NULL;
        c->fd[i] = -1;
    }
    c->next = 0;
}

static void dir_cache_release(dir_cache *c)
{
    for (size_t i = 0; i < DIR_SLOTS; i++) {
        free(c->path[i]);
        if (c->fd[i] >= 0)
            close(c->fd[i]);
    }
}

/* The open folder dir (created when missing), or -1. */
static int dir_fd(dir_cache *c, const char *dir)
{
    for (size_t i = 0; i < DIR_SLOTS; i++)
        if (c->path[i] && !strcmp(c->path[i], dir))
            return c->fd[i];
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        weir_error err = WEIR_ERROR_INIT;
        if (!weir_fs_mkdir_p(dir, &err))
            fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        weir_error_release(&err);
    }
    if (fd < 0)
        return -1;
    size_t slot = c->next;
    c->next = (c->next + 1) % DIR_SLOTS;
    free(c->path[slot]);
    if (c->fd[slot] >= 0)
        close(c->fd[slot]);
    c->path[slot] = weir_xstrdup(dir);
    c->fd[slot] = fd;
    return fd;
}

/* 1 when file name in folder dfd holds exactly data, 0 when not, -1 when there is no such file. */
static int same_content(int dfd, const char *name, const char *data, size_t len)
{
    struct stat st;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC), same = 0;
    if (fd < 0)
        return errno == ENOENT ? -1 : 0;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size == len) {
        char *old = weir_xmalloc(len + 1);
        size_t got = 0;
        while (got < len) {
            ssize_t r = read(fd, old + got, len - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        same = got == len && !memcmp(old, data, len);
        free(old);
    }
    close(fd);
    return same;
}

/* tf_write_file's rules (no fsync, unchanged left alone, changed unlinked) from a folder. */
static void write_at(int dfd, const char *name, const char *data)
{
    size_t len = strlen(data);
    int same = same_content(dfd, name, data, len);
    if (same > 0)
        return;
    if (same == 0)
        unlinkat(dfd, name, 0);
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (close(fd) != 0 || done < len)
        unlinkat(dfd, name, 0); /* no half-written file */
}

static void write_compiled(weir_transform *tf, weir_tnode *n, dir_cache *dc)
{
    weir_buf dir = WEIR_BUF_INIT, name = WEIR_BUF_INIT;
    if (!n->compiled || !n->compiled_sql || !n->path[0])
        return;
    weir_buf_addf(&dir, "%s/compiled/%s/%s", tf->target_dir, tf->name, n->path);
    if (!weir_str_ends_with(n->path, ".sql")) {
        weir_buf_addf(&name, "%s.sql", n->name);
    } else {
        char *slash = strrchr(dir.ptr, '/');
        putstr(&name, slash + 1);
        weir_buf_truncate(&dir, (size_t)(slash - dir.ptr));
    }
    int dfd = dir_fd(dc, dir.ptr);
    if (dfd >= 0)
        write_at(dfd, name.ptr, n->compiled_sql);
    weir_buf_release(&dir);
    weir_buf_release(&name);
}

/* --- the nodes on several threads ---------------------------------------- */

/*
 * Each JSON worker takes a contiguous share of the nodes and writes their
 * entries (each after a comma) into its own buffer; the shares are then
 * written out in order, so the manifest is the same whatever the thread
 * count. compiled/ is written by one thread of its own: files created at
 * once in one folder from several threads queue on the folder's lock and
 * took longer than from one.
 */
typedef struct node_job {
    weir_transform *tf;
    size_t from, to;
    weir_buf out[2]; /* pass 0: nodes, pass 1: sources */
    int running;     /* on a thread of its own, to join */
} node_job;

static void *node_worker(void *p)
{
    node_job *j = p;
    for (size_t i = j->from; i < j->to; i++) {
        weir_tnode *n = j->tf->nodes.items[i];
        if (!tf_cfg_bool(n, "enabled", 1))
            continue;
        weir_buf *b = &j->out[n->kind == WEIR_NODE_SOURCE];
        putch(b, ',');
        jstr(b, n->unique_id);
        putch(b, ':');
        node_json(j->tf, n, b);
    }
    return NULL;
}

static void *compiled_writer(void *p)
{
    weir_transform *tf = p;
    dir_cache dc;
    dir_cache_init(&dc);
    for (size_t i = 0; i < tf->nodes.len; i++)
        if (tf_cfg_bool(tf->nodes.items[i], "enabled", 1))
            write_compiled(tf, tf->nodes.items[i], &dc);
    dir_cache_release(&dc);
    return NULL;
}

/* JSON workers: a CPU each but the one compiled_writer keeps busy. */
static size_t worker_count(size_t nodes)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
    if (nodes < 256 || n < 2)
        return 1;
    return n > 4 ? 4 : (size_t)n;
}

/* Writes all of data to fd; 0 or -1 with errno. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static void id_list(weir_transform *tf, weir_buf *b, const size_t *idx, size_t n)
{
    putch(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            putch(b, ',');
        jstr(b, tf->nodes.items[idx[i]]->unique_id);
    }
    putch(b, ']');
}

/*
 * The manifest is a build output that every compile rewrites: it replaces
 * the old one atomically (readers see the old or the new file) but is not
 * fsynced, as compiled/ is not; syncing tens of megabytes took longer than
 * writing them. head, the node shares (first comma of each part dropped)
 * and tail are written one after another, without joining them first.
 */
static int write_manifest_file(weir_transform *tf, const weir_buf *head, node_job *jobs,
                               size_t n_jobs, const weir_buf *tail, weir_error *err)
{
    weir_buf path = WEIR_BUF_INIT, tmp = WEIR_BUF_INIT;
    int rc = 0, fd = -1, bad = 0;
    if ((rc = weir_fs_mkdir_p(tf->target_dir, err)))
        goto cleanup;
    weir_path_join(&path, tf->target_dir, "manifest.json");
    weir_buf_addf(&tmp, "%s.tmp-XXXXXX", path.ptr);
    if ((fd = mkstemp(tmp.ptr)) < 0) {
        rc = weir_error_set_errno(err, errno, "cannot create '%s'", tmp.ptr);
        goto cleanup;
    }
    bad |= write_all(fd, head->ptr, head->len);
    for (int pass = 0; pass < 2; pass++) {
        bad |= write_all(fd, pass ? ",\"sources\":{" : ",\"nodes\":{", pass ? 12 : 10);
        int first = 1;
        for (size_t t = 0; t < n_jobs; t++) {
            const weir_buf *b = &jobs[t].out[pass];
            if (!b->len)
                continue;
            bad |= write_all(fd, b->ptr + first, b->len - (size_t)first);
            first = 0;
        }
        bad |= write_all(fd, "}", 1);
    }
    bad |= write_all(fd, tail->ptr, tail->len);
    bad |= fchmod(fd, 0644);
    if (bad) {
        rc = weir_error_set_errno(err, errno, "cannot write '%s'", path.ptr);
        goto cleanup;
    }
    bad = close(fd);
    fd = -1;
    if (bad) {
        rc = weir_error_set_errno(err, errno, "cannot write '%s'", path.ptr);
        goto cleanup;
    }
    if (rename(tmp.ptr, path.ptr) != 0) {
        rc = weir_error_set_errno(err, errno, "cannot replace '%s'", path.ptr);
        goto cleanup;
    }
    weir_buf_reset(&tmp);
cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp.len)
        unlink(tmp.ptr);
    weir_buf_release(&path);
    weir_buf_release(&tmp);
    return rc;
}

int weir_transform_write_manifest(weir_transform *tf, weir_error *err)
{
    weir_buf head = WEIR_BUF_INIT, b = WEIR_BUF_INIT;
    char generated[40];
    int rc, f;
    size_t n_jobs = worker_count(tf->nodes.len);
    node_job *jobs = weir_xcalloc(n_jobs, sizeof(*jobs));
    pthread_t *tids = weir_xcalloc(n_jobs, sizeof(*tids));

    /* compiled/ and the nodes first, on other threads, while this one
     * writes the rest */
    pthread_t writer;
    int writing = pthread_create(&writer, NULL, compiled_writer, tf) == 0;
    if (!writing)
        compiled_writer(tf);
    for (size_t t = 0; t < n_jobs; t++) {
        jobs[t].tf = tf;
        jobs[t].from = tf->nodes.len * t / n_jobs;
        jobs[t].to = tf->nodes.len * (t + 1) / n_jobs;
        weir_buf_init(&jobs[t].out[0], (jobs[t].to - jobs[t].from) * 1024);
        weir_buf_init(&jobs[t].out[1], 0);
        if (t > 0)
            jobs[t].running = pthread_create(&tids[t], NULL, node_worker, &jobs[t]) == 0;
        if (t > 0 && !jobs[t].running)
            node_worker(&jobs[t]); /* no thread: do its share here */
    }

    weir_ts_format(weir_ts_now(), generated);
    generated[10] = 'T';
    putstr(&head, "{\"metadata\":{");
    f = 1;
    jkv(&head, "dbt_schema_version", "https://schemas.getdbt.com/dbt/manifest/v12.json", &f);
    jkv(&head, "dbt_version", "1.8.0", &f);
    jkv(&head, "generated_at", generated, &f);
    jkv(&head, "invocation_id", tf->invocation_id ? tf->invocation_id : "", &f);
    jkv(&head, "project_name", tf->name, &f);
    jkv(&head, "adapter_type", "duckdb", &f);
    putstr(&head, ",\"env\":{}}");

    weir_buf_grow(&b, tf->nodes.len * 128);
    putstr(&b, ",\"docs\":{");
    f = 1;
    const char *k;
    json_t *v;
    json_object_foreach(tf->docs, k, v)
    {
        weir_buf id = WEIR_BUF_INIT;
        weir_buf_addf(&id, "doc.%s.%s", tf->name, k);
        jkey(&b, id.ptr, &f);
        int g = 1;
        putch(&b, '{');
        jkv(&b, "name", k, &g);
        jkv(&b, "block_contents", json_string_value(v), &g);
        jkv(&b, "unique_id", id.ptr, &g);
        putch(&b, '}');
        weir_buf_release(&id);
    }
    putch(&b, '}');
    const char *maps[] = { "parent_map", "child_map" };
    for (int m = 0; m < 2; m++) {
        weir_buf_addf(&b, ",\"%s\":{", maps[m]);
        f = 1;
        for (size_t i = 0; i < tf->nodes.len; i++) {
            weir_tnode *n = tf->nodes.items[i];
            if (!tf_cfg_bool(n, "enabled", 1))
                continue;
            jkey(&b, n->unique_id, &f);
            if (m == 0)
                id_list(tf, &b, n->deps.items, n->deps.len);
            else
                id_list(tf, &b, n->children.items, n->children.len);
        }
        putch(&b, '}');
    }
    putstr(&b, ",\"macros\":{},\"exposures\":{},\"metrics\":{},\"groups\":{},\"selectors\":{},"
                      "\"disabled\":{},\"group_map\":{},\"saved_queries\":{},\"semantic_models\":{},"
                      "\"unit_tests\":{}}\n");
    node_worker(&jobs[0]);
    for (size_t t = 1; t < n_jobs; t++)
        if (jobs[t].running)
            pthread_join(tids[t], NULL);
    if (writing)
        pthread_join(writer, NULL);
    rc = write_manifest_file(tf, &head, jobs, n_jobs, &b, err);
    for (size_t t = 0; t < n_jobs; t++) {
        weir_buf_release(&jobs[t].out[0]);
        weir_buf_release(&jobs[t].out[1]);
    }
    free(jobs);
    free(tids);
    weir_buf_release(&head);
    weir_buf_release(&b);
    return rc;
}
