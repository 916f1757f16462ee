/*
 * dag.c: the node graph: topological order, cycle reports, and dbt's
 * selection syntax (see weir_transform_select in transform.h).
 */
#include "core/compat.h"

#include <fnmatch.h>

#include "core/alloc.h"
#include "core/str.h"
#include "transform/tf_int.h"

static int enabled(const weir_tnode *n)
{
    return tf_cfg_bool(n, "enabled", 1);
}

void tf_dag_link_children(weir_transform *tf)
{
    for (size_t i = 0; i < tf->nodes.len; i++)
        tf->nodes.items[i]->children.len = 0;
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_tnode *n = tf->nodes.items[i];
        if (!enabled(n))
            continue;
        for (size_t k = 0; k < n->deps.len; k++)
            weir_vec_push(&tf->nodes.items[n->deps.items[k]]->children, i);
    }
}

/* Finds a cycle among the nodes left with indegree > 0 and describes it. */
static int report_cycle(weir_transform *tf, const size_t *indeg, weir_error *err)
{
    size_t n = tf->nodes.len;
    unsigned char *state = weir_xcalloc(n, 1); /* 0 new, 1 on path, 2 done */
    size_t *path = weir_xmalloc(n * sizeof(size_t)), len = 0;
    int rc = weir_error_set(err, WEIR_EINVALID, "dependency cycle");
    for (size_t s = 0; s < n; s++) {
        if (!indeg[s] || state[s])
            continue;
        /* walk deps among remaining nodes until we come back to the path */
        size_t v = s;
        len = 0;
        while (1) {
            if (state[v] == 1) {
                weir_buf b = WEIR_BUF_INIT;
                size_t start = 0;
                while (path[start] != v)
                    start++;
                for (size_t i = start; i < len; i++)
                    weir_buf_addf(&b, "%s -> ", tf->nodes.items[path[i]]->name);
                weir_buf_adds(&b, tf->nodes.items[v]->name);
                weir_error_clear(err);
                rc = weir_error_set(err, WEIR_EINVALID, "dependency cycle: %s", b.ptr);
                weir_buf_release(&b);
                goto done;
            }
            state[v] = 1;
            path[len++] = v;
            weir_tnode *nd = tf->nodes.items[v];
            size_t next = (size_t)-1;
            for (size_t k = 0; k < nd->deps.len; k++)
                if (indeg[nd->deps.items[k]]) {
                    next = nd->deps.items[k];
                    break;
                }
            if (next == (size_t)-1)
                break;
            v = next;
        }
        for (size_t i = 0; i < len; i++)
            state[path[i]] = 2;
    }
done:
    free(state);
    free(path);
    return rc;
}

int tf_dag_order(weir_transform *tf, size_t *order, weir_error *err)
{
    size_t n = tf->nodes.len, head = 0, tail = 0;
    size_t *indeg = weir_xcalloc(n + 1, sizeof(size_t));
    WEIR_VEC(size_t) *kids = weir_xcalloc(n + 1, sizeof(*kids));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        weir_tnode *nd = tf->nodes.items[i];
        for (size_t k = 0; k < nd->deps.len; k++) {
            indeg[i]++;
            weir_vec_push(&kids[nd->deps.items[k]], i);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            order[tail++] = i;
    while (head < tail) {
        size_t v = order[head++];
        for (size_t k = 0; k < kids[v].len; k++)
            if (--indeg[kids[v].items[k]] == 0)
                order[tail++] = kids[v].items[k];
    }
    if (tail < n)
        rc = report_cycle(tf, indeg, err);
    for (size_t i = 0; i < n; i++)
        weir_vec_release(&kids[i]);
    free(kids);
    free(indeg);
    return rc;
}

/* --- selection ------------------------------------------------------------- */

void weir_selection_release(weir_selection *s)
{
    free(s->on);
    s->on = NULL;
    s->n = 0;
}

static int match_glob(const char *pat, const char *s)
{
    return fnmatch(pat, s, 0) == 0;
}

/* dbt's default method: a name, or a dotted fqn prefix ("staging", "proj.staging"). */
static int match_fqn(const weir_tnode *n, const char *sel)
{
    if (match_glob(sel, n->name))
        return 1;
    char *dup = weir_xstrdup(sel);
    char *parts[64];
    size_t np = 0;
    for (char *p = dup; p && np < 64;) {
        parts[np++] = p;
        char *dot = strchr(p, '.');
        if (dot) {
            *dot = 0;
            p = dot + 1;
        } else {
            p = NULL;
        }
    }
    int ok = 0;
    for (size_t off = 0; off <= 1 && !ok; off++) {
        if (n->n_fqn < off + np)
            continue;
        ok = 1;
        for (size_t i = 0; i < np; i++)
            if (!match_glob(parts[i], n->fqn[off + i]))
                ok = 0;
    }
    free(dup);
    return ok;
}

static int json_str_in(json_t *v, const char *s)
{
    if (json_is_string(v))
        return match_glob(s, json_string_value(v));
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        if (json_is_string(x) && match_glob(s, json_string_value(x)))
            return 1;
    }
    if (json_is_boolean(v))
        return !strcmp(s, json_is_true(v) ? "true" : "false");
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return !strcmp(s, buf);
    }
    return 0;
}

static int match_method(weir_transform *tf, const weir_tnode *n, const char *method,
                        const char *value, weir_error *err)
{
    if (!method)
        return match_fqn(n, value);
    if (!strcmp(method, "tag"))
        return json_str_in(json_object_get(n->config, "tags"), value);
    if (!strcmp(method, "path") || !strcmp(method, "file")) {
        const char *p = n->path;
        if (!strcmp(method, "file"))
            p = strrchr(n->path, '/') ? strrchr(n->path, '/') + 1 : n->path;
        size_t len = strlen(value);
        while (len && value[len - 1] == '/')
            len--;
        if (!strncmp(p, value, len) && (p[len] == 0 || p[len] == '/'))
            return 1;
        return match_glob(value, p);
    }
    if (!strncmp(method, "config.", 7))
        return json_str_in(json_object_get(n->config, method + 7), value);
    if (!strcmp(method, "source")) {
        if (n->kind != WEIR_NODE_SOURCE)
            return 0;
        return match_glob(value, n->source_name) || match_glob(value, n->name);
    }
    if (!strcmp(method, "resource_type"))
        return !strcmp(value, weir_node_kind_name(n->kind));
    if (!strcmp(method, "test_type")) {
        if (n->kind != WEIR_NODE_TEST)
            return 0;
        int singular = n->attached == TF_NONE;
        if (!strcmp(value, "singular") || !strcmp(value, "data"))
            return singular;
        if (!strcmp(value, "generic") || !strcmp(value, "schema"))
            return !singular;
        return 0;
    }
    if (!strcmp(method, "test_name"))
        return n->kind == WEIR_NODE_TEST && n->test_kind && match_glob(value, n->test_kind);
    if (!strcmp(method, "fqn"))
        return match_fqn(n, value);
    if (!strcmp(method, "package"))
        return !strcmp(value, tf->name);
    weir_error_set(err, WEIR_EINVALID,
                   "unknown selector method '%s' (expected tag, path, file, config.KEY, source, "
                   "resource_type, test_type, test_name, fqn or package)",
                   method);
    return -1;
}

/*
 * Marks the ancestors (dir 0) or descendants (dir 1) of the nodes in from,
 * up to depth generations (-1: all), as one breadth-first search from all
 * of them: no recursion, so a chain of 100,000 models is fine.
 */
static void walk_from(weir_transform *tf, const unsigned char *from, int dir, long depth,
                      unsigned char *mark)
{
    size_t n = tf->nodes.len, head = 0, tail = 0;
    long *dist = weir_xmalloc((n + 1) * sizeof(long));
    size_t *queue = weir_xmalloc((n + 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        dist[i] = from[i] ? 0 : -1;
        if (from[i])
            queue[tail++] = i;
    }
    while (head < tail) {
        size_t v = queue[head++];
        if (depth >= 0 && dist[v] >= depth)
            continue;
        weir_tnode *nd = tf->nodes.items[v];
        size_t cnt = dir ? nd->children.len : nd->deps.len;
        for (size_t i = 0; i < cnt; i++) {
            size_t w = dir ? nd->children.items[i] : nd->deps.items[i];
            if (dist[w] >= 0)
                continue;
            dist[w] = dist[v] + 1;
            mark[w] = 1;
            queue[tail++] = w;
        }
    }
    free(dist);
    free(queue);
}

/* One atom: [@][N+]method:value[+N]; fills hit[]. */
static int eval_atom(weir_transform *tf, const char *atom, unsigned char *hit, weir_error *err)
{
    size_t n = tf->nodes.len;
    char *s = weir_xstrdup(atom), *p = s;
    int at = 0, rc = 0;
    long up = 0, down = 0;
    unsigned char *base = weir_xcalloc(n + 1, 1);
    if (*p == '@') {
        at = 1;
        p++;
    } else if (isdigit((unsigned char)*p)) {
        char *e;
        long v = strtol(p, &e, 10);
        if (*e == '+') {
            up = v;
            p = e + 1;
        }
    } else if (*p == '+') {
        up = -1;
        p++;
    }
    size_t len = strlen(p);
    char *plus = strrchr(p, '+');
    if (plus && plus > p) {
        char *e;
        if (plus[1] == 0) {
            down = -1;
            *plus = 0;
        } else {
            long v = strtol(plus + 1, &e, 10);
            if (*e == 0) {
                down = v;
                *plus = 0;
            }
        }
    }
    (void)len;
    char *method = NULL, *value = p;
    char *colon = strchr(p, ':');
    if (colon) {
        *colon = 0;
        method = p;
        value = colon + 1;
    }
    for (size_t i = 0; i < n; i++) {
        weir_tnode *nd = tf->nodes.items[i];
        if (!enabled(nd))
            continue;
        int m = match_method(tf, nd, method, value, err);
        if (m < 0) {
            rc = WEIR_EINVALID;
            goto cleanup;
        }
        if (m)
            base[i] = 1;
    }
    for (size_t i = 0; i < n; i++)
        hit[i] |= base[i];
    if (up)
        walk_from(tf, base, 0, up, hit);
    if (down || at) {
        unsigned char *desc = weir_xcalloc(n + 1, 1);
        memcpy(desc, base, n);
        walk_from(tf, base, 1, at ? -1 : down, desc);
        for (size_t i = 0; i < n; i++)
            hit[i] |= desc[i];
        if (at) /* @: the descendants' ancestors too */
            walk_from(tf, desc, 0, -1, hit);
        free(desc);
    }
cleanup:
    free(base);
    free(s);
    return rc;
}

/* A union of space-separated intersections of comma-separated atoms. */
static int eval_spec(weir_transform *tf, const char *spec, unsigned char *out, weir_error *err)
{
    size_t n = tf->nodes.len;
    char *dup = weir_xstrdup(spec);
    unsigned char *inter = weir_xmalloc(n + 1), *one = weir_xmalloc(n + 1);
    int rc = 0;
    char *save1 = NULL;
    for (char *word = strtok_r(dup, " \t", &save1); word; word = strtok_r(NULL, " \t", &save1)) {
        char *save2 = NULL;
        int first = 1;
        memset(inter, 0, n + 1);
        for (char *atom = strtok_r(word, ",", &save2); atom; atom = strtok_r(NULL, ",", &save2)) {
            memset(one, 0, n + 1);
            if ((rc = eval_atom(tf, atom, one, err)))
                goto cleanup;
            for (size_t i = 0; i < n; i++)
                inter[i] = first ? one[i] : (inter[i] && one[i]);
            first = 0;
        }
        for (size_t i = 0; i < n; i++)
            out[i] |= inter[i];
    }
cleanup:
    free(dup);
    free(inter);
    free(one);
    return rc;
}

int weir_transform_select(weir_transform *tf, const char *const *select, size_t n_select,
                          const char *const *exclude, size_t n_exclude, int with_tests,
                          weir_selection *out, weir_error *err)
{
    size_t n = tf->nodes.len;
    unsigned char *on = weir_xcalloc(n + 1, 1), *ex = weir_xcalloc(n + 1, 1);
    int rc = 0;
    out->on = NULL;
    out->n = 0;
    if (!n_select) {
        for (size_t i = 0; i < n; i++)
            on[i] = (unsigned char)enabled(tf->nodes.items[i]);
    } else {
        for (size_t s = 0; s < n_select; s++)
            if ((rc = eval_spec(tf, select[s], on, err)))
                goto cleanup;
    }
    for (size_t s = 0; s < n_exclude; s++)
        if ((rc = eval_spec(tf, exclude[s], ex, err)))
            goto cleanup;
    if (with_tests) {
        /* dbt's eager indirect selection: a test goes with any selected parent */
        for (size_t i = 0; i < n; i++) {
            weir_tnode *t = tf->nodes.items[i];
            if (t->kind != WEIR_NODE_TEST || on[i] || !enabled(t))
                continue;
            for (size_t k = 0; k < t->deps.len; k++)
                if (on[t->deps.items[k]] && tf->nodes.items[t->deps.items[k]]->kind != WEIR_NODE_SOURCE)
                    on[i] = 1;
            if (t->attached != TF_NONE && on[t->attached])
                on[i] = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ex[i])
            on[i] = 0;
        /* a test is excluded with any excluded parent */
        weir_tnode *t = tf->nodes.items[i];
        if (t->kind == WEIR_NODE_TEST && on[i])
            for (size_t k = 0; k < t->deps.len; k++)
                if (ex[t->deps.items[k]])
                    on[i] = 0;
        if (!enabled(t))
            on[i] = 0;
    }
    out->on = on;
    out->n = n;
    on = NULL;
cleanup:
    free(on);
    free(ex);
    return rc;
}
