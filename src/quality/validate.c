/*
 * validate.c: the planner and executor of a suite on one table.
 *
 * Every expectation registers the aggregate expressions ("metrics") it
 * needs in a plan; identical expressions are shared, so ten column-map
 * expectations on one table cost one count(*). The plan becomes one
 *     SELECT to_json(weir_m0), ... FROM (SELECT agg0 AS weir_m0, ... FROM table)
 * (values come back as JSON text, so dates, decimals, lists and hugeints
 * keep their type without a reader per engine type). Then each expectation
 * is evaluated from the values: GX's rules for mostly, nulls, strict
 * bounds; the few expectations that need more (uniqueness: one GROUP BY,
 * which DuckDB runs faster than count(DISTINCT) in the batch; ordered
 * values: a window; modes; another table's count; samples of unexpected
 * values for a failed one) run small queries of their own.
 *
 * The batched query can fail because of one expectation (a regex the
 * engine refuses, a value that does not cast to the column's type). Then
 * each expectation's metrics run alone, so only the guilty ones fail, with
 * the engine's message in their exception_info.
 *
 * The cost rule per engine (weir_split_filters): elsewhere the metrics go
 * into one aggregate, one FILTER each. On DuckDB they go into one statement
 * of one-row subqueries, one per distinct filter, each as a WHERE written
 * in a form the scan takes (`c < 0 OR c > 100`, not `(...) IS NOT TRUE`),
 * so that zone maps prove most range checks empty without reading a row.
 * DuckDB's statistics (load_stats, free) also bound integer columns, so
 * uniqueness and distinct counts of integers use a bitmap (bitstring_agg)
 * instead of a hash table, and say which columns hold no NULL (count(*)
 * stands for count(column)). A column grouped for its string checks also
 * gives its distinct values and non-null count in that GROUP BY.
 */
#include "core/compat.h"

#include <pthread.h>

#include "core/alloc.h"
#include "core/date.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "core/version.h"
#include "quality/internal.h"

/* Bitmaps of integer values (bitstring_agg) have at most this many bits (16 MiB). */
#define BITMAP_MAX_BITS ((int64_t)1 << 27)

/* How many rows COMPLETE's unexpected_list holds at most. */
#define COMPLETE_LIMIT 100000

typedef struct colinfo {
    char *name;
    char *type;
    /* from the engine's statistics (DuckDB's stats()), which bound the
     * values without a scan: has_null 0 means no value is NULL, -1 unknown */
    int has_null;
    int has_range;         /* min and max below are known (integer types) */
    int64_t min, max;
    int64_t approx_unique; /* -1 unknown */
} colinfo;

/*
 * The metrics of one query. Aggregates are computed over the table as
 * weir_m<i>; derived metrics are expressions over those (the one-row
 * result), e.g. how many of a column's distinct values lie outside a set,
 * so that a column's distinct values are hashed once however many
 * expectations look at them.
 */
typedef struct plan {
    weir_strvec exprs;
    weir_strvec filters;   /* per expression: the rows it aggregates ("" all) */
    WEIR_VEC(unsigned char) derived; /* per expression: 1 when derived */
    json_t **vals; /* after plan_run: one per expression (json null for NULL) */
} plan;

typedef struct xrun {
    const weir_expectation *x;
    weir_result_format format;
    int catch_exceptions;
    char *error;           /* why it could not be computed */
    int m[6];              /* metric indices in p */
    plan *p;
    weir_buf col;          /* quoted column (column / column_A) */
    weir_buf colb;         /* quoted column_B */
    weir_strvec qcols;     /* quoted column_list */
    weir_strvec names;     /* catalog names of the columns sampled */
    int grouped;           /* unexpected rows counted per distinct value */
    int median_counts;     /* the median read from a histogram (median_from_counts) */
    int64_t grouped_unexp;
    json_t *gvals[3];      /* distinct sets computed per group: metrics 3, 4, 5 */
    json_t *result;
    int success;
} xrun;

typedef struct run {
    weir_conn *c;
    const weir_dialect *d;
    const weir_validate_options *o;
    const char *table_name;
    weir_buf table;        /* the relation, quoted */
    WEIR_VEC(colinfo) cols;
    int64_t rows;          /* from the statistics; -1 unknown */
    int split;             /* the engine's cost rule: one subquery per filter */
    weir_validate_stats *st;
    struct prefetched *pf; /* statements already run in parallel (see prefetch) */
    size_t n_pf;
} run;

/* A statement run ahead, on one of two connections, waiting for query(). */
typedef struct prefetched {
    char *sql;
    weir_result *res;
    int rc;
    int taken;
} prefetched;

/* --- small helpers -------------------------------------------------------- */

static int is_integer_type(const char *t)
{
    static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
                                        "USMALLINT", "UINTEGER", "UBIGINT" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(ints); i++)
        if (strcmp(t, ints[i]) == 0)
            return 1;
    return 0;
}

void weir_qx_quote_relation(const weir_dialect *d, const char *name, weir_buf *out)
{
    /* A name with quotes or parentheses is taken as SQL as written. */
    if (strpbrk(name, "\"() ")) {
        weir_buf_adds(out, name);
        return;
    }
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        char *part = weir_xstrndup(p, dot ? (size_t)(dot - p) : strlen(p));
        weir_sql_quote_ident(d, out, part);
        free(part);
        if (!dot)
            break;
        weir_buf_addch(out, '.');
        p = dot + 1;
    }
}

static const colinfo *find_col(const run *r, const char *name)
{
    for (size_t i = 0; i < r->cols.len; i++)
        if (strcmp(r->cols.items[i].name, name) == 0)
            return &r->cols.items[i];
    for (size_t i = 0; i < r->cols.len; i++)
        if (weir_str_ieq(r->cols.items[i].name, name))
            return &r->cols.items[i];
    return NULL;
}

/* Resolves a column against the catalog; on failure sets xr->error. */
static int resolve(run *r, xrun *xr, const char *name, weir_buf *quoted)
{
    const colinfo *ci = find_col(r, name);
    if (!ci) {
        weir_buf msg = WEIR_BUF_INIT;
        const char **names = weir_xcalloc(r->cols.len + 1, sizeof(*names));
        for (size_t i = 0; i < r->cols.len; i++)
            names[i] = r->cols.items[i].name;
        const char *sug = weir_str_suggest(name, names, r->cols.len);
        weir_buf_addf(&msg, "column '%s' does not exist in '%s'", name, r->table_name);
        if (sug)
            weir_buf_addf(&msg, "; did you mean '%s'?", sug);
        free(names);
        free(xr->error);
        xr->error = weir_buf_detach(&msg, NULL);
        return -1;
    }
    weir_sql_quote_ident(r->d, quoted, ci->name);
    weir_strvec_push(&xr->names, ci->name);
    return 0;
}

/* Appends "(a) AND (b)" for the non-NULL parts, or nothing. */
static void and_conds(weir_buf *out, const char *a, const char *b)
{
    if (a && *a)
        weir_buf_addf(out, "(%s)", a);
    if (a && *a && b && *b)
        weir_buf_adds(out, " AND ");
    if (b && *b)
        weir_buf_addf(out, "(%s)", b);
}

/* Appends " WHERE a AND b" for the non-NULL parts, or nothing. */
static void where(weir_buf *out, const char *a, const char *b)
{
    if ((!a || !*a) && (!b || !*b))
        return;
    weir_buf_adds(out, " WHERE ");
    if (a && *a)
        weir_buf_addf(out, "(%s)", a);
    if (a && *a && b && *b)
        weir_buf_adds(out, " AND ");
    if (b && *b)
        weir_buf_addf(out, "(%s)", b);
}

static int plan_add_kind(plan *p, const char *expr, const char *filter, unsigned char derived)
{
    for (size_t i = 0; i < p->exprs.len; i++)
        if (p->derived.items[i] == derived && strcmp(p->exprs.items[i], expr) == 0 &&
            strcmp(p->filters.items[i], filter) == 0)
            return (int)i;
    weir_strvec_push(&p->exprs, expr);
    weir_strvec_push(&p->filters, filter);
    weir_vec_push(&p->derived, derived);
    return (int)p->exprs.len - 1;
}

/* Adds an aggregate over the rows where filter holds ("" or NULL: all). */
static int plan_add(plan *p, const char *expr, const char *filter)
{
    return plan_add_kind(p, expr, filter ? filter : "", 0);
}

/* Adds an expression over the aggregates (named weir_m<index>). */
static int plan_add_derived(plan *p, const char *expr)
{
    return plan_add_kind(p, expr, "", 1);
}

static void plan_release(plan *p)
{
    if (p->vals)
        for (size_t i = 0; i < p->exprs.len; i++)
            json_decref(p->vals[i]);
    free(p->vals);
    p->vals = NULL;
    weir_strvec_release(&p->exprs);
    weir_strvec_release(&p->filters);
    weir_vec_release(&p->derived);
}

/* A cell written by to_json() as a jansson value (a new reference). */
static json_t *cell_json(weir_result *res, size_t row, size_t col)
{
    weir_buf t = WEIR_BUF_INIT;
    json_t *v;
    if (weir_result_text(res, row, col, &t)) {
        weir_buf_release(&t);
        return json_null();
    }
    v = json_loadb(t.ptr, t.len, JSON_DECODE_ANY, NULL);
    if (!v) {
        double d;
        /* jansson refuses integers beyond 64 bits: keep them as numbers */
        v = weir_str_to_double(t.ptr, &d) == 0 ? json_real(d) : json_string(t.ptr);
    }
    weir_buf_release(&t);
    return v;
}

static int query(run *r, const char *sql, weir_result **res, weir_error *err)
{
    r->st->queries++;
    if (r->st->sql)
        weir_strvec_push(r->st->sql, sql);
    weir_log(WEIR_LOG_DEBUG, "quality: %s", sql);
    for (size_t i = 0; i < r->n_pf; i++) {
        prefetched *f = &r->pf[i];
        if (!f->taken && f->rc == 0 && strcmp(f->sql, sql) == 0) {
            f->taken = 1;
            *res = f->res;
            f->res = NULL;
            return 0;
        }
    }
    return weir_conn_query(r->c, sql, res, err);
}

/* --- two connections --------------------------------------------------------- */

typedef struct worker {
    weir_conn *c;
    prefetched *pf;
    size_t n, *next;
    pthread_mutex_t *mu;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (;;) {
        pthread_mutex_lock(w->mu);
        size_t i = (*w->next)++;
        pthread_mutex_unlock(w->mu);
        if (i >= w->n)
            break;
        weir_error err = WEIR_ERROR_INIT;
        w->pf[i].rc = weir_conn_query(w->c, w->pf[i].sql, &w->pf[i].res, &err);
        weir_error_release(&err);
    }
    return NULL;
}

/*
 * Runs the independent statements of a validation (the batch, each
 * column's GROUP BY, the bitmaps) ahead, on the caller's connection and a
 * second one in a thread of its own, so that one's single-threaded phases
 * (planning, the final merge of a hash table) overlap the other's scan. The
 * planner then asks for the same statements in its usual order and query()
 * hands out the results, so the results and the statistics cannot differ
 * from a run on one connection. A statement that failed is dropped and
 * runs again in order on the caller's connection, where the error is
 * reported as usual (and where a temporary table is visible).
 */
static void prefetch(run *r, weir_strvec *sqls, int connections)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    size_t next = 0;
    weir_error err = WEIR_ERROR_INIT;
    pthread_t th;
    worker mine, other;
    int started = 0;
    if (connections < 2 || sqls->len < 2)
        return;
    r->n_pf = sqls->len;
    r->pf = weir_xcalloc(r->n_pf, sizeof(*r->pf));
    for (size_t i = 0; i < r->n_pf; i++)
        r->pf[i].sql = weir_xstrdup(sqls->items[i]);
    mine = (worker){ r->c, r->pf, r->n_pf, &next, &mu };
    other = mine;
    other.c = NULL;
    if (weir_conn_new(weir_conn_engine(r->c), &other.c, &err) == 0 &&
        pthread_create(&th, NULL, work, &other) == 0)
        started = 1;
    weir_error_release(&err);
    work(&mine);
    if (started)
        pthread_join(th, NULL);
    weir_conn_free(other.c);
    for (size_t i = 0; i < r->n_pf; i++)
        if (r->pf[i].rc) {
            weir_result_free(r->pf[i].res);
            r->pf[i].res = NULL;
        }
}

static void prefetch_release(run *r)
{
    for (size_t i = 0; i < r->n_pf; i++) {
        free(r->pf[i].sql);
        weir_result_free(r->pf[i].res);
    }
    free(r->pf);
    r->pf = NULL;
    r->n_pf = 0;
}

/* The statement computing the metrics of p (not empty). */
static void plan_sql(run *r, const plan *p, weir_buf *out)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_buf_adds(&sql, "SELECT ");
    for (size_t i = 0; i < p->exprs.len; i++) {
        weir_buf_addf(&sql, "%sCAST(to_json(", i ? ", " : "");
        if (p->derived.items[i])
            weir_buf_adds(&sql, p->exprs.items[i]);
        else
            weir_buf_addf(&sql, "weir_m%zu", i);
        weir_buf_adds(&sql, ") AS VARCHAR)");
    }
    if (!r->split) {
        /* one aggregate, each metric with its FILTER: one scan */
        weir_buf_adds(&sql, " FROM (SELECT ");
        int first = 1;
        for (size_t i = 0; i < p->exprs.len; i++) {
            if (p->derived.items[i])
                continue;
            weir_buf_addf(&sql, "%s%s", first ? "" : ", ", p->exprs.items[i]);
            if (*p->filters.items[i])
                weir_buf_addf(&sql, " FILTER (WHERE %s)", p->filters.items[i]);
            weir_buf_addf(&sql, " AS weir_m%zu", i);
            first = 0;
        }
        weir_buf_addf(&sql, " FROM %s)", r->table.ptr);
    } else {
        /*
         * One one-row subquery per distinct filter, as a WHERE: the engine
         * pushes it into the scan, where min/max statistics can prove it
         * false without reading a row (see plan_split).
         */
        unsigned char *done = weir_xcalloc(p->exprs.len, 1);
        size_t q = 0;
        weir_buf_adds(&sql, " FROM ");
        for (size_t i = 0; i < p->exprs.len; i++) {
            if (p->derived.items[i] || done[i])
                continue;
            weir_buf_addf(&sql, "%s(SELECT ", q ? ", " : "");
            int first = 1;
            for (size_t j = i; j < p->exprs.len; j++) {
                if (p->derived.items[j] || done[j] ||
                    strcmp(p->filters.items[j], p->filters.items[i]) != 0)
                    continue;
                weir_buf_addf(&sql, "%s%s AS weir_m%zu", first ? "" : ", ", p->exprs.items[j], j);
                done[j] = 1;
                first = 0;
            }
            weir_buf_addf(&sql, " FROM %s", r->table.ptr);
            if (*p->filters.items[i])
                weir_buf_addf(&sql, " WHERE %s", p->filters.items[i]);
            weir_buf_addf(&sql, ") AS weir_q%zu", q++);
        }
        free(done);
    }
    weir_buf_add(out, sql.ptr, sql.len);
    weir_buf_release(&sql);
}

static int plan_run(run *r, plan *p, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *res = NULL;
    int rc;
    if (!p->exprs.len)
        return 0;
    plan_sql(r, p, &sql);
    rc = query(r, sql.ptr, &res, err);
    if (rc == 0) {
        p->vals = weir_xcalloc(p->exprs.len, sizeof(*p->vals));
        for (size_t i = 0; i < p->exprs.len; i++)
            p->vals[i] = cell_json(res, 0, i);
    }
    weir_result_free(res);
    weir_buf_release(&sql);
    return rc;
}

static json_t *metric(const xrun *xr, int k)
{
    if (xr->grouped == 2 && xr->x->def->kind == QX_AGG)
        return k >= 3 ? xr->gvals[k - 3] : NULL;
    if (xr->grouped == 2 && k == 1)
        return xr->gvals[0];
    if (xr->m[k] < 0 || !xr->p || !xr->p->vals)
        return NULL;
    return xr->p->vals[xr->m[k]];
}

static int64_t metric_int(const xrun *xr, int k)
{
    json_t *v = metric(xr, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v)
         : json_is_real(v) ? (int64_t)json_real_value(v) : 0;
}

/* Runs a query returning one integer. */
static int query_int(run *r, const char *sql, int64_t *out, weir_error *err)
{
    weir_result *res = NULL;
    int rc = query(r, sql, &res, err);
    *out = 0;
    if (rc == 0 && weir_result_rows(res) > 0)
        weir_result_int64(res, 0, 0, out);
    weir_result_free(res);
    return rc;
}

/* --- the SQL of each type ---------------------------------------------- */

static const char *kw_str(const xrun *xr, const char *k)
{
    return json_string_value(json_object_get(xr->x->kwargs, k));
}

static int kw_bool(const xrun *xr, const char *k, int dflt)
{
    json_t *v = json_object_get(xr->x->kwargs, k);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static void value_list(run *r, const json_t *set, weir_buf *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(set, i, v) {
        if (i)
            weir_buf_adds(out, ", ");
        weir_qx_literal(r->d, v, out);
    }
}

/* "col >= lo AND col <= hi" (strict: > and <) for the bounds given. */
static void bounds_cond(run *r, const xrun *xr, const char *expr, weir_buf *out)
{
    json_t *lo = json_object_get(xr->x->kwargs, "min_value");
    json_t *hi = json_object_get(xr->x->kwargs, "max_value");
    int any = 0;
    if (lo && !json_is_null(lo)) {
        weir_buf_addf(out, "%s %s ", expr, kw_bool(xr, "strict_min", 0) ? ">" : ">=");
        weir_qx_literal(r->d, lo, out);
        any = 1;
    }
    if (hi && !json_is_null(hi)) {
        weir_buf_addf(out, "%s%s %s ", any ? " AND " : "", expr,
                      kw_bool(xr, "strict_max", 0) ? "<" : "<=");
        weir_qx_literal(r->d, hi, out);
    }
}

/* For simple column-map types: the SQL saying a non-null value is expected. */
static void map_cond(run *r, const xrun *xr, weir_buf *out)
{
    const char *c = xr->col.ptr;
    json_t *k = xr->x->kwargs;
    weir_buf tmp = WEIR_BUF_INIT;
    switch (xr->x->def->id) {
    case X_IN_SET:
    case X_NOT_IN_SET: {
        json_t *set = json_object_get(k, "value_set");
        int in = xr->x->def->id == X_IN_SET;
        if (json_array_size(set) == 0) {
            weir_buf_adds(out, in ? "false" : "true");
            break;
        }
        weir_buf_addf(out, "%s %sIN (", c, in ? "" : "NOT ");
        value_list(r, set, out);
        weir_buf_addch(out, ')');
        break;
    }
    case X_BETWEEN:
        bounds_cond(r, xr, c, out);
        break;
    case X_LENGTHS_BETWEEN:
        weir_buf_addf(&tmp, "length(CAST(%s AS VARCHAR))", c);
        bounds_cond(r, xr, tmp.ptr, out);
        break;
    case X_LENGTHS_EQUAL:
        weir_buf_addf(out, "length(CAST(%s AS VARCHAR)) = %" JSON_INTEGER_FORMAT, c,
                      json_integer_value(json_object_get(k, "value")));
        break;
    case X_REGEX:
    case X_NOT_REGEX:
        weir_buf_addf(out, "%sregexp_matches(CAST(%s AS VARCHAR), ",
                      xr->x->def->id == X_NOT_REGEX ? "NOT " : "", c);
        weir_sql_quote_literal(r->d, out, kw_str(xr, "regex"));
        weir_buf_addch(out, ')');
        break;
    case X_REGEX_LIST:
    case X_NOT_REGEX_LIST: {
        json_t *list = json_object_get(k, "regex_list"), *re;
        const char *on = kw_str(xr, "match_on");
        int all = on && strcmp(on, "all") == 0;
        size_t i;
        weir_buf_adds(out, xr->x->def->id == X_NOT_REGEX_LIST ? "NOT (" : "(");
        json_array_foreach(list, i, re) {
            if (i)
                weir_buf_adds(out, all && xr->x->def->id == X_REGEX_LIST ? " AND " : " OR ");
            weir_buf_addf(out, "regexp_matches(CAST(%s AS VARCHAR), ", c);
            weir_sql_quote_literal(r->d, out, json_string_value(re));
            weir_buf_addch(out, ')');
        }
        weir_buf_addch(out, ')');
        break;
    }
    case X_LIKE:
    case X_NOT_LIKE:
        weir_buf_addf(out, "CAST(%s AS VARCHAR) %sLIKE ", c,
                      xr->x->def->id == X_NOT_LIKE ? "NOT " : "");
        weir_sql_quote_literal(r->d, out, kw_str(xr, "like_pattern"));
        break;
    case X_STRFTIME:
        weir_buf_addf(out, "try_strptime(CAST(%s AS VARCHAR), ", c);
        weir_sql_quote_literal(r->d, out, kw_str(xr, "strftime_format"));
        weir_buf_adds(out, ") IS NOT NULL");
        break;
    case X_DATEUTIL:
        /* dateutil reads far more than ISO: the common US and written forms too */
        weir_buf_addf(out, "coalesce(TRY_CAST(CAST(%s AS VARCHAR) AS TIMESTAMP), "
                      "try_strptime(CAST(%s AS VARCHAR), ['%%m/%%d/%%Y', '%%m/%%d/%%Y %%H:%%M:%%S', "
                      "'%%Y/%%m/%%d', '%%d %%b %%Y', '%%d %%B %%Y', '%%b %%d %%Y', '%%B %%d, %%Y', "
                      "'%%b %%d, %%Y', '%%Y%%m%%d'])) IS NOT NULL", c, c);
        break;
    case X_JSON:
        weir_buf_addf(out, "json_valid(CAST(%s AS VARCHAR))", c);
        break;
    default:
        weir_buf_adds(out, "true");
        break;
    }
    weir_buf_release(&tmp);
}

/* For multi-column types: the rows ignore_row_if leaves out. */
static void ignore_cond(const xrun *xr, weir_buf *out)
{
    const char *mode = kw_str(xr, "ignore_row_if");
    if (xr->x->column_a) {
        if (!mode || strcmp(mode, "both_values_are_missing") == 0)
            weir_buf_addf(out, "%s IS NULL AND %s IS NULL", xr->col.ptr, xr->colb.ptr);
        else if (strcmp(mode, "either_value_is_missing") == 0)
            weir_buf_addf(out, "%s IS NULL OR %s IS NULL", xr->col.ptr, xr->colb.ptr);
        else
            weir_buf_adds(out, "false");
        return;
    }
    int any = mode && strcmp(mode, "any_value_is_missing") == 0;
    if (mode && strcmp(mode, "never") == 0) {
        weir_buf_adds(out, "false");
        return;
    }
    for (size_t i = 0; i < xr->qcols.len; i++)
        weir_buf_addf(out, "%s%s IS NULL", i ? (any ? " OR " : " AND ") : "", xr->qcols.items[i]);
}

static void multi_cond(run *r, const xrun *xr, weir_buf *out)
{
    switch (xr->x->def->id) {
    case X_PAIR_EQUAL:
        weir_buf_addf(out, "%s IS NOT DISTINCT FROM %s", xr->col.ptr, xr->colb.ptr);
        break;
    case X_PAIR_GREATER:
        weir_buf_addf(out, "%s %s %s", xr->col.ptr, kw_bool(xr, "or_equal", 0) ? ">=" : ">",
                      xr->colb.ptr);
        break;
    case X_SELECT_UNIQUE:
        /* no two non-null values of the record are equal; values of
         * different types compare as text, as Python compares 1 and 'a' */
        weir_buf_adds(out, "NOT (false");
        for (size_t i = 0; i < xr->qcols.len; i++)
            for (size_t j = i + 1; j < xr->qcols.len; j++) {
                const colinfo *a = find_col(r, xr->names.items[i]);
                const colinfo *b = find_col(r, xr->names.items[j]);
                if (a && b && strcmp(a->type, b->type) == 0)
                    weir_buf_addf(out, " OR coalesce(%s = %s, false)", xr->qcols.items[i],
                                  xr->qcols.items[j]);
                else
                    weir_buf_addf(out, " OR coalesce(CAST(%s AS VARCHAR) = CAST(%s AS VARCHAR), "
                                  "false)", xr->qcols.items[i], xr->qcols.items[j]);
            }
        weir_buf_addch(out, ')');
        break;
    case X_MULTI_SUM:
        weir_buf_adds(out, "(");
        for (size_t i = 0; i < xr->qcols.len; i++)
            weir_buf_addf(out, "%scoalesce(%s, 0)", i ? " + " : "", xr->qcols.items[i]);
        weir_buf_adds(out, ") = ");
        weir_qx_literal(r->d, json_object_get(xr->x->kwargs, "sum_total"), out);
        break;
    default:
        weir_buf_adds(out, "true");
        break;
    }
}

/*
 * The unexpected rows of a range or set check, written as plain
 * comparisons (`c < 0 OR c > 100`, `c NOT IN (...)`) rather than as
 * `c IS NOT NULL AND (expected) IS NOT TRUE`: the same rows (a NULL value
 * makes both false; a bound or set member is never NULL here), but a form
 * the engine pushes into its scan and proves empty from min/max
 * statistics. Returns -1 (nothing appended) when the type has no such form.
 */
static int pushdown_cond(run *r, const xrun *xr, weir_buf *w)
{
    const char *c = xr->col.ptr;
    json_t *k = xr->x->kwargs;
    qx_id id = xr->x->def->id;
    if (id == X_BETWEEN) {
        json_t *lo = json_object_get(k, "min_value"), *hi = json_object_get(k, "max_value");
        int any = 0;
        weir_buf_addch(w, '(');
        if (lo && !json_is_null(lo)) {
            weir_buf_addf(w, "%s %s ", c, kw_bool(xr, "strict_min", 0) ? "<=" : "<");
            weir_qx_literal(r->d, lo, w);
            any = 1;
        }
        if (hi && !json_is_null(hi)) {
            weir_buf_addf(w, "%s%s %s ", any ? " OR " : "", c,
                          kw_bool(xr, "strict_max", 0) ? ">=" : ">");
            weir_qx_literal(r->d, hi, w);
            any = 1;
        }
        weir_buf_adds(w, any ? ")" : "false)");
        return 0;
    }
    if (id == X_IN_SET || id == X_NOT_IN_SET) {
        json_t *set = json_object_get(k, "value_set"), *v;
        size_t i;
        json_array_foreach(set, i, v)
            if (json_is_null(v))
                return -1;
        if (json_array_size(set) == 0) {
            /* nothing is in an empty set: every value, or none, is unexpected */
            if (id == X_IN_SET)
                weir_buf_addf(w, "%s IS NOT NULL", c);
            else
                weir_buf_adds(w, "false");
            return 0;
        }
        weir_buf_addf(w, "%s %sIN (", c, id == X_IN_SET ? "NOT " : "");
        value_list(r, set, w);
        weir_buf_addch(w, ')');
        return 0;
    }
    return -1;
}

/*
 * Appends the condition (without row_condition) on the rows an expectation
 * counts as unexpected. Returns -1 for uniqueness and ordered types, whose
 * unexpected rows need a window (see unexpected_from).
 */
static int unexpected_cond(run *r, const xrun *xr, weir_buf *w)
{
    const char *c = xr->col.ptr;
    switch (xr->x->def->id) {
    case X_INCREASING:
    case X_DECREASING:
    case X_UNIQUE:
    case X_COMPOUND_UNIQUE:
        return -1;
    case X_NOT_NULL:
        weir_buf_addf(w, "%s IS NULL", c);
        break;
    case X_NULL:
        weir_buf_addf(w, "%s IS NOT NULL", c);
        break;
    case X_PAIR_EQUAL:
    case X_PAIR_GREATER:
    case X_SELECT_UNIQUE:
    case X_MULTI_SUM:
        weir_buf_adds(w, "NOT (");
        ignore_cond(xr, w);
        weir_buf_adds(w, ") AND (");
        multi_cond(r, xr, w);
        weir_buf_adds(w, ") IS NOT TRUE");
        break;
    default:
        if (pushdown_cond(r, xr, w) == 0)
            break;
        weir_buf_addf(w, "%s IS NOT NULL AND (", c);
        map_cond(r, xr, w);
        weir_buf_adds(w, ") IS NOT TRUE");
        break;
    }
    return 0;
}

/*
 * Appends " FROM ... WHERE ..." selecting the unexpected rows of a
 * column-map or multi-column expectation, with the columns sampled under
 * their own names. Ordered types compare each value with the previous
 * non-null one in the table's insertion order (rowid).
 */
static void unexpected_from(run *r, const xrun *xr, weir_buf *out)
{
    const char *rc = xr->x->row_condition;
    weir_buf w = WEIR_BUF_INIT;
    const char *c = xr->col.ptr;
    qx_id id = xr->x->def->id;
    if (unexpected_cond(r, xr, &w) == 0) {
        weir_buf_addf(out, " FROM %s", r->table.ptr);
        where(out, rc, w.ptr);
    } else if (id == X_UNIQUE || id == X_COMPOUND_UNIQUE) {
        /* the rows whose value (or tuple) occurs more than once */
        weir_buf cols = WEIR_BUF_INIT;
        if (id == X_UNIQUE) {
            weir_buf_adds(&cols, c);
            weir_buf_addf(&w, "%s IS NOT NULL", c);
        } else {
            for (size_t i = 0; i < xr->qcols.len; i++)
                weir_buf_addf(&cols, "%s%s", i ? ", " : "", xr->qcols.items[i]);
            weir_buf_adds(&w, "NOT (");
            ignore_cond(xr, &w);
            weir_buf_addch(&w, ')');
        }
        weir_buf_addf(out, " FROM (SELECT %s, count(*) OVER (PARTITION BY %s) AS weir__n FROM %s",
                      cols.ptr, cols.ptr, r->table.ptr);
        where(out, rc, w.ptr);
        weir_buf_adds(out, ") WHERE weir__n > 1");
        weir_buf_release(&cols);
    } else {
        int strictly = kw_bool(xr, "strictly", 0);
        const char *op = id == X_INCREASING ? (strictly ? ">" : ">=") : (strictly ? "<" : "<=");
        weir_buf_addf(&w, "%s IS NOT NULL", c);
        weir_buf_addf(out, " FROM (SELECT %s, lag(%s) OVER (ORDER BY rowid) AS weir__prev FROM %s",
                      c, c, r->table.ptr);
        where(out, rc, w.ptr);
        weir_buf_addf(out, ") WHERE weir__prev IS NOT NULL AND (%s %s weir__prev) IS NOT TRUE", c,
                      op);
    }
    weir_buf_release(&w);
}

static const char *agg_fn(qx_id id)
{
    switch (id) {
    case X_MIN: return "min";
    case X_MAX: return "max";
    case X_MEAN: return "avg";
    case X_MEDIAN: return "median";
    case X_SUM: return "sum";
    case X_STDEV: return "stddev_samp";
    default: return NULL;
    }
}

/*
 * Appends how to count the non-null values of xr's column: count(*) when
 * the engine's statistics say the column holds no NULL (a guarantee the
 * engine's own optimizer relies on), which DuckDB answers without reading
 * the column.
 */
static void count_col(const run *r, const xrun *xr, weir_buf *e)
{
    const colinfo *ci = xr->names.len ? find_col(r, xr->names.items[0]) : NULL;
    if (ci && ci->has_null == 0)
        weir_buf_adds(e, "count(*)");
    else
        weir_buf_addf(e, "count(%s)", xr->col.ptr);
}

/* A histogram of at most this many values stands in for a median's sort. */
#define MEDIAN_COUNTS_MAX 1024

/*
 * Whether xr's median can come from counts per value: an integer column
 * whose values the engine's statistics bound to a small range (DuckDB's
 * stats()). median() selects over every row (0.2 to 0.4 s of the bench's
 * 10M rows, inside the batch's aggregate); a GROUP BY of a few groups is a
 * hash table of that many entries (0.05 s; DuckDB's histogram() aggregate
 * was slower than median() itself), and the median of its counts is
 * exactly median()'s (see median_from_counts). String bounds are compared
 * by the engine, on the median itself: those keep median().
 */
static int median_by_counts(const run *r, const xrun *xr)
{
    const colinfo *ci = xr->names.len ? find_col(r, xr->names.items[0]) : NULL;
    if (json_is_string(json_object_get(xr->x->kwargs, "min_value")) ||
        json_is_string(json_object_get(xr->x->kwargs, "max_value")))
        return 0;
    return !strcmp(r->d->name, "duckdb") && ci && ci->has_range && is_integer_type(ci->type) &&
           ci->min <= ci->max && (uint64_t)ci->max - (uint64_t)ci->min < MEDIAN_COUNTS_MAX;
}

/* Registers the metrics of xr in p. */
static void plan_expectation(run *r, xrun *xr, plan *p)
{
    const weir_expectation *x = xr->x;
    const char *rc = x->row_condition;
    weir_buf e = WEIR_BUF_INIT, t = WEIR_BUF_INIT, f = WEIR_BUF_INIT;
    qx_id id = x->def->id;
    xr->p = p;
    for (int i = 0; i < 6; i++)
        xr->m[i] = -1;
    /* ADD(k, cond): metric k is e over the rows where row_condition and cond hold */
#define ADD(k, cond)                          \
    do {                                      \
        weir_buf_reset(&f);                   \
        and_conds(&f, rc, (cond));                 \
        xr->m[k] = plan_add(p, e.ptr, f.ptr); \
        weir_buf_reset(&e);                   \
    } while (0)
    switch (x->def->kind) {
    case QX_TABLE:
        if (id == X_ROW_COUNT_BETWEEN || id == X_ROW_COUNT_EQUAL || id == X_ROW_COUNT_EQUAL_OTHER) {
            weir_buf_adds(&e, "count(*)");
            ADD(0, NULL);
        }
        break;
    case QX_MAP:
        if (id == X_OF_TYPE || id == X_IN_TYPE_LIST)
            break;
        weir_buf_adds(&e, "count(*)");
        ADD(0, NULL);
        /* a grouped check counts its column's values in its GROUP BY */
        if (!xr->grouped) {
            count_col(r, xr, &e);
            ADD(1, NULL);
        }
        /* nulls are counted already: element_count - count(column) */
        if (!xr->grouped && id != X_NOT_NULL && id != X_NULL && unexpected_cond(r, xr, &t) == 0) {
            weir_buf_adds(&e, "count(*)");
            ADD(2, t.ptr);
        }
        break;
    case QX_MULTI:
        weir_buf_adds(&e, "count(*)");
        ADD(0, NULL);
        weir_buf_adds(&t, "NOT (");
        ignore_cond(xr, &t);
        weir_buf_addch(&t, ')');
        weir_buf_adds(&e, "count(*)");
        ADD(1, t.ptr);
        if (id != X_COMPOUND_UNIQUE) {
            weir_buf_reset(&t);
            unexpected_cond(r, xr, &t);
            weir_buf_adds(&e, "count(*)");
            ADD(2, t.ptr);
        }
        break;
    case QX_AGG:
        if (id == X_MEDIAN && median_by_counts(r, xr)) {
            /* [[value, count], ...]: a GROUP BY of a few groups, inside the batch's statement */
            weir_buf_addf(&t, "%s IS NOT NULL", xr->col.ptr);
            weir_buf_addf(&e, "(SELECT list([weir__v, weir__n]) FROM (SELECT %s AS weir__v, "
                          "count(*) AS weir__n FROM %s", xr->col.ptr, r->table.ptr);
            where(&e, rc, t.ptr);
            weir_buf_adds(&e, " GROUP BY 1))");
            xr->m[3] = plan_add_derived(p, e.ptr);
            weir_buf_reset(&e);
            xr->median_counts = 1;
            /* a derived metric needs an aggregate to stand on (alone, this is its only one) */
            weir_buf_adds(&e, "count(*)");
            ADD(5, NULL);
        } else if (agg_fn(id)) {
            weir_buf_addf(&e, "%s(%s)", agg_fn(id), xr->col.ptr);
            ADD(3, NULL);
            /*
             * A bound written as a string ("2024-01-01") is compared by the
             * engine, in the column's type: as text, a timestamp's
             * "2024-01-01 00:00:00" would sort after it.
             */
            json_t *lo = json_object_get(x->kwargs, "min_value");
            json_t *hi = json_object_get(x->kwargs, "max_value");
            if (json_is_string(lo) || json_is_string(hi)) {
                if (json_is_string(lo)) {
                    weir_buf_addf(&e, "weir_m%d %s ", xr->m[3],
                                  kw_bool(xr, "strict_min", 0) ? ">" : ">=");
                    weir_qx_literal(r->d, lo, &e);
                } else {
                    weir_buf_adds(&e, "true");
                }
                weir_buf_adds(&e, " AND ");
                if (json_is_string(hi)) {
                    weir_buf_addf(&e, "weir_m%d %s ", xr->m[3],
                                  kw_bool(xr, "strict_max", 0) ? "<" : "<=");
                    weir_qx_literal(r->d, hi, &e);
                } else {
                    weir_buf_adds(&e, "true");
                }
                xr->m[4] = plan_add_derived(p, e.ptr);
                weir_buf_reset(&e);
            }
        } else if (id == X_QUANTILES) {
            json_t *q = json_object_get(json_object_get(x->kwargs, "quantile_ranges"), "quantiles");
            weir_buf_addf(&e, "quantile_disc(%s, [", xr->col.ptr);
            value_list(r, q, &e);
            weir_buf_adds(&e, "])");
            ADD(3, NULL);
        } else if (id == X_UNIQUE_COUNT || id == X_UNIQUE_PROPORTION) {
            const colinfo *ci = find_col(r, xr->names.items[0]);
            if (r->split && ci && ci->has_range && ci->max - ci->min >= 0 &&
                ci->max - ci->min < BITMAP_MAX_BITS)
                /* a bitmap over the bounds the statistics guarantee: exact, no hash table */
                weir_buf_addf(&e, "coalesce(bit_count(bitstring_agg(%s, CAST(%" PRId64 " AS %s), "
                              "CAST(%" PRId64 " AS %s))), 0)", xr->col.ptr, ci->min, ci->type,
                              ci->max, ci->type);
            else
                weir_buf_addf(&e, "count(DISTINCT %s)", xr->col.ptr);
            ADD(3, NULL);
            count_col(r, xr, &e);
            ADD(1, NULL);
        } else if ((id == X_DISTINCT_IN_SET || id == X_DISTINCT_CONTAIN ||
                    id == X_DISTINCT_EQUAL) && !xr->grouped) {
            json_t *set = json_object_get(x->kwargs, "value_set");
            int raw;
            weir_buf_addf(&t, "%s IS NOT NULL", xr->col.ptr);
            weir_buf_addf(&e, "list(DISTINCT %s)", xr->col.ptr);
            ADD(3, t.ptr);
            raw = xr->m[3];
            weir_buf_addf(&e, "list_sort(weir_m%d)", raw);
            xr->m[3] = plan_add_derived(p, e.ptr);
            weir_buf_reset(&e);
            /* in and out of the set: counted on the distinct list above */
            if (json_array_size(set) > 0) {
                weir_buf_reset(&t);
                value_list(r, set, &t);
                weir_buf_addf(&e, "len(list_filter(weir_m%d, weir__x -> weir__x NOT IN (%s)))",
                              raw, t.ptr);
                xr->m[4] = plan_add_derived(p, e.ptr);
                weir_buf_reset(&e);
                weir_buf_addf(&e, "len(list_filter(weir_m%d, weir__x -> weir__x IN (%s)))",
                              raw, t.ptr);
                xr->m[5] = plan_add_derived(p, e.ptr);
                weir_buf_reset(&e);
            } else {
                weir_buf_addf(&e, "len(weir_m%d)", raw);
                xr->m[4] = plan_add_derived(p, e.ptr);
                weir_buf_reset(&e);
            }
        }
        break;
    }
#undef ADD
    weir_buf_release(&e);
    weir_buf_release(&t);
    weir_buf_release(&f);
}

/* --- evaluation ------------------------------------------------------------ */

static void set_error(xrun *xr, const char *msg)
{
    free(xr->error);
    xr->error = weir_xstrdup(msg);
}

/* Appends the rows of sql as JSON values (one column) or objects (several). */
static int fetch_values(run *r, xrun *xr, const char *sql, json_t *list, json_t *counts,
                        weir_error *err)
{
    weir_result *res = NULL;
    int rc = query(r, sql, &res, err);
    if (rc)
        return rc;
    size_t nc = xr->names.len;
    for (size_t row = 0; row < weir_result_rows(res); row++) {
        json_t *v;
        if (nc == 1) {
            v = cell_json(res, row, 0);
        } else {
            v = json_object();
            for (size_t i = 0; i < nc; i++)
                json_object_set_new(v, xr->names.items[i], cell_json(res, row, i));
        }
        if (counts) {
            int64_t n = 0;
            weir_result_int64(res, row, nc, &n);
            json_array_append_new(counts, json_pack("{s:o, s:I}", "value", v, "count", (json_int_t)n));
        } else {
            json_array_append_new(list, v);
        }
    }
    weir_result_free(res);
    return 0;
}

static void sample_select(const xrun *xr, weir_buf *sql)
{
    weir_buf_adds(sql, "SELECT ");
    if (xr->qcols.len) {
        for (size_t i = 0; i < xr->qcols.len; i++)
            weir_buf_addf(sql, "%sCAST(to_json(%s) AS VARCHAR)", i ? ", " : "", xr->qcols.items[i]);
    } else {
        weir_buf_addf(sql, "CAST(to_json(%s) AS VARCHAR)", xr->col.ptr);
        if (xr->colb.len)
            weir_buf_addf(sql, ", CAST(to_json(%s) AS VARCHAR)", xr->colb.ptr);
    }
}

/* Fills the samples of unexpected values a failed expectation shows. */
static int add_samples(run *r, xrun *xr, json_t *res, int64_t unexp, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT, from = WEIR_BUF_INIT;
    int rc = 0;
    json_t *partial = json_array();
    json_object_set_new(res, "partial_unexpected_list", partial);
    if (xr->x->def->id == X_NOT_NULL) {
        /* the unexpected values are nulls: nothing to fetch */
        for (int64_t i = 0; i < unexp && i < xr->x->partial_count; i++)
            json_array_append_new(partial, json_null());
        if (xr->format >= WEIR_RF_SUMMARY)
            json_object_set_new(res, "partial_unexpected_counts",
                                json_pack("[{s:n, s:I}]", "value", "count", (json_int_t)unexp));
        if (xr->format >= WEIR_RF_COMPLETE) {
            json_t *all = json_array();
            for (int64_t i = 0; i < unexp && i < COMPLETE_LIMIT; i++)
                json_array_append_new(all, json_null());
            json_object_set_new(res, "unexpected_list", all);
        }
        return 0;
    }
    unexpected_from(r, xr, &from);
    size_t n = xr->qcols.len ? xr->qcols.len : xr->colb.len ? 2 : 1;
    if (xr->x->def->id == X_UNIQUE || xr->x->def->id == X_COMPOUND_UNIQUE) {
        /* a window shuffles the rows: order the samples so that they are stable */
        weir_buf_adds(&from, " ORDER BY 1");
        for (size_t i = 2; i <= n; i++)
            weir_buf_addf(&from, ", %zu", i);
    }
    sample_select(xr, &sql);
    weir_buf_addf(&sql, "%s LIMIT %d", from.ptr, xr->x->partial_count);
    if ((rc = fetch_values(r, xr, sql.ptr, partial, NULL, err)))
        goto cleanup;
    if (xr->format >= WEIR_RF_SUMMARY) {
        json_t *counts = json_array();
        json_object_set_new(res, "partial_unexpected_counts", counts);
        weir_buf_reset(&sql);
        sample_select(xr, &sql);
        weir_buf_adds(&sql, ", count(*) AS weir__n");
        unexpected_from(r, xr, &sql);
        weir_buf_adds(&sql, " GROUP BY ALL ORDER BY weir__n DESC");
        for (size_t i = 1; i <= n; i++)
            weir_buf_addf(&sql, ", %zu", i);
        weir_buf_addf(&sql, " LIMIT %d", xr->x->partial_count);
        if ((rc = fetch_values(r, xr, sql.ptr, NULL, counts, err)))
            goto cleanup;
    }
    if (xr->format >= WEIR_RF_COMPLETE) {
        json_t *all = json_array();
        json_object_set_new(res, "unexpected_list", all);
        weir_buf_reset(&sql);
        sample_select(xr, &sql);
        weir_buf_addf(&sql, "%s LIMIT %d", from.ptr, COMPLETE_LIMIT);
        rc = fetch_values(r, xr, sql.ptr, all, NULL, err);
    }
cleanup:
    weir_buf_release(&sql);
    weir_buf_release(&from);
    return rc;
}

/* Runs sql and appends one JSON object per row, keyed by names. */
static int fetch_objects(run *r, const char *sql, const weir_strvec *names, json_t *list,
                         weir_error *err)
{
    weir_result *res = NULL;
    int rc = query(r, sql, &res, err);
    if (rc)
        return rc;
    for (size_t row = 0; row < weir_result_rows(res); row++) {
        json_t *o = json_object();
        for (size_t i = 0; i < names->len; i++)
            json_object_set_new(o, names->items[i], cell_json(res, row, i));
        json_array_append_new(list, o);
    }
    weir_result_free(res);
    return 0;
}

/*
 * GX's include_unexpected_rows and unexpected_index_column_names: the
 * whole unexpected rows, or the chosen columns of them with the values
 * checked. Only for types whose unexpected rows one WHERE selects (not the
 * uniqueness and ordered ones).
 */
static int add_rows(run *r, xrun *xr, json_t *res, weir_error *err)
{
    const json_t *rf = json_object_get(xr->x->kwargs, "result_format");
    const json_t *idx = json_object_get(rf, "unexpected_index_column_names");
    int rows = json_is_true(json_object_get(rf, "include_unexpected_rows"));
    int limit = xr->format >= WEIR_RF_COMPLETE ? COMPLETE_LIMIT : xr->x->partial_count;
    weir_buf w = WEIR_BUF_INIT, sql = WEIR_BUF_INIT;
    weir_strvec names = WEIR_VEC_INIT;
    int rc = 0;
    if ((!rows && !json_array_size(idx)) || unexpected_cond(r, xr, &w))
        goto cleanup;
    if (rows) {
        json_t *list = json_array();
        json_object_set_new(res, "unexpected_rows", list);
        weir_buf_addf(&sql, "SELECT CAST(to_json(weir__r) AS VARCHAR) FROM %s AS weir__r",
                      r->table.ptr);
        where(&sql, xr->x->row_condition, w.ptr);
        weir_buf_addf(&sql, " LIMIT %d", limit);
        weir_result *q = NULL;
        if ((rc = query(r, sql.ptr, &q, err)))
            goto cleanup;
        for (size_t row = 0; row < weir_result_rows(q); row++)
            json_array_append_new(list, cell_json(q, row, 0));
        weir_result_free(q);
    }
    if (json_array_size(idx)) {
        size_t i;
        json_t *v;
        weir_buf_reset(&sql);
        weir_buf_adds(&sql, "SELECT ");
        json_array_foreach(idx, i, v) {
            const colinfo *ci = find_col(r, json_string_value(v));
            if (!ci) {
                rc = weir_error_set(err, WEIR_EINVALID, "unexpected_index_column_names: column "
                                    "'%s' does not exist in '%s'", json_string_value(v),
                                    r->table_name);
                goto cleanup;
            }
            weir_buf_adds(&sql, "CAST(to_json(");
            weir_sql_quote_ident(r->d, &sql, ci->name);
            weir_buf_adds(&sql, ") AS VARCHAR), ");
            weir_strvec_push(&names, ci->name);
        }
        for (i = 0; i < xr->names.len; i++) {
            weir_buf_adds(&sql, i ? ", CAST(to_json(" : "CAST(to_json(");
            weir_sql_quote_ident(r->d, &sql, xr->names.items[i]);
            weir_buf_adds(&sql, ") AS VARCHAR)");
            weir_strvec_push(&names, xr->names.items[i]);
        }
        weir_buf_addf(&sql, " FROM %s", r->table.ptr);
        where(&sql, xr->x->row_condition, w.ptr);
        weir_buf_addf(&sql, " LIMIT %d", limit);
        json_t *list = json_array();
        json_object_set_new(res, xr->format >= WEIR_RF_COMPLETE ? "unexpected_index_list"
                                                                : "partial_unexpected_index_list",
                            list);
        rc = fetch_objects(r, sql.ptr, &names, list, err);
    }
cleanup:
    weir_buf_release(&w);
    weir_buf_release(&sql);
    weir_strvec_release(&names);
    return rc;
}

static json_t *pct(int64_t a, int64_t b)
{
    return b > 0 ? json_real(100.0 * (double)a / (double)b) : json_null();
}

/*
 * The result of a column-map or multi-column expectation: GX's rule is that
 * values the domain leaves out (nulls, ignored rows) count neither for nor
 * against, and an empty domain succeeds.
 */
static int map_result(run *r, xrun *xr, int64_t elem, int64_t nonmissing, int64_t unexp,
                      int nulls_unexpected, weir_error *err)
{
    int64_t denom = nulls_unexpected ? elem : nonmissing;
    int64_t missing = elem - nonmissing;
    json_t *res = xr->result;
    xr->success = denom == 0 || (double)(denom - unexp) / (double)denom >= xr->x->mostly;
    if (xr->format == WEIR_RF_BOOLEAN_ONLY)
        return 0;
    json_object_set_new(res, "element_count", json_integer(elem));
    json_object_set_new(res, "unexpected_count", json_integer(unexp));
    json_object_set_new(res, "unexpected_percent", pct(unexp, denom));
    if (!nulls_unexpected) {
        json_object_set_new(res, "missing_count", json_integer(missing));
        json_object_set_new(res, "missing_percent", pct(missing, elem));
        json_object_set_new(res, "unexpected_percent_nonmissing", pct(unexp, nonmissing));
    }
    json_object_set_new(res, "unexpected_percent_total", pct(unexp, elem));
    if (!xr->success && unexp > 0) {
        int rc = add_samples(r, xr, res, unexp, err);
        return rc ? rc : add_rows(r, xr, res, err);
    }
    json_object_set_new(res, "partial_unexpected_list", json_array());
    return 0;
}

/* Compares two JSON scalars: numbers as numbers, strings as bytes. */
static int json_cmp(const json_t *a, const json_t *b, int *out)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        *out = x < y ? -1 : x > y;
        return 0;
    }
    if (json_is_string(a) && json_is_string(b)) {
        int c = strcmp(json_string_value(a), json_string_value(b));
        *out = c < 0 ? -1 : c > 0;
        return 0;
    }
    if (json_is_boolean(a) && json_is_boolean(b)) {
        *out = json_is_true(a) - json_is_true(b);
        return 0;
    }
    return -1;
}

static int json_same(const json_t *a, const json_t *b)
{
    int c;
    return json_cmp(a, b, &c) == 0 && c == 0;
}

/* Whether obs lies within the expectation's bounds; -1 when not comparable. */
static int within(const json_t *obs, const json_t *lo, const json_t *hi, int strict_lo,
                  int strict_hi)
{
    int c;
    if (!obs || json_is_null(obs))
        return 0;
    if (lo && !json_is_null(lo)) {
        if (json_cmp(obs, lo, &c))
            return -1;
        if (strict_lo ? c <= 0 : c < 0)
            return 0;
    }
    if (hi && !json_is_null(hi)) {
        if (json_cmp(obs, hi, &c))
            return -1;
        if (strict_hi ? c >= 0 : c > 0)
            return 0;
    }
    return 1;
}

static int between_result(xrun *xr, json_t *obs)
{
    json_t *k = xr->x->kwargs;
    int ok = within(obs, json_object_get(k, "min_value"), json_object_get(k, "max_value"),
                    kw_bool(xr, "strict_min", 0), kw_bool(xr, "strict_max", 0));
    if (ok < 0) {
        weir_buf m = WEIR_BUF_INIT, v = WEIR_BUF_INIT;
        weir_json_dump(obs, 0, &v);
        weir_buf_addf(&m, "cannot compare the observed value %s with min_value/max_value", v.ptr);
        set_error(xr, m.ptr);
        weir_buf_release(&m);
        weir_buf_release(&v);
        return -1;
    }
    xr->success = ok;
    json_object_set(xr->result, "observed_value", obs ? obs : json_null());
    return 0;
}

/* GX's type names (Python, numpy, SQLAlchemy) onto DuckDB's. */
static const char *canonical_type(const char *t)
{
    static const char *const map[][2] = {
        { "int", "INTEGER" }, { "int32", "INTEGER" }, { "int4", "INTEGER" },
        { "integer", "INTEGER" }, { "int64", "BIGINT" }, { "int8", "BIGINT" },
        { "long", "BIGINT" }, { "bigint", "BIGINT" }, { "int16", "SMALLINT" },
        { "smallint", "SMALLINT" }, { "tinyint", "TINYINT" }, { "str", "VARCHAR" },
        { "string", "VARCHAR" }, { "text", "VARCHAR" }, { "varchar", "VARCHAR" },
        { "char", "VARCHAR" }, { "float", "FLOAT" }, { "float32", "FLOAT" },
        { "real", "FLOAT" }, { "float64", "DOUBLE" }, { "double", "DOUBLE" },
        { "double precision", "DOUBLE" }, { "bool", "BOOLEAN" }, { "boolean", "BOOLEAN" },
        { "datetime", "TIMESTAMP" }, { "datetime64", "TIMESTAMP" },
        { "datetime64[ns]", "TIMESTAMP" }, { "timestamp", "TIMESTAMP" }, { "date", "DATE" },
        { "numeric", "DECIMAL" }, { "decimal", "DECIMAL" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(map); i++)
        if (weir_str_ieq(t, map[i][0]))
            return map[i][1];
    return t;
}

static int type_matches(const char *actual, const char *wanted)
{
    const char *w = canonical_type(wanted);
    size_t base = strcspn(actual, "(");
    if (weir_str_ieq(actual, wanted) || weir_str_ieq(actual, w))
        return 1;
    return strlen(w) == base && strncasecmp(actual, w, base) == 0;
}

static json_t *catalog_names(const run *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->cols.len; i++)
        json_array_append_new(a, json_string(r->cols.items[i].name));
    return a;
}

static int set_has(const json_t *set, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(set, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

static void table_result(run *r, xrun *xr)
{
    const weir_expectation *x = xr->x;
    json_t *res = xr->result, *k = x->kwargs;
    int64_t n;
    switch (x->def->id) {
    case X_ROW_COUNT_BETWEEN:
    case X_COLUMN_COUNT_BETWEEN: {
        n = x->def->id == X_ROW_COUNT_BETWEEN ? metric_int(xr, 0) : (int64_t)r->cols.len;
        json_t *obs = json_integer(n);
        between_result(xr, obs);
        json_decref(obs);
        break;
    }
    case X_ROW_COUNT_EQUAL:
    case X_COLUMN_COUNT_EQUAL:
        n = x->def->id == X_ROW_COUNT_EQUAL ? metric_int(xr, 0) : (int64_t)r->cols.len;
        xr->success = n == json_integer_value(json_object_get(k, "value"));
        json_object_set_new(res, "observed_value", json_integer(n));
        break;
    case X_ROW_COUNT_EQUAL_OTHER: {
        weir_buf sql = WEIR_BUF_INIT;
        weir_error qerr = WEIR_ERROR_INIT;
        int64_t other = 0;
        weir_buf_adds(&sql, "SELECT count(*) FROM ");
        weir_qx_quote_relation(r->d, kw_str(xr, "other_table_name"), &sql);
        if (query_int(r, sql.ptr, &other, &qerr)) {
            set_error(xr, weir_error_str(&qerr));
        } else {
            n = metric_int(xr, 0);
            xr->success = n == other;
            json_object_set_new(res, "observed_value",
                                json_pack("{s:I, s:I}", "self", (json_int_t)n, "other",
                                          (json_int_t)other));
        }
        weir_error_release(&qerr);
        weir_buf_release(&sql);
        break;
    }
    case X_COLUMNS_ORDERED: {
        json_t *want = json_object_get(k, "column_list"), *mism = json_array();
        size_t nw = json_array_size(want), nmax = WEIR_MAX(nw, r->cols.len);
        for (size_t i = 0; i < nmax; i++) {
            const char *w = i < nw ? json_string_value(json_array_get(want, i)) : NULL;
            const char *f = i < r->cols.len ? r->cols.items[i].name : NULL;
            if (!w || !f || strcmp(w, f) != 0)
                json_array_append_new(mism, json_pack("{s:I, s:o, s:o}", "Expected Column Position",
                                                      (json_int_t)i, "Expected",
                                                      w ? json_string(w) : json_null(), "Found",
                                                      f ? json_string(f) : json_null()));
        }
        xr->success = json_array_size(mism) == 0;
        json_object_set_new(res, "observed_value", catalog_names(r));
        if (!xr->success)
            json_object_set_new(res, "details", json_pack("{s:o}", "mismatched", mism));
        else
            json_decref(mism);
        break;
    }
    case X_COLUMNS_SET: {
        json_t *want = json_object_get(k, "column_set"), *names = catalog_names(r);
        json_t *missing = json_array(), *extra = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(want, i, v)
            if (!set_has(names, json_string_value(v)))
                json_array_append(missing, v);
        json_array_foreach(names, i, v)
            if (!set_has(want, json_string_value(v)))
                json_array_append(extra, v);
        xr->success = json_array_size(missing) == 0 &&
                      (!kw_bool(xr, "exact_match", 1) || json_array_size(extra) == 0);
        json_object_set_new(res, "observed_value", names);
        if (json_array_size(missing) || json_array_size(extra))
            json_object_set_new(res, "details",
                                json_pack("{s:{s:o, s:o}}", "mismatched", "unexpected", extra,
                                          "missing", missing));
        else {
            json_decref(missing);
            json_decref(extra);
        }
        break;
    }
    case X_COLUMN_EXISTS: {
        json_t *idx = json_object_get(k, "column_index");
        xr->success = 0;
        for (size_t i = 0; i < r->cols.len; i++)
            if (strcmp(r->cols.items[i].name, x->column) == 0)
                xr->success = !idx || (json_int_t)i == json_integer_value(idx);
        break;
    }
    default:
        break;
    }
}

typedef struct value_count {
    int64_t v, n;
} value_count;

static int cmp_value_count(const void *a, const void *b)
{
    const value_count *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

/*
 * The median of the values counted in h ([[value, count], ...] in any
 * order; NULL or [] when there are none), as DuckDB's median() computes it
 * for integers: the middle value, or lo + (hi - lo) * 0.5 for the two
 * middle ones, as a DOUBLE. A new reference.
 */
static json_t *median_from_counts(const json_t *h)
{
    size_t n = json_array_size(h);
    value_count *vc;
    int64_t total = 0, lo_at, hi_at, seen = 0;
    double lo = 0, hi = 0;
    int have_lo = 0;
    if (n == 0)
        return json_null();
    vc = weir_xcalloc(n, sizeof(*vc));
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(h, i);
        vc[i].v = json_integer_value(json_array_get(pair, 0));
        vc[i].n = json_integer_value(json_array_get(pair, 1));
        total += vc[i].n;
    }
    qsort(vc, n, sizeof(*vc), cmp_value_count);
    lo_at = (total - 1) / 2;
    hi_at = total / 2;
    for (size_t i = 0; i < n; i++) {
        if (!have_lo && seen + vc[i].n > lo_at) {
            lo = (double)vc[i].v;
            have_lo = 1;
        }
        if (seen + vc[i].n > hi_at) {
            hi = (double)vc[i].v;
            break;
        }
        seen += vc[i].n;
    }
    free(vc);
    return total > 0 ? json_real(lo + (hi - lo) * 0.5) : json_null();
}

static int agg_result(run *r, xrun *xr, weir_error *err)
{
    const weir_expectation *x = xr->x;
    json_t *k = x->kwargs, *res = xr->result;
    qx_id id = x->def->id;
    if ((id == X_MIN || id == X_MAX) && xr->m[4] >= 0) {
        /* string bounds: the engine compared them in the column's type */
        json_t *in = metric(xr, 4), *obs = metric(xr, 3);
        xr->success = json_is_true(in);
        json_object_set(res, "observed_value", obs ? obs : json_null());
        return 0;
    }
    if (id == X_MEDIAN && xr->median_counts) {
        json_t *obs = median_from_counts(metric(xr, 3));
        between_result(xr, obs);
        json_decref(obs);
        return 0;
    }
    if (agg_fn(id) || id == X_UNIQUE_COUNT)
        return between_result(xr, metric(xr, 3)), 0;
    if (id == X_UNIQUE_PROPORTION) {
        int64_t nonnull = metric_int(xr, 1);
        json_t *obs = nonnull ? json_real((double)metric_int(xr, 3) / (double)nonnull) : json_null();
        between_result(xr, obs);
        json_decref(obs);
        return 0;
    }
    if (id == X_QUANTILES) {
        json_t *qr = json_object_get(k, "quantile_ranges");
        json_t *vals = metric(xr, 3), *ok = json_array();
        size_t i;
        json_t *q;
        xr->success = json_is_array(vals);
        json_array_foreach(json_object_get(qr, "quantiles"), i, q) {
            json_t *rg = json_array_get(json_object_get(qr, "value_ranges"), i);
            int w = within(json_array_get(vals, i), json_array_get(rg, 0),
                           json_array_get(rg, 1), 0, 0);
            json_array_append_new(ok, json_boolean(w == 1));
            if (w != 1)
                xr->success = 0;
        }
        json_object_set_new(res, "observed_value",
                            json_pack("{s:O, s:o}", "quantiles", json_object_get(qr, "quantiles"),
                                      "values", json_is_array(vals) ? json_incref(vals) : json_null()));
        json_object_set_new(res, "details", json_pack("{s:o}", "success_details", ok));
        return 0;
    }
    if (id == X_MOST_COMMON) {
        weir_buf sql = WEIR_BUF_INIT, t = WEIR_BUF_INIT;
        weir_result *q = NULL;
        weir_buf_addf(&t, "%s IS NOT NULL", xr->col.ptr);
        weir_buf_addf(&sql, "SELECT CAST(to_json(list_sort(list(v))) AS VARCHAR) FROM (SELECT %s AS v, "
                      "count(*) AS n FROM %s", xr->col.ptr, r->table.ptr);
        where(&sql, x->row_condition, t.ptr);
        weir_buf_adds(&sql, " GROUP BY 1 QUALIFY n = max(n) OVER ())");
        int rc = query(r, sql.ptr, &q, err);
        if (rc == 0) {
            json_t *modes = cell_json(q, 0, 0), *set = json_object_get(k, "value_set");
            size_t i, j, hits = 0;
            json_t *a, *b;
            json_array_foreach(modes, i, a)
                json_array_foreach(set, j, b)
                    if (json_same(a, b)) {
                        hits++;
                        break;
                    }
            xr->success = kw_bool(xr, "ties_okay", 0) ? hits > 0
                                                       : json_array_size(modes) == 1 && hits == 1;
            json_object_set_new(res, "observed_value", json_is_array(modes) ? modes : json_array());
            if (!json_is_array(modes))
                json_decref(modes);
        }
        weir_result_free(q);
        weir_buf_release(&sql);
        weir_buf_release(&t);
        return rc;
    }
    /* distinct sets */
    json_t *set = json_object_get(k, "value_set"), *obs = metric(xr, 3);
    size_t n_set = 0, i, j;
    json_t *a;
    json_array_foreach(set, i, a) {
        int dup = 0;
        for (j = 0; j < i && !dup; j++)
            dup = json_same(a, json_array_get(set, j));
        n_set += !dup && !json_is_null(a);
    }
    int64_t outside = metric_int(xr, 4), inside = metric_int(xr, 5);
    json_object_set_new(res, "observed_value", json_is_array(obs) ? json_incref(obs) : json_array());
    if (id == X_DISTINCT_IN_SET)
        xr->success = !set || json_is_null(set) || outside == 0;
    else if (id == X_DISTINCT_CONTAIN)
        xr->success = inside == (int64_t)n_set;
    else
        xr->success = outside == 0 && inside == (int64_t)n_set;
    return 0;
}


/*
 * Proves an integer column unique without hashing its values: the engine's
 * statistics bound the values to [min, max], DuckDB's bitstring_agg sets
 * one bit per value in one pass, and the column is unique exactly when as
 * many bits are set as there are non-null values. Returns 1 when proven,
 * 0 when it has duplicates or cannot tell (then the exact GROUP BY counts
 * them: the check stays exact, only a failing one pays for the hash).
 */
/* Whether unique_by_bitmap can try xr; *ci receives its column. */
static int bitmap_candidate(const run *r, const xrun *xr, const colinfo **ci)
{
    *ci = xr->names.len ? find_col(r, xr->names.items[0]) : NULL;
    return r->split && xr->x->def->id == X_UNIQUE && *ci && (*ci)->has_range &&
           (*ci)->max - (*ci)->min >= 0 && (*ci)->max - (*ci)->min < BITMAP_MAX_BITS;
}

static void bitmap_sql(const run *r, const xrun *xr, const colinfo *ci, weir_buf *sql)
{
    weir_buf w = WEIR_BUF_INIT;
    weir_buf_addf(&w, "%s IS NOT NULL", xr->col.ptr);
    weir_buf_addf(sql, "SELECT bit_count(bitstring_agg(%s, CAST(%" PRId64 " AS %s), CAST(%"
                  PRId64 " AS %s))), count(*) FROM %s", xr->col.ptr, ci->min, ci->type, ci->max,
                  ci->type, r->table.ptr);
    where(sql, xr->x->row_condition, w.ptr);
    weir_buf_release(&w);
}

/*
 * A source without statistics (a view over Parquet files) does not bound
 * its columns: one min/max query over the integer columns checked for
 * uniqueness gives exact bounds, so that the bitmap can prove them unique,
 * two cheap passes where a GROUP BY hashes every value.
 */
static void bound_unique_columns(run *r, xrun *xs, size_t n)
{
    weir_buf sql = WEIR_BUF_INIT;
    WEIR_VEC(colinfo *) cols = WEIR_VEC_INIT;
    weir_result *res = NULL;
    weir_error err = WEIR_ERROR_INIT;
    if (!r->split)
        return;
    for (size_t i = 0; i < n; i++) {
        colinfo *ci = xs[i].names.len ? (colinfo *)find_col(r, xs[i].names.items[0]) : NULL;
        if (xs[i].error || !xs[i].p || xs[i].x->def->id != X_UNIQUE || !ci || ci->has_range ||
            !is_integer_type(ci->type))
            continue;
        int seen = 0;
        for (size_t k = 0; k < cols.len && !seen; k++)
            seen = cols.items[k] == ci;
        if (!seen)
            weir_vec_push(&cols, ci);
    }
    if (!cols.len)
        goto cleanup;
    weir_buf_adds(&sql, "SELECT ");
    for (size_t k = 0; k < cols.len; k++) {
        weir_buf_adds(&sql, k ? ", min(" : "min(");
        weir_sql_quote_ident(r->d, &sql, cols.items[k]->name);
        weir_buf_adds(&sql, "), max(");
        weir_sql_quote_ident(r->d, &sql, cols.items[k]->name);
        weir_buf_addch(&sql, ')');
    }
    weir_buf_addf(&sql, " FROM %s", r->table.ptr);
    if (query(r, sql.ptr, &res, &err) == 0 && weir_result_rows(res) == 1)
        for (size_t k = 0; k < cols.len; k++) {
            colinfo *ci = cols.items[k];
            ci->has_range = !weir_result_is_null(res, 0, 2 * k) &&
                            weir_result_int64(res, 0, 2 * k, &ci->min) == 0 &&
                            weir_result_int64(res, 0, 2 * k + 1, &ci->max) == 0 &&
                            ci->min <= ci->max;
        }
cleanup:
    weir_result_free(res);
    weir_error_release(&err);
    weir_buf_release(&sql);
    weir_vec_release(&cols);
}

static int unique_by_bitmap(run *r, const xrun *xr)
{
    const colinfo *ci;
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *res = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int64_t bits = 0, n = -1;
    int ok = 0;
    if (!bitmap_candidate(r, xr, &ci))
        return 0;
    bitmap_sql(r, xr, ci, &sql);
    if (query(r, sql.ptr, &res, &err) == 0 && weir_result_rows(res) == 1 &&
        weir_result_int64(res, 0, 0, &bits) == 0 && weir_result_int64(res, 0, 1, &n) == 0)
        ok = bits == n;
    weir_result_free(res);
    weir_error_release(&err);
    weir_buf_release(&sql);
    return ok;
}

static int evaluate(run *r, xrun *xr, weir_error *err)
{
    const weir_expectation *x = xr->x;
    qx_id id = x->def->id;
    int64_t unexp;
    weir_buf sql = WEIR_BUF_INIT;
    int rc = 0;
    switch (x->def->kind) {
    case QX_TABLE:
        table_result(r, xr);
        break;
    case QX_AGG:
        rc = agg_result(r, xr, err);
        break;
    case QX_MAP:
    case QX_MULTI:
        if (id == X_OF_TYPE || id == X_IN_TYPE_LIST) {
            const colinfo *ci = find_col(r, x->column);
            xr->success = 0;
            if (id == X_OF_TYPE) {
                xr->success = type_matches(ci->type, kw_str(xr, "type_"));
            } else {
                size_t i;
                json_t *t;
                json_array_foreach(json_object_get(x->kwargs, "type_list"), i, t)
                    xr->success |= type_matches(ci->type, json_string_value(t));
            }
            json_object_set_new(xr->result, "observed_value", json_string(ci->type));
            break;
        }
        unexp = id == X_NOT_NULL ? metric_int(xr, 0) - metric_int(xr, 1)
              : id == X_NULL ? metric_int(xr, 1)
              : xr->grouped ? xr->grouped_unexp : metric_int(xr, 2);
        if (id == X_UNIQUE && unique_by_bitmap(r, xr) == 1) {
            unexp = 0;
        } else if (id == X_UNIQUE || id == X_COMPOUND_UNIQUE) {
            /*
             * The rows in groups of more than one, in one GROUP BY: on
             * DuckDB that costs less than count(DISTINCT) in the batch,
             * and gives the exact count at once.
             */
            weir_buf cols = WEIR_BUF_INIT, w = WEIR_BUF_INIT;
            if (id == X_UNIQUE) {
                weir_buf_adds(&cols, xr->col.ptr);
                weir_buf_addf(&w, "%s IS NOT NULL", xr->col.ptr);
            } else {
                for (size_t i = 0; i < xr->qcols.len; i++)
                    weir_buf_addf(&cols, "%s%s", i ? ", " : "", xr->qcols.items[i]);
                weir_buf_adds(&w, "NOT (");
                ignore_cond(xr, &w);
                weir_buf_addch(&w, ')');
            }
            weir_buf_addf(&sql, "SELECT coalesce(sum(weir__n), 0) FROM (SELECT count(*) AS "
                          "weir__n FROM %s", r->table.ptr);
            where(&sql, x->row_condition, w.ptr);
            weir_buf_addf(&sql, " GROUP BY %s HAVING count(*) > 1)", cols.ptr);
            weir_buf_release(&cols);
            weir_buf_release(&w);
            if ((rc = query_int(r, sql.ptr, &unexp, err)))
                break;
        } else if (id == X_INCREASING || id == X_DECREASING) {
            weir_buf_adds(&sql, "SELECT count(*)");
            unexpected_from(r, xr, &sql);
            if ((rc = query_int(r, sql.ptr, &unexp, err))) {
                if (strstr(err->msg.ptr, "rowid"))
                    rc = weir_error_set(err, WEIR_EINVALID, "ordered values need the rows' "
                                        "insertion order (rowid), which '%s' has not: only "
                                        "tables have one, not views or files", r->table_name);
                break;
            }
        }
        rc = map_result(r, xr, metric_int(xr, 0), metric_int(xr, 1), unexp,
                        id == X_NOT_NULL || id == X_NULL, err);
        break;
    }
    weir_buf_release(&sql);
    return rc;
}

/* --- checks per distinct value ------------------------------------------ */

/* Whether the type is a string check worth evaluating once per value. */
static int groupable(const run *r, const xrun *xr)
{
    switch (xr->x->def->id) {
    case X_IN_SET:
    case X_NOT_IN_SET:
    case X_LENGTHS_BETWEEN:
    case X_LENGTHS_EQUAL:
    case X_REGEX:
    case X_NOT_REGEX:
    case X_REGEX_LIST:
    case X_NOT_REGEX_LIST:
    case X_LIKE:
    case X_NOT_LIKE:
    case X_STRFTIME:
    case X_DATEUTIL:
    case X_JSON:
        break;
    default:
        return 0;
    }
    const colinfo *ci = xr->names.len ? find_col(r, xr->names.items[0]) : NULL;
    return !xr->x->row_condition && ci && weir_str_starts_with(ci->type, "VARCHAR");
}

/* The integer after key in DuckDB's stats() text ("Approx Unique: 12"), or -1. */
static int stats_int(const char *stats, const char *key, int64_t *out)
{
    const char *p = stats ? strstr(stats, key) : NULL;
    long long v;
    char num[32];
    size_t n;
    if (!p)
        return -1;
    p += strlen(key);
    n = (*p == '-') + strspn(p + (*p == '-'), "0123456789");
    if (n == 0 || n >= sizeof(num) || (p[n] != ',' && p[n] != ']'))
        return -1;
    memcpy(num, p, n);
    num[n] = '\0';
    if (weir_str_to_i64(num, &v))
        return -1;
    *out = (int64_t)v;
    return 0;
}


/*
 * Reads what DuckDB's statistics say of the table and every column, in one
 * query that scans nothing: the row count, whether a column can hold
 * NULL, its bounds (integers) and its approximate distinct count. The
 * bounds and "no NULL" are guarantees (DuckDB's optimizer relies on them);
 * the distinct count is an estimate, used only to choose a plan. Other
 * engines, and a failure here, leave everything unknown.
 */
static void load_stats(run *r)
{
    weir_buf sql = WEIR_BUF_INIT, t = WEIR_BUF_INIT;
    weir_result *res = NULL;
    weir_error err = WEIR_ERROR_INIT;
    r->rows = -1;
    for (size_t k = 0; k < r->cols.len; k++) {
        r->cols.items[k].has_null = -1;
        r->cols.items[k].approx_unique = -1;
    }
    if (strcmp(r->d->name, "duckdb") != 0 || !r->cols.len)
        return;
    weir_buf_addf(&sql, "SELECT (SELECT count(*) FROM %s)", r->table.ptr);
    for (size_t k = 0; k < r->cols.len; k++) {
        weir_buf_adds(&sql, ", CAST(stats(");
        weir_sql_quote_ident(r->d, &sql, r->cols.items[k].name);
        weir_buf_adds(&sql, ") AS VARCHAR)");
    }
    weir_buf_addf(&sql, " FROM %s LIMIT 1", r->table.ptr);
    if (query(r, sql.ptr, &res, &err) == 0 && weir_result_rows(res) == 1) {
        weir_result_int64(res, 0, 0, &r->rows);
        for (size_t k = 0; k < r->cols.len; k++) {
            colinfo *ci = &r->cols.items[k];
            weir_buf_reset(&t);
            if (weir_result_text(res, 0, k + 1, &t))
                continue;
            if (strstr(t.ptr, "[Has Null: false,"))
                ci->has_null = 0;
            if (stats_int(t.ptr, "Approx Unique: ", &ci->approx_unique))
                ci->approx_unique = -1;
            ci->has_range = is_integer_type(ci->type) &&
                            stats_int(t.ptr, "[Min: ", &ci->min) == 0 &&
                            stats_int(t.ptr, "Max: ", &ci->max) == 0 && ci->min <= ci->max;
        }
    }
    weir_result_free(res);
    weir_error_release(&err);
    weir_buf_release(&sql);
    weir_buf_release(&t);
}

/*
 * Marks the expectations whose column's values repeat enough for their
 * check to run once per distinct value (see weir_group_values). AUTO reads
 * the engine's statistics (load_stats), which cost no scan on a DuckDB
 * table; a source without them (another engine) keeps the checks per row.
 */
static void choose_grouping(run *r, xrun *xs, size_t n)
{
    if (r->o->group_values == WEIR_GROUP_NEVER)
        return;
    for (size_t i = 0; i < n; i++) {
        if (xs[i].error || !xs[i].p || !groupable(r, &xs[i]))
            continue;
        if (r->o->group_values == WEIR_GROUP_ALWAYS) {
            xs[i].grouped = 1;
            continue;
        }
        const colinfo *ci = find_col(r, xs[i].names.items[0]);
        if (r->rows >= 0 && ci && ci->approx_unique >= 0 && ci->approx_unique * 4 <= r->rows)
            xs[i].grouped = 1;
    }
    /*
     * A column grouped anyway lists its distinct values in the same pass:
     * the distinct-set expectations on it read them there instead of
     * hashing the column again in the batch. So does its non-null count,
     * all the null checks on it need: count(col) of a string column reads
     * every value (0.15 s of the bench's 10M rows), its GROUP BY has it
     * for nothing.
     */
    for (size_t i = 0; i < n; i++) {
        qx_id id = xs[i].x->def ? xs[i].x->def->id : X_ROW_COUNT_BETWEEN;
        if (xs[i].error || !xs[i].p || xs[i].x->row_condition ||
            (id != X_DISTINCT_IN_SET && id != X_DISTINCT_CONTAIN && id != X_DISTINCT_EQUAL &&
             id != X_NOT_NULL && id != X_NULL))
            continue;
        for (size_t j = 0; j < n && !xs[i].grouped; j++)
            if (xs[j].grouped && groupable(r, &xs[j]) && strcmp(xs[j].col.ptr, xs[i].col.ptr) == 0)
                xs[i].grouped = 1;
    }
}

/*
 * Counts the unexpected rows of the grouped expectations, one GROUP BY per
 * column: each check runs once per distinct value, its count weighting it.
 * On failure the column's expectations go back to the per-row plan (own
 * plans, run afterwards), where an error is pinned to its expectation.
 */
/* The GROUP BY statement of the grouped expectations on xs[i]'s column. */
static void grouped_sql(run *r, const xrun *xs, size_t n, size_t i, weir_buf *out)
{
    const char *col = xs[i].col.ptr;
    weir_buf sql = WEIR_BUF_INIT, w = WEIR_BUF_INIT;
    size_t k = 0;
    weir_buf_adds(&sql, "SELECT ");
    for (size_t j = i; j < n; j++) {
        if (!xs[j].grouped || xs[j].grouped == 2 || strcmp(xs[j].col.ptr, col) != 0)
            continue;
        weir_buf_reset(&w);
        if (xs[j].x->def->kind == QX_AGG) {
            /* a distinct set: the groups' values, and how many lie out of / in the set */
            json_t *set = json_object_get(xs[j].x->kwargs, "value_set");
            weir_buf_addf(&w, "list(%s) FILTER (WHERE %s IS NOT NULL)", col, col);
            weir_buf_addf(&sql, "%sCAST(to_json(list_sort(%s)) AS VARCHAR)", k++ ? ", " : "",
                          w.ptr);
            if (json_array_size(set) > 0) {
                weir_buf vl = WEIR_BUF_INIT;
                value_list(r, set, &vl);
                weir_buf_addf(&sql, ", len(list_filter(%s, weir__x -> weir__x NOT IN (%s))), "
                              "len(list_filter(%s, weir__x -> weir__x IN (%s)))", w.ptr, vl.ptr,
                              w.ptr, vl.ptr);
                weir_buf_release(&vl);
            } else {
                weir_buf_addf(&sql, ", len(%s), 0", w.ptr);
            }
            k += 2;
            continue;
        }
        unexpected_cond(r, &xs[j], &w);
        weir_buf_addf(&sql, "%scoalesce(sum(weir__n) FILTER (WHERE %s), 0), "
                      "coalesce(sum(weir__n) FILTER (WHERE %s IS NOT NULL), 0)",
                      k ? ", " : "", w.ptr, col);
        k += 2;
    }
    weir_buf_addf(&sql, " FROM (SELECT %s, count(*) AS weir__n FROM %s GROUP BY %s)", col,
                  r->table.ptr, col);
    weir_buf_add(out, sql.ptr, sql.len);
    weir_buf_release(&sql);
    weir_buf_release(&w);
}

static void run_grouped(run *r, xrun *xs, plan *own, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!xs[i].grouped || xs[i].grouped == 2)
            continue;
        const char *col = xs[i].col.ptr;
        weir_buf sql = WEIR_BUF_INIT, w = WEIR_BUF_INIT;
        weir_result *res = NULL;
        weir_error err = WEIR_ERROR_INIT;
        size_t k = 0;
        grouped_sql(r, xs, n, i, &sql);
        int rc = query(r, sql.ptr, &res, &err);
        k = 0;
        for (size_t j = i; j < n; j++) {
            if (!xs[j].grouped || xs[j].grouped == 2 || strcmp(xs[j].col.ptr, col) != 0)
                continue;
            if (rc == 0 && xs[j].x->def->kind == QX_AGG) {
                for (int g = 0; g < 3; g++)
                    xs[j].gvals[g] = cell_json(res, 0, k++);
                xs[j].grouped = 2;
            } else if (rc == 0) {
                int64_t v = 0;
                weir_result_int64(res, 0, k++, &v);
                xs[j].grouped_unexp = v;
                xs[j].gvals[0] = cell_json(res, 0, k++);
                xs[j].grouped = 2; /* done */
            } else {
                /* back to a per-row count in a plan of its own */
                xs[j].grouped = 0;
                r->st->fallbacks++;
                plan_release(&own[j]);
                plan_expectation(r, &xs[j], &own[j]);
            }
        }
        weir_result_free(res);
        weir_error_release(&err);
        weir_buf_release(&sql);
        weir_buf_release(&w);
    }
}

/* --- finding what broke a batch ------------------------------------------ */

typedef WEIR_VEC(plan *) planvec;

/*
 * Runs the metrics of the expectations idx[0..n) in one query; when it
 * fails, splits them in halves and tries each, so that k bad expectations
 * among n cost about 2k log2(n) queries instead of n. An expectation whose
 * query fails alone gets the engine's message. Plans go to keep (freed by
 * the caller once the results are read).
 */
static void run_split(run *r, xrun *xs, const size_t *idx, size_t n, planvec *keep)
{
    plan *p = weir_xcalloc(1, sizeof(*p));
    weir_error err = WEIR_ERROR_INIT;
    weir_vec_push(keep, p);
    for (size_t i = 0; i < n; i++)
        plan_expectation(r, &xs[idx[i]], p);
    r->st->fallbacks++;
    if (plan_run(r, p, &err) == 0) {
        weir_error_release(&err);
        return;
    }
    if (n == 1)
        xs[idx[0]].error = weir_xstrdup(weir_error_str(&err));
    weir_error_release(&err);
    if (n > 1) {
        run_split(r, xs, idx, n / 2, keep);
        run_split(r, xs, idx + n / 2, n - n / 2, keep);
    }
}

/* --- the run -------------------------------------------------------------- */

static int load_catalog(run *r, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *res = NULL;
    weir_buf_addf(&sql, "SELECT * FROM %s LIMIT 0", r->table.ptr);
    int rc = query(r, sql.ptr, &res, err);
    if (rc == 0) {
        for (size_t i = 0; i < weir_result_cols(res); i++) {
            colinfo ci;
            memset(&ci, 0, sizeof(ci));
            ci.name = weir_xstrdup(weir_result_col_name(res, i));
            ci.type = weir_xstrdup(weir_result_col_type_name(res, i));
            ci.has_null = -1;
            ci.approx_unique = -1;
            weir_vec_push(&r->cols, ci);
        }
    } else {
        weir_error_wrap(err, "cannot read table '%s'", r->table_name);
        if (strstr(err->msg.ptr, "does not exist"))
            err->code = rc = WEIR_ENOTFOUND;
    }
    weir_result_free(res);
    weir_buf_release(&sql);
    return rc;
}

/* Resolves the columns of xr; 0, or -1 with xr->error set. */
static int resolve_columns(run *r, xrun *xr)
{
    const weir_expectation *x = xr->x;
    if (x->def->id == X_COLUMN_EXISTS)
        return 0;
    if (x->column && resolve(r, xr, x->column, &xr->col))
        return -1;
    if (x->column_a && resolve(r, xr, x->column_a, &xr->col))
        return -1;
    if (x->column_b && resolve(r, xr, x->column_b, &xr->colb))
        return -1;
    if (x->def->kind == QX_MULTI && x->columns) {
        for (size_t i = 0; i < x->n_columns; i++) {
            weir_buf q = WEIR_BUF_INIT;
            if (resolve(r, xr, x->columns[i], &q)) {
                weir_buf_release(&q);
                return -1;
            }
            weir_strvec_push(&xr->qcols, q.ptr);
            weir_buf_release(&q);
        }
    }
    return 0;
}

static json_t *exception_info(const char *msg)
{
    return json_pack("{s:b, s:o, s:n}", "raised_exception", msg != NULL, "exception_message",
                     msg ? json_string(msg) : json_null(), "exception_traceback");
}

static void run_time_text(weir_ts now, char *out, size_t n)
{
    weir_date d;
    int h, mi, s, us, y, mo, dd;
    weir_ts_to_parts(now, &d, &h, &mi, &s, &us);
    weir_date_to_ymd(d, &y, &mo, &dd);
    snprintf(out, n, "%04d%02d%02dT%02d%02d%02d.%06dZ", y, mo, dd, h, mi, s, us);
}

int weir_quality_validate(weir_conn *c, const weir_suite *s, const weir_validate_options *opts,
                          json_t **out, weir_validate_stats *stats, weir_error *err)
{
    weir_validate_options dflt = WEIR_VALIDATE_OPTIONS_INIT;
    weir_validate_stats st0 = { 0, 0, NULL };
    run r;
    xrun *xs = NULL;
    plan shared = { WEIR_VEC_INIT, WEIR_VEC_INIT, WEIR_VEC_INIT, NULL };
    plan *own = NULL;
    planvec keep = WEIR_VEC_INIT;
    int rc = 0;
    json_t *results = NULL;
    *out = NULL;
    if (!opts)
        opts = &dflt;
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.d = weir_engine_dialect(weir_conn_engine(c));
    r.o = opts;
    r.st = stats ? stats : &st0;
    r.table_name = opts->table ? opts->table : s->table;
    weir_buf_init(&r.table, 0);
    if (!r.table_name || !*r.table_name) {
        rc = weir_error_set(err, WEIR_EINVALID, "suite '%s' names no table (add 'table:' to "
                            "the suite or pass --table)", s->name);
        goto cleanup;
    }
    weir_qx_quote_relation(r.d, r.table_name, &r.table);
    if ((rc = load_catalog(&r, err)))
        goto cleanup;
    load_stats(&r);
    /*
     * The cost rule. On DuckDB a filter in a WHERE of its own is pushed into
     * the scan and often proven empty from zone maps, while a FILTER clause
     * of a wide aggregate is evaluated on every row: there, one subquery per
     * filter beats one aggregate. Elsewhere a scan is what costs (a row
     * store, a remote warehouse): one aggregate.
     */
    r.split = opts->split == WEIR_SPLIT_ALWAYS ||
              (opts->split == WEIR_SPLIT_AUTO && strcmp(r.d->name, "duckdb") == 0);

    /* plan */
    xs = weir_xcalloc(s->n_items ? s->n_items : 1, sizeof(*xs));
    own = weir_xcalloc(s->n_items ? s->n_items : 1, sizeof(*own));
    for (size_t i = 0; i < s->n_items; i++) {
        xrun *xr = &xs[i];
        xr->x = &s->items[i];
        xr->format = xr->x->has_format ? xr->x->format : opts->format;
        xr->catch_exceptions = xr->x->catch_exceptions >= 0 ? xr->x->catch_exceptions
                                                             : opts->catch_exceptions;
        for (int k = 0; k < 6; k++)
            xr->m[k] = -1;
        weir_buf_init(&xr->col, 0);
        weir_buf_init(&xr->colb, 0);
        if (xr->x->error) {
            weir_buf m = WEIR_BUF_INIT;
            weir_buf_addf(&m, "%s: %s", xr->x->where, xr->x->error);
            xr->error = weir_buf_detach(&m, NULL);
            continue;
        }
        if (xr->x->templated) {
            weir_buf m = WEIR_BUF_INIT;
            weir_buf_addf(&m, "%s: kwargs hold templates that were not rendered "
                          "(weir_suite_render)", xr->x->where);
            xr->error = weir_buf_detach(&m, NULL);
            continue;
        }
        if (resolve_columns(&r, xr))
            continue;
        xr->p = opts->batch ? &shared : &own[i];
    }
    choose_grouping(&r, xs, s->n_items);
    for (size_t i = 0; i < s->n_items; i++)
        if (xs[i].p)
            plan_expectation(&r, &xs[i], xs[i].p);

    bound_unique_columns(&r, xs, s->n_items);
    {
        weir_strvec ahead = WEIR_VEC_INIT;
        weir_buf q = WEIR_BUF_INIT;
        const colinfo *ci;
        /* opt-in: a second connection would not see c's open transaction */
        int conns = opts->connections ? opts->connections : 1;
        if (opts->batch && shared.exprs.len) {
            plan_sql(&r, &shared, &q);
            weir_strvec_push(&ahead, q.ptr);
        }
        for (size_t i = 0; i < s->n_items; i++) {
            int first = xs[i].grouped == 1;
            for (size_t j = 0; j < i && first; j++)
                first = !(xs[j].grouped == 1 && strcmp(xs[j].col.ptr, xs[i].col.ptr) == 0);
            weir_buf_reset(&q);
            if (first) {
                grouped_sql(&r, xs, s->n_items, i, &q);
                weir_strvec_push(&ahead, q.ptr);
            } else if (!xs[i].error && xs[i].p && bitmap_candidate(&r, &xs[i], &ci)) {
                bitmap_sql(&r, &xs[i], ci, &q);
                weir_strvec_push(&ahead, q.ptr);
            }
        }
        prefetch(&r, &ahead, conns);
        weir_strvec_release(&ahead);
        weir_buf_release(&q);
    }

    /* execute: one query for the batch; halves of it on failure, to find the culprits */
    if (opts->batch && shared.exprs.len) {
        weir_error berr = WEIR_ERROR_INIT;
        if (plan_run(&r, &shared, &berr)) {
            weir_log(WEIR_LOG_DEBUG, "quality: the batched query failed (%s); splitting it",
                     weir_error_str(&berr));
            size_t *idx = weir_xcalloc(s->n_items ? s->n_items : 1, sizeof(*idx)), n = 0;
            for (size_t i = 0; i < s->n_items; i++)
                if (xs[i].p == &shared)
                    idx[n++] = i;
            size_t half = n / 2;
            run_split(&r, xs, idx, half, &keep);
            run_split(&r, xs, idx + half, n - half, &keep);
            free(idx);
        }
        weir_error_release(&berr);
    }
    run_grouped(&r, xs, own, s->n_items);
    for (size_t i = 0; i < s->n_items; i++) {
        if (xs[i].p != &own[i])
            continue;
        weir_error qerr = WEIR_ERROR_INIT;
        if (plan_run(&r, &own[i], &qerr))
            xs[i].error = weir_xstrdup(weir_error_str(&qerr));
        weir_error_release(&qerr);
    }

    /* evaluate */
    results = json_array();
    size_t ok = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        xrun *xr = &xs[i];
        xr->result = json_object();
        if (!xr->error) {
            weir_error eerr = WEIR_ERROR_INIT;
            if (evaluate(&r, xr, &eerr))
                set_error(xr, weir_error_str(&eerr));
            weir_error_release(&eerr);
        }
        if (xr->error && xr->x->def && !xr->x->error && !xr->catch_exceptions) {
            rc = weir_error_set(err, WEIR_ERROR, "%s: expectation '%s' raised: %s", xr->x->where,
                                xr->x->type, xr->error);
            goto cleanup;
        }
        if (xr->error) {
            xr->success = 0;
            json_object_clear(xr->result);
        }
        if (xr->format == WEIR_RF_BOOLEAN_ONLY)
            json_object_clear(xr->result);
        json_t *one = json_object();
        json_object_set_new(one, "success", json_boolean(xr->success));
        json_t *ic = json_object_get(xr->x->kwargs, "include_config");
        if (!json_is_false(ic))
            json_object_set(one, "expectation_config", xr->x->config);
        json_object_set(one, "result", xr->result);
        json_object_set_new(one, "meta", json_object());
        json_object_set_new(one, "exception_info", exception_info(xr->error));
        json_array_append_new(results, one);
        ok += xr->success != 0;
    }

    char rt[40], ts[WEIR_TS_STRLEN];
    weir_ts now = weir_ts_now();
    run_time_text(now, rt, sizeof(rt));
    weir_ts_format(now, ts);
    size_t n = s->n_items;
    json_t *v = json_object();
    json_object_set_new(v, "success", json_boolean(ok == n));
    json_object_set_new(v, "results", results);
    results = NULL;
    json_object_set_new(v, "evaluation_parameters", json_object());
    json_object_set_new(v, "statistics",
                        json_pack("{s:I, s:I, s:I, s:o}", "evaluated_expectations", (json_int_t)n,
                                  "successful_expectations", (json_int_t)ok,
                                  "unsuccessful_expectations", (json_int_t)(n - ok),
                                  "success_percent",
                                  n ? json_real(100.0 * (double)ok / (double)n) : json_null()));
    json_t *meta = json_object();
    json_object_set_new(meta, "expectation_suite_name", json_string(s->name));
    json_object_set_new(meta, "run_id", json_pack("{s:s, s:s}", "run_name",
                                                  opts->run_name ? opts->run_name : "manual",
                                                  "run_time", ts));
    json_object_set_new(meta, "batch_spec", json_pack("{s:s}", "table_name", r.table_name));
    json_object_set_new(meta, "active_batch_definition",
                        json_pack("{s:s, s:s}", "datasource_name", "warehouse",
                                  "data_asset_name", r.table_name));
    json_object_set_new(meta, "validation_time", json_string(rt));
    json_object_set_new(meta, "ds", opts->ds ? json_string(opts->ds) : json_null());
    json_object_set_new(meta, "weir_version", json_string(WEIR_VERSION));
    json_object_set_new(meta, "queries", json_integer((json_int_t)r.st->queries));
    json_object_set_new(v, "meta", meta);
    *out = v;
cleanup:
    json_decref(results);
    for (size_t i = 0; xs && i < s->n_items; i++) {
        free(xs[i].error);
        weir_buf_release(&xs[i].col);
        weir_buf_release(&xs[i].colb);
        weir_strvec_release(&xs[i].qcols);
        weir_strvec_release(&xs[i].names);
        json_decref(xs[i].result);
        for (int g = 0; g < 3; g++)
            json_decref(xs[i].gvals[g]);
        plan_release(&own[i]);
    }
    free(xs);
    free(own);
    plan_release(&shared);
    for (size_t i = 0; i < keep.len; i++) {
        plan_release(keep.items[i]);
        free(keep.items[i]);
    }
    weir_vec_release(&keep);
    for (size_t i = 0; i < r.cols.len; i++) {
        free(r.cols.items[i].name);
        free(r.cols.items[i].type);
    }
    weir_vec_release(&r.cols);
    weir_buf_release(&r.table);
    prefetch_release(&r);
    return rc;
}
