/*
 * engine.c: what every engine backend shares (see engine.h, backend.h).
 *
 * The public functions check their arguments and dispatch through the
 * backend's table. Value conversions, the text rendering of cells (which
 * follows DuckDB's CLI so that `weir query` prints what duckdb would),
 * quoting and the dialect facts live here, once for every backend.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/str.h"
#include "engine/backend.h"

/* --- values ------------------------------------------------------------ */

static const char *const type_names[] = {
    "null", "bool", "int", "double", "decimal", "string", "date",
    "timestamp", "time", "interval", "blob", "other",
};

const char *weir_type_name(weir_type t)
{
    if ((size_t)t >= WEIR_ARRAY_SIZE(type_names))
        return "other";
    return type_names[t];
}

weir_value weir_value_str(const char *s)
{
    if (!s)
        return weir_value_null();
    return weir_value_strn(s, strlen(s));
}

/* --- formatting like DuckDB ------------------------------------------- */

/*
 * Shortest digits that read back as d (or as the float d when is_float),
 * then Python's repr layout, which DuckDB follows: positional for decimal
 * exponents -4..15 with ".0" on integral values, else d.ddde+XX.
 */
void weir_engine_format_double(weir_buf *out, double d, bool is_float)
{
    if (isnan(d)) {
        weir_buf_adds(out, "nan");
        return;
    }
    if (isinf(d)) {
        weir_buf_adds(out, d < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[64];
    int maxp = is_float ? 9 : 17;
    int p;
    for (p = 1; p < maxp; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        double back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)d : back == d)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
    /* tmp is "-d.ddde+XX": split into sign, digits and exponent */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg)
        s++;
    char digits[32];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s) && nd < sizeof(digits) - 1)
            digits[nd++] = *s;
    digits[nd] = '\0';
    int exp = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (neg)
        weir_buf_addch(out, '-');
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            weir_buf_adds(out, "0.");
            weir_buf_addchars(out, '0', (size_t)(-exp - 1));
            weir_buf_adds(out, digits);
        } else if ((size_t)exp + 1 >= nd) {
            weir_buf_adds(out, digits);
            weir_buf_addchars(out, '0', (size_t)exp + 1 - nd);
            weir_buf_adds(out, ".0");
        } else {
            weir_buf_add(out, digits, (size_t)exp + 1);
            weir_buf_addch(out, '.');
            weir_buf_adds(out, digits + exp + 1);
        }
    } else {
        weir_buf_addch(out, digits[0]);
        if (nd > 1) {
            weir_buf_addch(out, '.');
            weir_buf_adds(out, digits + 1);
        }
        weir_buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
}

/* Days since 1970-01-01 to a proleptic Gregorian date, for any year. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void add_ymd(weir_buf *out, int64_t days)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* DuckDB prints year 0 as 0001 (BC), -1 as 0002 (BC), ... */
    bool bc = y <= 0;
    weir_buf_addf(out, "%04" PRId64 "-%02d-%02d", bc ? 1 - y : y, m, d);
    if (bc)
        weir_buf_adds(out, " (BC)");
}

static void add_fraction(weir_buf *out, int64_t frac, int digits)
{
    if (frac == 0)
        return;
    char tmp[16];
    snprintf(tmp, sizeof(tmp), "%0*" PRId64, digits, frac);
    size_t n = strlen(tmp);
    while (n > 0 && tmp[n - 1] == '0')
        n--;
    weir_buf_addch(out, '.');
    weir_buf_add(out, tmp, n);
}

void weir_engine_format_date(weir_buf *out, int32_t days)
{
    if (days == INT32_MAX)
        weir_buf_adds(out, "infinity");
    else if (days == -INT32_MAX)
        weir_buf_adds(out, "-infinity");
    else
        add_ymd(out, days);
}

void weir_engine_format_time(weir_buf *out, int64_t micros)
{
    int64_t s = micros / WEIR_USEC_PER_SEC;
    weir_buf_addf(out, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    add_fraction(out, micros % WEIR_USEC_PER_SEC, 6);
}

void weir_engine_format_ts(weir_buf *out, int64_t micros)
{
    if (micros == INT64_MAX) {
        weir_buf_adds(out, "infinity");
        return;
    }
    if (micros == -INT64_MAX) {
        weir_buf_adds(out, "-infinity");
        return;
    }
    int64_t days = micros / WEIR_USEC_PER_DAY;
    int64_t rest = micros % WEIR_USEC_PER_DAY;
    if (rest < 0) {
        rest += WEIR_USEC_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    bool bc = y <= 0;
    weir_buf_addf(out, "%04" PRId64 "-%02d-%02d ", bc ? 1 - y : y, m, d);
    weir_engine_format_time(out, rest);
    if (bc)
        weir_buf_adds(out, " (BC)");
}

void weir_engine_format_interval(weir_buf *out, int32_t months, int32_t days, int64_t micros)
{
    size_t start = out->len;
    int32_t years = months / 12;
    months -= years * 12;
    if (years)
        weir_buf_addf(out, "%d year%s", years, years == 1 || years == -1 ? "" : "s");
    if (months)
        weir_buf_addf(out, "%s%d month%s", out->len > start ? " " : "", months,
                      months == 1 || months == -1 ? "" : "s");
    if (days)
        weir_buf_addf(out, "%s%d day%s", out->len > start ? " " : "", days,
                      days == 1 || days == -1 ? "" : "s");
    if (micros || out->len == start) {
        if (out->len > start)
            weir_buf_addch(out, ' ');
        uint64_t u = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
        if (micros < 0)
            weir_buf_addch(out, '-');
        uint64_t s = u / 1000000;
        weir_buf_addf(out, "%02" PRIu64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
        add_fraction(out, (int64_t)(u % 1000000), 6);
    }
}

/* DuckDB prints blobs with printable ASCII kept and other bytes as \xHH. */
static void add_blob(weir_buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"')
            weir_buf_addch(out, c);
        else
            weir_buf_addf(out, "\\x%02X", c);
    }
}

void weir_value_text(const weir_value *v, weir_buf *out)
{
    switch (v->type) {
    case WEIR_TYPE_NULL:
        return;
    case WEIR_TYPE_STRING:
        weir_buf_add(out, v->str, v->len);
        return;
    case WEIR_TYPE_BLOB:
        add_blob(out, v->str, v->len);
        return;
    default:
        break;
    }
    if (v->str) {
        weir_buf_add(out, v->str, v->len);
        return;
    }
    switch (v->type) {
    case WEIR_TYPE_BOOL:
        weir_buf_adds(out, v->u.b ? "true" : "false");
        break;
    case WEIR_TYPE_INT:
        weir_buf_addf(out, "%" PRId64, v->u.i);
        break;
    case WEIR_TYPE_DOUBLE:
    case WEIR_TYPE_DECIMAL:
        weir_engine_format_double(out, v->u.d, false);
        break;
    case WEIR_TYPE_DATE:
        weir_engine_format_date(out, v->u.date);
        break;
    case WEIR_TYPE_TIMESTAMP:
        weir_engine_format_ts(out, v->u.ts);
        break;
    case WEIR_TYPE_TIME:
        weir_engine_format_time(out, v->u.i);
        break;
    default:
        break;
    }
}

/* --- dialects ---------------------------------------------------------- */

const weir_dialect weir_dialect_duckdb = { "duckdb", true, true, true };
const weir_dialect weir_dialect_postgres = { "postgres", true, true, false };

const weir_dialect *weir_dialect_find(const char *name)
{
    static const weir_dialect *const all[] = { &weir_dialect_duckdb, &weir_dialect_postgres };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(all); i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

const weir_dialect *weir_engine_dialect(const weir_engine *e)
{
    return e->be->dialect;
}

/* Both dialects quote the same way; d is there for the ones that will not. */
void weir_sql_quote_ident(const weir_dialect *d, weir_buf *out, const char *ident)
{
    WEIR_UNUSED(d);
    weir_buf_addch(out, '"');
    for (const char *p = ident; *p; p++) {
        if (*p == '"')
            weir_buf_addch(out, '"');
        weir_buf_addch(out, *p);
    }
    weir_buf_addch(out, '"');
}

void weir_sql_quote_qualified(const weir_dialect *d, weir_buf *out, const char *schema,
                              const char *name)
{
    if (schema && *schema) {
        weir_sql_quote_ident(d, out, schema);
        weir_buf_addch(out, '.');
    }
    weir_sql_quote_ident(d, out, name);
}

void weir_sql_quote_literal(const weir_dialect *d, weir_buf *out, const char *s)
{
    WEIR_UNUSED(d);
    weir_buf_addch(out, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            weir_buf_addch(out, '\'');
        weir_buf_addch(out, *p);
    }
    weir_buf_addch(out, '\'');
}

/* The statements of a swap, one per entry, so that they can run one by one. */
static void swap_statements(const weir_dialect *d, weir_strvec *out, const char *schema,
                            const char *name, const char *select_sql)
{
    weir_buf tmp = WEIR_BUF_INIT, target = WEIR_BUF_INIT, fresh = WEIR_BUF_INIT;
    weir_buf fresh_name = WEIR_BUF_INIT, select = WEIR_BUF_INIT;
    /* a trailing ';' would end the CREATE early */
    weir_buf_adds(&select, select_sql);
    weir_buf_trim(&select);
    while (select.len > 0 && select.ptr[select.len - 1] == ';') {
        weir_buf_truncate(&select, select.len - 1);
        weir_buf_trim(&select);
    }
    weir_sql_quote_qualified(d, &target, schema, name);
    weir_buf_addf(&fresh_name, "%s__new", name);
    weir_sql_quote_qualified(d, &fresh, schema, fresh_name.ptr);

    weir_strvec_push(out, "BEGIN TRANSACTION");
    weir_buf_addf(&tmp, "DROP TABLE IF EXISTS %s", fresh.ptr);
    weir_vec_push(out, weir_buf_detach(&tmp, NULL));
    weir_buf_addf(&tmp, "CREATE TABLE %s AS %s", fresh.ptr, select.ptr);
    weir_vec_push(out, weir_buf_detach(&tmp, NULL));
    weir_buf_addf(&tmp, "DROP TABLE IF EXISTS %s", target.ptr);
    weir_vec_push(out, weir_buf_detach(&tmp, NULL));
    weir_buf_addf(&tmp, "ALTER TABLE %s RENAME TO ", fresh.ptr);
    weir_sql_quote_ident(d, &tmp, name);
    weir_vec_push(out, weir_buf_detach(&tmp, NULL));
    weir_strvec_push(out, "COMMIT");

    weir_buf_release(&target);
    weir_buf_release(&fresh);
    weir_buf_release(&fresh_name);
    weir_buf_release(&select);
}

void weir_sql_swap_table(const weir_dialect *d, weir_buf *out, const char *schema,
                         const char *name, const char *select_sql)
{
    weir_strvec stmts = WEIR_VEC_INIT;
    swap_statements(d, &stmts, schema, name, select_sql);
    for (size_t i = 0; i < stmts.len; i++)
        weir_buf_addf(out, "%s;\n", stmts.items[i]);
    weir_strvec_release(&stmts);
}

/* --- engines and connections ------------------------------------------ */

static const weir_engine_backend *const backends[] = {
    &weir_engine_backend_duckdb,
};

int weir_engine_open(const char *target, const weir_engine_options *opts,
                     weir_engine **out, weir_error *err)
{
    weir_engine_options defaults = WEIR_ENGINE_OPTIONS_INIT;
    const char *name;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (!target || !*target)
        return weir_error_set(err, WEIR_EINVALID, "no database given to open");
    name = opts->backend;
    if (!name)
        name = weir_str_starts_with(target, "postgres://") ||
                       weir_str_starts_with(target, "postgresql://")
                   ? "postgres"
                   : "duckdb";
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(backends); i++) {
        const weir_engine_backend *be = backends[i];
        if (strcmp(be->name, name) != 0)
            continue;
        int rc = be->open(target, opts, out, err);
        if (rc == 0) {
            (*out)->be = be;
            (*out)->target = weir_xstrdup(target);
        }
        return rc;
    }
    return weir_error_set(err, WEIR_EINVALID, "engine '%s' is not built into this weir", name);
}

void weir_engine_free(weir_engine *e)
{
    if (!e)
        return;
    free(e->target);
    e->target = NULL;
    e->be->close(e);
}

const char *weir_engine_backend_name(const weir_engine *e)
{
    return e->be->name;
}

const char *weir_engine_version(const weir_engine *e)
{
    return e->be->version();
}

const char *weir_engine_duckdb_version(void)
{
    return weir_engine_backend_duckdb.version();
}

int weir_conn_new(weir_engine *e, weir_conn **out, weir_error *err)
{
    *out = NULL;
    int rc = e->be->connect(e, out, err);
    if (rc == 0) {
        (*out)->be = e->be;
        (*out)->engine = e;
    }
    return rc;
}

void weir_conn_free(weir_conn *c)
{
    if (c)
        c->be->disconnect(c);
}

weir_engine *weir_conn_engine(const weir_conn *c)
{
    return c->engine;
}

int weir_conn_exec(weir_conn *c, const char *sql, weir_error *err)
{
    return c->be->query(c, sql, WEIR_ROWS_NONE, NULL, err);
}

int weir_conn_query(weir_conn *c, const char *sql, weir_result **out, weir_error *err)
{
    *out = NULL;
    return c->be->query(c, sql, WEIR_ROWS_ALL, out, err);
}

int weir_conn_query_stream(weir_conn *c, const char *sql, weir_result **out, weir_error *err)
{
    *out = NULL;
    return c->be->query(c, sql, WEIR_ROWS_STREAM, out, err);
}

int weir_conn_begin(weir_conn *c, weir_error *err)
{
    return weir_conn_exec(c, "BEGIN TRANSACTION", err);
}

int weir_conn_commit(weir_conn *c, weir_error *err)
{
    return weir_conn_exec(c, "COMMIT", err);
}

int weir_conn_rollback(weir_conn *c, weir_error *err)
{
    return weir_conn_exec(c, "ROLLBACK", err);
}

int weir_conn_swap_table(weir_conn *c, const char *schema, const char *name,
                         const char *select_sql, weir_error *err)
{
    weir_strvec stmts = WEIR_VEC_INIT;
    int rc = 0;
    swap_statements(c->be->dialect, &stmts, schema, name, select_sql);
    for (size_t i = 0; i < stmts.len; i++) {
        rc = weir_conn_exec(c, stmts.items[i], err);
        if (rc) {
            /* the BEGIN itself failing leaves no transaction to roll back */
            if (i > 0)
                weir_conn_rollback(c, NULL);
            weir_error_wrap(err, "cannot replace table '%s'", name);
            goto cleanup;
        }
    }
cleanup:
    weir_strvec_release(&stmts);
    return rc;
}

void weir_conn_interrupt(weir_conn *c)
{
    if (c) /* a worker of an executor without a warehouse has none */
        c->be->interrupt(c);
}

double weir_conn_progress(weir_conn *c)
{
    return c->be->progress(c);
}

/* --- prepared statements ---------------------------------------------- */

int weir_conn_prepare(weir_conn *c, const char *sql, weir_stmt **out, weir_error *err)
{
    *out = NULL;
    int rc = c->be->prepare(c, sql, out, err);
    if (rc == 0) {
        (*out)->be = c->be;
        (*out)->conn = c;
    }
    return rc;
}

void weir_stmt_free(weir_stmt *s)
{
    if (s)
        s->be->stmt_free(s);
}

size_t weir_stmt_param_count(const weir_stmt *s)
{
    return s->nparams;
}

int weir_stmt_bind(weir_stmt *s, size_t idx, weir_value v, weir_error *err)
{
    if (idx < 1 || idx > s->nparams)
        return weir_error_set(err, WEIR_EINVALID,
                              "no parameter %zu: the statement takes %zu", idx, s->nparams);
    return s->be->bind(s, idx, &v, err);
}

int weir_stmt_clear(weir_stmt *s, weir_error *err)
{
    return s->be->clear(s, err);
}

int weir_stmt_execute(weir_stmt *s, weir_result **out, weir_error *err)
{
    if (out)
        *out = NULL;
    return s->be->execute(s, out, err);
}

/* --- appenders --------------------------------------------------------- */

int weir_appender_new(weir_conn *c, const char *schema, const char *table,
                      weir_appender **out, weir_error *err)
{
    *out = NULL;
    int rc = c->be->appender_new(c, schema, table, out, err);
    if (rc)
        return weir_error_wrap(err, "cannot append to '%s'", table);
    (*out)->be = c->be;
    (*out)->conn = c;
    (*out)->table = weir_xstrdup(table);
    (*out)->rows = 0;
    (*out)->flushed = 0;
    return 0;
}

int weir_appender_add(weir_appender *a, weir_value v, weir_error *err)
{
    int rc = a->be->append(a, &v, err);
    if (rc)
        return weir_error_wrap(err, "cannot append row %zu to '%s'", a->rows + 1, a->table);
    return 0;
}

int weir_appender_end_row(weir_appender *a, weir_error *err)
{
    int rc = a->be->end_row(a, err);
    if (rc)
        return weir_error_wrap(err, "cannot append row %zu to '%s'", a->rows + 1, a->table);
    a->rows++;
    return 0;
}

int weir_appender_flush(weir_appender *a, weir_error *err)
{
    int rc = a->be->flush(a, err);
    if (rc == 0) {
        a->flushed = a->rows;
        return 0;
    }
    /* the engine checks constraints for the whole batch, so name the batch */
    if (a->rows == a->flushed + 1)
        return weir_error_wrap(err, "cannot write row %zu to '%s'", a->rows, a->table);
    return weir_error_wrap(err, "cannot write rows %zu to %zu to '%s'", a->flushed + 1, a->rows,
                           a->table);
}

int weir_appender_close(weir_appender *a, weir_error *err)
{
    int rc = weir_appender_flush(a, err);
    weir_appender_free(a);
    return rc;
}

void weir_appender_free(weir_appender *a)
{
    if (!a)
        return;
    free(a->table);
    a->table = NULL;
    a->be->appender_free(a);
}

size_t weir_appender_rows(const weir_appender *a)
{
    return a->rows;
}

/* --- results ----------------------------------------------------------- */

void weir_result_base_init(weir_result *r, const weir_engine_backend *be, size_t ncols)
{
    r->be = be;
    r->nrows = 0;
    r->ncols = ncols;
    r->cols = ncols ? weir_xcalloc(ncols, sizeof(*r->cols)) : NULL;
    r->streaming = false;
    weir_buf_init(&r->scratch, 0);
}

void weir_result_base_release(weir_result *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        free(r->cols[i].name);
        free(r->cols[i].type_name);
    }
    free(r->cols);
    r->cols = NULL;
    r->ncols = 0;
    weir_buf_release(&r->scratch);
}

void weir_result_free(weir_result *r)
{
    if (r)
        r->be->result_free(r);
}

size_t weir_result_rows(const weir_result *r)
{
    return r->nrows;
}

size_t weir_result_cols(const weir_result *r)
{
    return r->ncols;
}

const char *weir_result_col_name(const weir_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].name : NULL;
}

weir_type weir_result_col_type(const weir_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].type : WEIR_TYPE_NULL;
}

const char *weir_result_col_type_name(const weir_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].type_name : NULL;
}

int weir_result_col_scale(const weir_result *r, size_t col)
{
    return col < r->ncols ? r->cols[col].scale : 0;
}

long weir_result_col_index(const weir_result *r, const char *name)
{
    for (size_t i = 0; i < r->ncols; i++)
        if (weir_str_ieq(r->cols[i].name, name))
            return (long)i;
    return -1;
}

int weir_result_fetch(weir_result *r, weir_error *err)
{
    if (!r->streaming)
        return 0;
    return r->be->fetch(r, err);
}

bool weir_result_is_null(const weir_result *r, size_t row, size_t col)
{
    assert(row < r->nrows && col < r->ncols);
    return r->be->is_null(r, row, col);
}

void weir_result_value(weir_result *r, size_t row, size_t col, weir_value *out)
{
    assert(row < r->nrows && col < r->ncols);
    weir_buf_reset(&r->scratch);
    *out = weir_value_null();
    r->be->value(r, row, col, out);
}

/* Copies a borrowed string into a NUL-terminated local, or fails. */
static int value_cstr(const weir_value *v, char *tmp, size_t size)
{
    if (!v->str || v->len >= size)
        return -1;
    memcpy(tmp, v->str, v->len);
    tmp[v->len] = '\0';
    return 0;
}

int weir_result_int64(weir_result *r, size_t row, size_t col, int64_t *out)
{
    weir_value v;
    char tmp[64];
    long long ll;
    *out = 0;
    weir_result_value(r, row, col, &v);
    switch (v.type) {
    case WEIR_TYPE_INT:
        if (v.str) /* beyond 64 bits */
            return WEIR_EINVALID;
        *out = v.u.i;
        return 0;
    case WEIR_TYPE_BOOL:
        *out = v.u.b;
        return 0;
    case WEIR_TYPE_DOUBLE:
    case WEIR_TYPE_DECIMAL:
        if (!(v.u.d >= -9223372036854775808.0 && v.u.d < 9223372036854775808.0) ||
            v.u.d != floor(v.u.d))
            return WEIR_EINVALID;
        *out = (int64_t)v.u.d;
        return 0;
    case WEIR_TYPE_STRING:
        if (value_cstr(&v, tmp, sizeof(tmp)) || weir_str_to_i64(tmp, &ll))
            return WEIR_EINVALID;
        *out = ll;
        return 0;
    default:
        return WEIR_EINVALID;
    }
}

int weir_result_double(weir_result *r, size_t row, size_t col, double *out)
{
    weir_value v;
    char tmp[128];
    *out = 0;
    weir_result_value(r, row, col, &v);
    switch (v.type) {
    case WEIR_TYPE_INT:
        if (v.str)
            return value_cstr(&v, tmp, sizeof(tmp)) || weir_str_to_double(tmp, out)
                       ? WEIR_EINVALID
                       : 0;
        *out = (double)v.u.i;
        return 0;
    case WEIR_TYPE_BOOL:
        *out = v.u.b;
        return 0;
    case WEIR_TYPE_DOUBLE:
    case WEIR_TYPE_DECIMAL:
        *out = v.u.d;
        return 0;
    case WEIR_TYPE_STRING:
        if (value_cstr(&v, tmp, sizeof(tmp)) || weir_str_to_double(tmp, out)) {
            *out = 0;
            return WEIR_EINVALID;
        }
        return 0;
    default:
        return WEIR_EINVALID;
    }
}

int weir_result_bool(weir_result *r, size_t row, size_t col, bool *out)
{
    weir_value v;
    *out = false;
    weir_result_value(r, row, col, &v);
    if (v.type == WEIR_TYPE_BOOL)
        *out = v.u.b;
    else if (v.type == WEIR_TYPE_INT && !v.str)
        *out = v.u.i != 0;
    else
        return WEIR_EINVALID;
    return 0;
}

int weir_result_date(weir_result *r, size_t row, size_t col, weir_date *out)
{
    weir_value v;
    *out = 0;
    weir_result_value(r, row, col, &v);
    switch (v.type) {
    case WEIR_TYPE_DATE:
        *out = v.u.date;
        return 0;
    case WEIR_TYPE_TIMESTAMP:
        *out = weir_ts_date(v.u.ts);
        return 0;
    case WEIR_TYPE_STRING:
        return weir_date_parse_n(v.str, v.len, out) ? WEIR_EINVALID : 0;
    default:
        return WEIR_EINVALID;
    }
}

int weir_result_ts(weir_result *r, size_t row, size_t col, weir_ts *out)
{
    weir_value v;
    char tmp[64];
    *out = 0;
    weir_result_value(r, row, col, &v);
    switch (v.type) {
    case WEIR_TYPE_TIMESTAMP:
        *out = v.u.ts;
        return 0;
    case WEIR_TYPE_DATE:
        *out = weir_ts_from_date(v.u.date);
        return 0;
    case WEIR_TYPE_STRING:
        if (value_cstr(&v, tmp, sizeof(tmp)) || weir_ts_parse(tmp, out)) {
            *out = 0;
            return WEIR_EINVALID;
        }
        return 0;
    default:
        return WEIR_EINVALID;
    }
}

int weir_result_str(weir_result *r, size_t row, size_t col, const char **ptr, size_t *len)
{
    weir_value v;
    *ptr = NULL;
    *len = 0;
    weir_result_value(r, row, col, &v);
    if (v.type != WEIR_TYPE_STRING && v.type != WEIR_TYPE_BLOB)
        return WEIR_EINVALID;
    *ptr = v.str;
    *len = v.len;
    return 0;
}

int weir_result_text(weir_result *r, size_t row, size_t col, weir_buf *out)
{
    weir_value v;
    weir_result_value(r, row, col, &v);
    if (v.type == WEIR_TYPE_NULL)
        return 1;
    weir_value_text(&v, out);
    return 0;
}
