/*
 * duckdb.c: the DuckDB backend of engine.h, through DuckDB's C API.
 *
 * Results are kept as DuckDB's own data chunks (no copy): a cell is found
 * by its chunk and read straight from the column vector. Nested values
 * (lists, structs, maps, unions) are rendered to text by walking the child
 * vectors, following what DuckDB prints when casting them to VARCHAR.
 *
 * Every connection sets its time zone to UTC, so TIMESTAMP WITH TIME ZONE
 * prints as UTC ("+00") and weir's own timestamps (UTC microseconds) mean
 * the same thing in SQL.
 */
#include "core/compat.h"

/* duckdb.h declares a few functions as f() rather than f(void); the Makefile
 * includes it with -isystem so that -Wstrict-prototypes does not apply. */
#include <duckdb.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/log.h"
#include "engine/backend.h"

typedef struct {
    weir_engine base;
    duckdb_database db;
} dk_engine;

typedef struct {
    weir_conn base;
    duckdb_connection con;
} dk_conn;

typedef struct {
    weir_stmt base;
    duckdb_prepared_statement ps;
} dk_stmt;

typedef struct {
    weir_appender base;
    duckdb_appender app;
} dk_appender;

typedef struct {
    duckdb_logical_type lt;
    duckdb_type id;
} dk_col;

typedef struct {
    weir_result base;
    duckdb_result res;
    dk_col *cols;
    WEIR_VEC(duckdb_data_chunk) chunks;
    WEIR_VEC(size_t) starts; /* first row of each chunk */
    size_t last;             /* chunk of the last lookup, for sequential reads */
} dk_result;

static const char *dk_version(void)
{
    return duckdb_library_version();
}

/* Sets err from a failed result, keeping DuckDB's message as it is. */
static int result_error(duckdb_result *res, weir_error *err)
{
    const char *msg = duckdb_result_error(res);
    int code = duckdb_result_error_type(res) == DUCKDB_ERROR_INTERRUPT ? WEIR_EINTERRUPTED
                                                                        : WEIR_ERROR;
    return weir_error_set(err, code, "%s", msg ? msg : "unknown DuckDB error");
}

/* --- engine ------------------------------------------------------------ */

static int set_option(duckdb_config cfg, const char *name, const char *value, weir_error *err)
{
    if (duckdb_set_config(cfg, name, value) != DuckDBSuccess)
        return weir_error_set(err, WEIR_EINVALID, "invalid DuckDB option %s = '%s'", name, value);
    return 0;
}

static int dk_open(const char *target, const weir_engine_options *opts, weir_engine **out,
                   weir_error *err)
{
    duckdb_config cfg = NULL;
    char *msg = NULL;
    dk_engine *e = weir_xcalloc(1, sizeof(*e));
    bool memory = strcmp(target, ":memory:") == 0;
    int rc = 0;

    if (!memory && !opts->read_only && strchr(target, '/')) {
        char *dir = weir_xstrdup(target);
        *strrchr(dir, '/') = '\0';
        rc = *dir ? weir_fs_mkdir_p(dir, err) : 0;
        free(dir);
        if (rc)
            goto cleanup;
    }
    if (!memory && opts->read_only && !weir_fs_exists(target)) {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "cannot open database '%s': no such file",
                            target);
        goto cleanup;
    }
    if (duckdb_create_config(&cfg) != DuckDBSuccess) {
        rc = weir_error_set(err, WEIR_ERROR, "cannot create a DuckDB configuration");
        goto cleanup;
    }
    if (opts->threads > 0) {
        char n[16];
        snprintf(n, sizeof(n), "%d", opts->threads);
        if ((rc = set_option(cfg, "threads", n, err)))
            goto cleanup;
    }
    if (opts->read_only && (rc = set_option(cfg, "access_mode", "READ_ONLY", err)))
        goto cleanup;
    if (opts->memory_limit && (rc = set_option(cfg, "memory_limit", opts->memory_limit, err)))
        goto cleanup;
    if (duckdb_open_ext(memory ? NULL : target, &e->db, cfg, &msg) != DuckDBSuccess) {
        const char *m = msg ? msg : "unknown DuckDB error";
        int code = strstr(m, "Could not set lock") ? WEIR_EBUSY : WEIR_ERROR;
        rc = weir_error_set(err, code, "cannot open database '%s': %s", target, m);
        goto cleanup;
    }
    *out = &e->base;
    e = NULL;
cleanup:
    if (msg)
        duckdb_free(msg);
    if (cfg)
        duckdb_destroy_config(&cfg);
    free(e);
    return rc;
}

static void dk_close(weir_engine *base)
{
    dk_engine *e = (dk_engine *)base;
    duckdb_close(&e->db);
    free(e);
}

/* --- connections ------------------------------------------------------- */

static int dk_connect(weir_engine *base, weir_conn **out, weir_error *err)
{
    dk_engine *e = (dk_engine *)base;
    dk_conn *c = weir_xcalloc(1, sizeof(*c));
    duckdb_result res;
    if (duckdb_connect(e->db, &c->con) != DuckDBSuccess) {
        free(c);
        return weir_error_set(err, WEIR_ERROR, "cannot connect to database '%s'", base->target);
    }
    /* Best effort: without ICU there are no time zones, and UTC is what remains. */
    if (duckdb_query(c->con, "SET TimeZone = 'UTC'", &res) != DuckDBSuccess)
        weir_debug("duckdb: cannot set the time zone: %s", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    *out = &c->base;
    return 0;
}

static void dk_disconnect(weir_conn *base)
{
    dk_conn *c = (dk_conn *)base;
    duckdb_disconnect(&c->con);
    free(c);
}

static void dk_interrupt(weir_conn *base)
{
    duckdb_interrupt(((dk_conn *)base)->con);
}

static double dk_progress(weir_conn *base)
{
    duckdb_query_progress_type p = duckdb_query_progress(((dk_conn *)base)->con);
    return p.percentage;
}

/* --- results: building ------------------------------------------------- */

static const char *simple_type_name(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_UNION: return "UNION";
    default: return "UNKNOWN";
    }
}

static void add_type_name(weir_buf *out, duckdb_logical_type lt)
{
    duckdb_type id = duckdb_get_type_id(lt);
    duckdb_logical_type child;
    switch (id) {
    case DUCKDB_TYPE_DECIMAL:
        weir_buf_addf(out, "DECIMAL(%d,%d)", duckdb_decimal_width(lt), duckdb_decimal_scale(lt));
        break;
    case DUCKDB_TYPE_LIST:
        child = duckdb_list_type_child_type(lt);
        add_type_name(out, child);
        duckdb_destroy_logical_type(&child);
        weir_buf_adds(out, "[]");
        break;
    case DUCKDB_TYPE_ARRAY:
        child = duckdb_array_type_child_type(lt);
        add_type_name(out, child);
        duckdb_destroy_logical_type(&child);
        weir_buf_addf(out, "[%" PRIu64 "]", (uint64_t)duckdb_array_type_array_size(lt));
        break;
    default:
        weir_buf_adds(out, simple_type_name(id));
    }
}

static weir_type category(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_SQLNULL: return WEIR_TYPE_NULL;
    case DUCKDB_TYPE_BOOLEAN: return WEIR_TYPE_BOOL;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: return WEIR_TYPE_INT;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: return WEIR_TYPE_DOUBLE;
    case DUCKDB_TYPE_DECIMAL: return WEIR_TYPE_DECIMAL;
    case DUCKDB_TYPE_VARCHAR: return WEIR_TYPE_STRING;
    case DUCKDB_TYPE_BLOB: return WEIR_TYPE_BLOB;
    case DUCKDB_TYPE_DATE: return WEIR_TYPE_DATE;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: return WEIR_TYPE_TIMESTAMP;
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_NS:
    case DUCKDB_TYPE_TIME_TZ: return WEIR_TYPE_TIME;
    case DUCKDB_TYPE_INTERVAL: return WEIR_TYPE_INTERVAL;
    default: return WEIR_TYPE_OTHER;
    }
}

static void result_free_chunks(dk_result *r)
{
    for (size_t i = 0; i < r->chunks.len; i++)
        duckdb_destroy_data_chunk(&r->chunks.items[i]);
    r->chunks.len = 0;
    r->starts.len = 0;
    r->last = 0;
    r->base.nrows = 0;
}

static void dk_result_free(weir_result *base)
{
    dk_result *r = (dk_result *)base;
    result_free_chunks(r);
    weir_vec_release(&r->chunks);
    weir_vec_release(&r->starts);
    for (size_t i = 0; i < base->ncols; i++)
        if (r->cols[i].lt)
            duckdb_destroy_logical_type(&r->cols[i].lt);
    free(r->cols);
    duckdb_destroy_result(&r->res);
    weir_result_base_release(base);
    free(r);
}

/* Takes one chunk into the result; returns 0 when there was none. */
static int take_chunk(dk_result *r)
{
    duckdb_data_chunk ch = duckdb_fetch_chunk(r->res);
    if (!ch)
        return 0;
    size_t n = duckdb_data_chunk_get_size(ch);
    if (n == 0) {
        duckdb_destroy_data_chunk(&ch);
        return 1;
    }
    weir_vec_push(&r->starts, r->base.nrows);
    weir_vec_push(&r->chunks, ch);
    r->base.nrows += n;
    return 1;
}

/* A failed streamed fetch leaves its error on the result. */
static int fetch_error(dk_result *r, weir_error *err)
{
    const char *msg = duckdb_result_error(&r->res);
    if (!msg)
        return 0;
    return result_error(&r->res, err);
}

/* Wraps a successful duckdb_result (taken over) into a weir_result. */
static int make_result(duckdb_result *res, bool stream, weir_result **out, weir_error *err)
{
    dk_result *r = weir_xcalloc(1, sizeof(*r));
    size_t ncols = duckdb_column_count(res);
    weir_buf name = WEIR_BUF_INIT;
    int rc = 0;

    r->res = *res;
    memset(res, 0, sizeof(*res));
    weir_result_base_init(&r->base, &weir_engine_backend_duckdb, ncols);
    r->base.streaming = stream;
    r->cols = ncols ? weir_xcalloc(ncols, sizeof(*r->cols)) : NULL;
    for (size_t i = 0; i < ncols; i++) {
        dk_col *c = &r->cols[i];
        c->lt = duckdb_column_logical_type(&r->res, i);
        c->id = duckdb_get_type_id(c->lt);
        r->base.cols[i].name = weir_xstrdup(duckdb_column_name(&r->res, i));
        r->base.cols[i].type = category(c->id);
        if (c->id == DUCKDB_TYPE_DECIMAL)
            r->base.cols[i].scale = duckdb_decimal_scale(c->lt);
        weir_buf_reset(&name);
        add_type_name(&name, c->lt);
        r->base.cols[i].type_name = weir_buf_detach(&name, NULL);
    }
    if (stream) {
        /* the first non-empty batch, so that errors and columns come at once */
        while (take_chunk(r) && r->base.nrows == 0)
            ;
        rc = fetch_error(r, err);
    } else {
        while (take_chunk(r))
            ;
    }
    if (rc) {
        dk_result_free(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

static int dk_fetch(weir_result *base, weir_error *err)
{
    dk_result *r = (dk_result *)base;
    result_free_chunks(r);
    while (take_chunk(r) && r->base.nrows == 0)
        ;
    int rc = fetch_error(r, err);
    if (rc)
        return rc;
    return r->base.nrows > 0;
}

static int dk_query(weir_conn *base, const char *sql, weir_rows_mode mode, weir_result **out,
                    weir_error *err)
{
    dk_conn *c = (dk_conn *)base;
    duckdb_result res;
    int rc;
    if (mode == WEIR_ROWS_STREAM) {
        duckdb_prepared_statement ps = NULL;
        if (duckdb_prepare(c->con, sql, &ps) != DuckDBSuccess) {
            rc = weir_error_set(err, WEIR_ERROR, "%s", duckdb_prepare_error(ps));
            duckdb_destroy_prepare(&ps);
            return rc;
        }
        if (duckdb_execute_prepared_streaming(ps, &res) != DuckDBSuccess) {
            rc = result_error(&res, err);
            duckdb_destroy_result(&res);
            duckdb_destroy_prepare(&ps);
            return rc;
        }
        duckdb_destroy_prepare(&ps);
        return make_result(&res, true, out, err);
    }
    if (duckdb_query(c->con, sql, &res) != DuckDBSuccess) {
        rc = result_error(&res, err);
        duckdb_destroy_result(&res);
        return rc;
    }
    if (mode == WEIR_ROWS_NONE) {
        duckdb_destroy_result(&res);
        return 0;
    }
    return make_result(&res, false, out, err);
}

/* --- results: reading -------------------------------------------------- */

/* The chunk holding row, and the row's index inside it. */
static duckdb_data_chunk locate(const dk_result *r, size_t row, size_t *local)
{
    size_t i = r->last;
    if (!(i < r->starts.len && r->starts.items[i] <= row &&
          (i + 1 == r->starts.len || row < r->starts.items[i + 1]))) {
        size_t lo = 0, hi = r->starts.len;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->starts.items[mid] <= row)
                lo = mid;
            else
                hi = mid;
        }
        i = lo;
        ((dk_result *)r)->last = i;
    }
    *local = row - r->starts.items[i];
    return r->chunks.items[i];
}

static bool vector_is_null(duckdb_vector v, size_t idx)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    return valid && !duckdb_validity_row_is_valid(valid, idx);
}

static const char *string_at(duckdb_vector v, size_t idx, size_t *len)
{
    duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + idx;
    *len = duckdb_string_t_length(*s);
    return duckdb_string_t_data(s);
}

typedef unsigned __int128 u128;

static void add_u128(weir_buf *out, u128 u)
{
    char tmp[48];
    size_t n = sizeof(tmp);
    tmp[--n] = '\0';
    do {
        tmp[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    weir_buf_adds(out, tmp + n);
}

static void add_i128(weir_buf *out, bool neg, u128 mag)
{
    if (neg)
        weir_buf_addch(out, '-');
    add_u128(out, mag);
}

/* The unscaled value of a DECIMAL cell, as sign and magnitude. */
static void decimal_at(duckdb_vector v, duckdb_logical_type lt, size_t idx, bool *neg, u128 *mag)
{
    void *data = duckdb_vector_get_data(v);
    int64_t small;
    switch (duckdb_decimal_internal_type(lt)) {
    case DUCKDB_TYPE_SMALLINT:
        small = ((int16_t *)data)[idx];
        break;
    case DUCKDB_TYPE_INTEGER:
        small = ((int32_t *)data)[idx];
        break;
    case DUCKDB_TYPE_BIGINT:
        small = ((int64_t *)data)[idx];
        break;
    default: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[idx];
        u128 u = ((u128)(uint64_t)h.upper << 64) | h.lower;
        *neg = h.upper < 0;
        *mag = *neg ? (u128)0 - u : u;
        return;
    }
    }
    *neg = small < 0;
    *mag = small < 0 ? (u128)(uint64_t)(-(small + 1)) + 1 : (u128)(uint64_t)small;
}

static void add_decimal(weir_buf *out, bool neg, u128 mag, int scale)
{
    weir_buf digits = WEIR_BUF_INIT;
    add_u128(&digits, mag);
    if (neg)
        weir_buf_addch(out, '-');
    if (scale <= 0) {
        weir_buf_add(out, digits.ptr, digits.len);
    } else {
        size_t s = (size_t)scale;
        if (digits.len <= s) {
            weir_buf_adds(out, "0.");
            weir_buf_addchars(out, '0', s - digits.len);
            weir_buf_add(out, digits.ptr, digits.len);
        } else {
            weir_buf_add(out, digits.ptr, digits.len - s);
            weir_buf_addch(out, '.');
            weir_buf_add(out, digits.ptr + digits.len - s, s);
        }
    }
    weir_buf_release(&digits);
}

static void add_uuid(weir_buf *out, duckdb_hugeint h)
{
    /* DuckDB stores a UUID with its top bit flipped so that they sort */
    uint64_t hi = (uint64_t)h.upper ^ (UINT64_C(1) << 63), lo = h.lower;
    weir_buf_addf(out, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                  hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                  lo & UINT64_C(0xffffffffffff));
}

static void add_bits(weir_buf *out, const char *p, size_t n)
{
    if (n == 0)
        return;
    unsigned padding = (unsigned char)p[0];
    for (size_t i = 1; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            if (i == 1 && (unsigned)(7 - b) < padding)
                continue;
            weir_buf_addch(out, ((unsigned char)p[i] >> b) & 1 ? '1' : '0');
        }
}

static int64_t time_tz_offset_text(weir_buf *out, uint64_t bits)
{
    duckdb_time_tz t = { bits };
    duckdb_time_tz_struct s = duckdb_from_time_tz(t);
    int64_t micros = ((int64_t)s.time.hour * 3600 + s.time.min * 60 + s.time.sec) *
                         WEIR_USEC_PER_SEC + s.time.micros;
    weir_engine_format_time(out, micros);
    int32_t off = s.offset;
    weir_buf_addch(out, off < 0 ? '-' : '+');
    if (off < 0)
        off = -off;
    weir_buf_addf(out, "%02d", off / 3600);
    if (off % 3600)
        weir_buf_addf(out, ":%02d", off / 60 % 60);
    if (off % 60)
        weir_buf_addf(out, ":%02d", off % 60);
    return micros;
}

static void add_ts_ns(weir_buf *out, int64_t ns)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    weir_engine_format_ts(out, sec * WEIR_USEC_PER_SEC);
    if (frac) {
        char tmp[16];
        size_t n = (size_t)snprintf(tmp, sizeof(tmp), "%09" PRId64, frac);
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        weir_buf_addch(out, '.');
        weir_buf_add(out, tmp, n);
    }
}

static int64_t ts_micros(duckdb_type id, int64_t raw)
{
    if (raw == INT64_MAX || raw == -INT64_MAX)
        return raw; /* infinities */
    switch (id) {
    case DUCKDB_TYPE_TIMESTAMP_S: return raw * WEIR_USEC_PER_SEC;
    case DUCKDB_TYPE_TIMESTAMP_MS: return raw * 1000;
    case DUCKDB_TYPE_TIMESTAMP_NS: return raw / 1000 - (raw % 1000 < 0);
    default: return raw;
    }
}

/*
 * Reads one cell of vector v (type lt) into out. Text that must be built
 * (decimals, big integers, nested values, ...) goes into text and out->str
 * is set to it by the caller once text stops moving.
 */
static void read_cell(duckdb_vector v, duckdb_logical_type lt, size_t idx, weir_value *out,
                      weir_buf *text);

/* Whether DuckDB quotes a string inside a list, struct or map. */
static bool needs_quotes(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))
        return true;
    if (n == 4 && strncasecmp(s, "null", 4) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strchr(",[]{}():='\"\\", s[i]))
            return true;
    return false;
}

static void add_nested_leaf(weir_buf *out, const char *s, size_t n)
{
    if (!needs_quotes(s, n)) {
        weir_buf_add(out, s, n);
        return;
    }
    weir_buf_addch(out, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            weir_buf_addch(out, '\\');
        weir_buf_addch(out, s[i]);
    }
    weir_buf_addch(out, '\'');
}

/* Appends a cell as text, quoted where DuckDB quotes nested strings. */
static void add_cell_text(weir_buf *out, duckdb_vector v, duckdb_logical_type lt, size_t idx,
                          bool nested)
{
    if (vector_is_null(v, idx)) {
        weir_buf_adds(out, "NULL");
        return;
    }
    duckdb_type id = duckdb_get_type_id(lt);
    bool container = id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_ARRAY ||
                     id == DUCKDB_TYPE_STRUCT || id == DUCKDB_TYPE_MAP;
    weir_value val;
    weir_buf text = WEIR_BUF_INIT, leaf = WEIR_BUF_INIT;
    read_cell(v, lt, idx, &val, &text);
    if (val.str == NULL && text.len > 0 && val.type != WEIR_TYPE_STRING &&
        val.type != WEIR_TYPE_BLOB) {
        val.str = text.ptr;
        val.len = text.len;
    }
    weir_value_text(&val, &leaf);
    if (nested && !container)
        add_nested_leaf(out, leaf.ptr, leaf.len);
    else
        weir_buf_add(out, leaf.ptr, leaf.len);
    weir_buf_release(&leaf);
    weir_buf_release(&text);
}

static void add_list(weir_buf *out, duckdb_vector child, duckdb_logical_type ct, size_t from,
                     size_t n)
{
    weir_buf_addch(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            weir_buf_adds(out, ", ");
        add_cell_text(out, child, ct, from + i, true);
    }
    weir_buf_addch(out, ']');
}

static void add_nested(weir_buf *out, duckdb_vector v, duckdb_logical_type lt, size_t idx)
{
    duckdb_type id = duckdb_get_type_id(lt);
    duckdb_logical_type ct;
    switch (id) {
    case DUCKDB_TYPE_LIST: {
        duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[idx];
        ct = duckdb_list_type_child_type(lt);
        add_list(out, duckdb_list_vector_get_child(v), ct, e.offset, e.length);
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_ARRAY: {
        size_t n = duckdb_array_type_array_size(lt);
        ct = duckdb_array_type_child_type(lt);
        add_list(out, duckdb_array_vector_get_child(v), ct, idx * n, n);
        duckdb_destroy_logical_type(&ct);
        break;
    }
    case DUCKDB_TYPE_STRUCT: {
        idx_t n = duckdb_struct_type_child_count(lt);
        weir_buf_addch(out, '{');
        for (idx_t i = 0; i < n; i++) {
            char *name = duckdb_struct_type_child_name(lt, i);
            ct = duckdb_struct_type_child_type(lt, i);
            if (i)
                weir_buf_adds(out, ", ");
            weir_buf_addch(out, '\'');
            for (const char *p = name; *p; p++) {
                if (*p == '\'' || *p == '\\')
                    weir_buf_addch(out, '\\');
                weir_buf_addch(out, *p);
            }
            weir_buf_adds(out, "': ");
            add_cell_text(out, duckdb_struct_vector_get_child(v, i), ct, idx, true);
            duckdb_destroy_logical_type(&ct);
            duckdb_free(name);
        }
        weir_buf_addch(out, '}');
        break;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[idx];
        duckdb_vector entries = duckdb_list_vector_get_child(v);
        duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
        duckdb_vector vals = duckdb_struct_vector_get_child(entries, 1);
        duckdb_logical_type kt = duckdb_map_type_key_type(lt);
        duckdb_logical_type vt = duckdb_map_type_value_type(lt);
        weir_buf_addch(out, '{');
        for (size_t i = 0; i < e.length; i++) {
            if (i)
                weir_buf_adds(out, ", ");
            add_cell_text(out, keys, kt, e.offset + i, true);
            weir_buf_addch(out, '=');
            add_cell_text(out, vals, vt, e.offset + i, true);
        }
        weir_buf_addch(out, '}');
        duckdb_destroy_logical_type(&kt);
        duckdb_destroy_logical_type(&vt);
        break;
    }
    case DUCKDB_TYPE_UNION: {
        /* a struct whose first child is the tag */
        uint8_t tag = ((uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(v, 0)))[idx];
        ct = duckdb_union_type_member_type(lt, tag);
        add_cell_text(out, duckdb_struct_vector_get_child(v, (idx_t)tag + 1), ct, idx, false);
        duckdb_destroy_logical_type(&ct);
        break;
    }
    default:
        weir_buf_addf(out, "<%s>", simple_type_name(id));
    }
}

static void read_cell(duckdb_vector v, duckdb_logical_type lt, size_t idx, weir_value *out,
                      weir_buf *text)
{
    duckdb_type id = duckdb_get_type_id(lt);
    void *data = duckdb_vector_get_data(v);
    *out = weir_value_null();
    if (vector_is_null(v, idx))
        return;
    out->type = category(id);
    switch (id) {
    case DUCKDB_TYPE_SQLNULL:
        break;
    case DUCKDB_TYPE_BOOLEAN:
        out->u.b = ((bool *)data)[idx];
        break;
    case DUCKDB_TYPE_TINYINT: out->u.i = ((int8_t *)data)[idx]; break;
    case DUCKDB_TYPE_SMALLINT: out->u.i = ((int16_t *)data)[idx]; break;
    case DUCKDB_TYPE_INTEGER: out->u.i = ((int32_t *)data)[idx]; break;
    case DUCKDB_TYPE_BIGINT: out->u.i = ((int64_t *)data)[idx]; break;
    case DUCKDB_TYPE_UTINYINT: out->u.i = ((uint8_t *)data)[idx]; break;
    case DUCKDB_TYPE_USMALLINT: out->u.i = ((uint16_t *)data)[idx]; break;
    case DUCKDB_TYPE_UINTEGER: out->u.i = ((uint32_t *)data)[idx]; break;
    case DUCKDB_TYPE_UBIGINT: {
        uint64_t u = ((uint64_t *)data)[idx];
        out->u.i = (int64_t)u;
        if (u > INT64_MAX)
            add_u128(text, u);
        break;
    }
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[idx];
        u128 u = ((u128)(uint64_t)h.upper << 64) | h.lower;
        bool neg = h.upper < 0;
        u128 mag = neg ? (u128)0 - u : u;
        if ((h.upper == 0 && h.lower <= INT64_MAX) || (h.upper == -1 && h.lower >= (uint64_t)INT64_MIN))
            out->u.i = (int64_t)h.lower;
        else
            add_i128(text, neg, mag);
        break;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)data)[idx];
        if (h.upper == 0 && h.lower <= INT64_MAX)
            out->u.i = (int64_t)h.lower;
        else
            add_u128(text, ((u128)h.upper << 64) | h.lower);
        break;
    }
    case DUCKDB_TYPE_FLOAT:
        out->u.d = ((float *)data)[idx];
        weir_engine_format_double(text, out->u.d, true);
        break;
    case DUCKDB_TYPE_DOUBLE:
        out->u.d = ((double *)data)[idx];
        break;
    case DUCKDB_TYPE_DECIMAL: {
        bool neg;
        u128 mag;
        decimal_at(v, lt, idx, &neg, &mag);
        add_decimal(text, neg, mag, duckdb_decimal_scale(lt));
        out->u.d = strtod(text->ptr, NULL);
        break;
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
        out->str = string_at(v, idx, &out->len);
        break;
    case DUCKDB_TYPE_DATE:
        out->u.date = ((int32_t *)data)[idx];
        if (out->u.date == INT32_MAX || out->u.date == -INT32_MAX)
            weir_engine_format_date(text, out->u.date);
        break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
        int64_t raw = ((int64_t *)data)[idx];
        out->u.ts = ts_micros(id, raw);
        if (id == DUCKDB_TYPE_TIMESTAMP_NS && raw != INT64_MAX && raw != -INT64_MAX) {
            add_ts_ns(text, raw);
        } else if (id == DUCKDB_TYPE_TIMESTAMP_TZ) {
            weir_engine_format_ts(text, out->u.ts);
            if (raw != INT64_MAX && raw != -INT64_MAX)
                weir_buf_adds(text, "+00");
        }
        break;
    }
    case DUCKDB_TYPE_TIME:
        out->u.i = ((int64_t *)data)[idx];
        break;
    case DUCKDB_TYPE_TIME_NS: {
        int64_t ns = ((int64_t *)data)[idx];
        out->u.i = ns / 1000;
        weir_engine_format_time(text, ns / 1000000000 * WEIR_USEC_PER_SEC);
        if (ns % 1000000000) {
            char tmp[16];
            size_t n = (size_t)snprintf(tmp, sizeof(tmp), "%09" PRId64, ns % 1000000000);
            while (n > 0 && tmp[n - 1] == '0')
                n--;
            weir_buf_addch(text, '.');
            weir_buf_add(text, tmp, n);
        }
        break;
    }
    case DUCKDB_TYPE_TIME_TZ:
        out->u.i = time_tz_offset_text(text, ((uint64_t *)data)[idx]);
        break;
    case DUCKDB_TYPE_INTERVAL: {
        duckdb_interval iv = ((duckdb_interval *)data)[idx];
        weir_engine_format_interval(text, iv.months, iv.days, iv.micros);
        break;
    }
    case DUCKDB_TYPE_UUID:
        add_uuid(text, ((duckdb_hugeint *)data)[idx]);
        break;
    case DUCKDB_TYPE_BIT: {
        size_t n;
        const char *p = string_at(v, idx, &n);
        add_bits(text, p, n);
        break;
    }
    case DUCKDB_TYPE_ENUM: {
        uint64_t k;
        switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT: k = ((uint8_t *)data)[idx]; break;
        case DUCKDB_TYPE_USMALLINT: k = ((uint16_t *)data)[idx]; break;
        default: k = ((uint32_t *)data)[idx]; break;
        }
        char *s = duckdb_enum_dictionary_value(lt, k);
        weir_buf_adds(text, s ? s : "");
        duckdb_free(s);
        break;
    }
    default:
        add_nested(text, v, lt, idx);
        break;
    }
}

static bool dk_is_null(const weir_result *base, size_t row, size_t col)
{
    const dk_result *r = (const dk_result *)base;
    size_t local;
    duckdb_data_chunk ch = locate(r, row, &local);
    return vector_is_null(duckdb_data_chunk_get_vector(ch, col), local);
}

static void dk_value(weir_result *base, size_t row, size_t col, weir_value *out)
{
    dk_result *r = (dk_result *)base;
    size_t local;
    duckdb_data_chunk ch = locate(r, row, &local);
    read_cell(duckdb_data_chunk_get_vector(ch, col), r->cols[col].lt, local, out, &base->scratch);
    if (!out->str && base->scratch.len > 0) {
        out->str = base->scratch.ptr;
        out->len = base->scratch.len;
    }
}

/* --- prepared statements ---------------------------------------------- */

static int dk_prepare(weir_conn *base, const char *sql, weir_stmt **out, weir_error *err)
{
    dk_conn *c = (dk_conn *)base;
    dk_stmt *s = weir_xcalloc(1, sizeof(*s));
    if (duckdb_prepare(c->con, sql, &s->ps) != DuckDBSuccess) {
        int rc = weir_error_set(err, WEIR_ERROR, "%s", duckdb_prepare_error(s->ps));
        duckdb_destroy_prepare(&s->ps);
        free(s);
        return rc;
    }
    s->base.nparams = duckdb_nparams(s->ps);
    *out = &s->base;
    return 0;
}

static int dk_bind(weir_stmt *base, size_t idx, const weir_value *v, weir_error *err)
{
    dk_stmt *s = (dk_stmt *)base;
    duckdb_state st;
    switch (v->type) {
    case WEIR_TYPE_NULL: st = duckdb_bind_null(s->ps, idx); break;
    case WEIR_TYPE_BOOL: st = duckdb_bind_boolean(s->ps, idx, v->u.b); break;
    case WEIR_TYPE_INT: st = duckdb_bind_int64(s->ps, idx, v->u.i); break;
    case WEIR_TYPE_DOUBLE: st = duckdb_bind_double(s->ps, idx, v->u.d); break;
    case WEIR_TYPE_DATE: {
        duckdb_date d = { v->u.date };
        st = duckdb_bind_date(s->ps, idx, d);
        break;
    }
    case WEIR_TYPE_TIMESTAMP: {
        duckdb_timestamp t = { v->u.ts };
        st = duckdb_bind_timestamp(s->ps, idx, t);
        break;
    }
    case WEIR_TYPE_TIME: {
        duckdb_time t = { v->u.i };
        st = duckdb_bind_time(s->ps, idx, t);
        break;
    }
    case WEIR_TYPE_BLOB: st = duckdb_bind_blob(s->ps, idx, v->str, v->len); break;
    case WEIR_TYPE_STRING:
    case WEIR_TYPE_DECIMAL:
    case WEIR_TYPE_INTERVAL:
    case WEIR_TYPE_OTHER:
        /* given as text; DuckDB casts it to the parameter's type */
        st = duckdb_bind_varchar_length(s->ps, idx, v->str ? v->str : "", v->len);
        break;
    default:
        st = DuckDBError;
    }
    if (st != DuckDBSuccess)
        return weir_error_set(err, WEIR_EINVALID, "cannot bind a %s to parameter %zu",
                              weir_type_name(v->type), idx);
    return 0;
}

static int dk_clear(weir_stmt *base, weir_error *err)
{
    if (duckdb_clear_bindings(((dk_stmt *)base)->ps) != DuckDBSuccess)
        return weir_error_set(err, WEIR_ERROR, "cannot clear the bindings");
    return 0;
}

static int dk_execute(weir_stmt *base, weir_result **out, weir_error *err)
{
    dk_stmt *s = (dk_stmt *)base;
    duckdb_result res;
    int rc;
    if (duckdb_execute_prepared(s->ps, &res) != DuckDBSuccess) {
        rc = result_error(&res, err);
        duckdb_destroy_result(&res);
        return rc;
    }
    if (!out) {
        duckdb_destroy_result(&res);
        return 0;
    }
    return make_result(&res, false, out, err);
}

static void dk_stmt_free(weir_stmt *base)
{
    dk_stmt *s = (dk_stmt *)base;
    duckdb_destroy_prepare(&s->ps);
    free(s);
}

/* --- appenders --------------------------------------------------------- */

static int appender_error(dk_appender *a, weir_error *err)
{
    const char *msg = duckdb_appender_error(a->app);
    return weir_error_set(err, WEIR_ERROR, "%s", msg ? msg : "unknown DuckDB appender error");
}

static int dk_appender_new(weir_conn *base, const char *schema, const char *table,
                           weir_appender **out, weir_error *err)
{
    dk_conn *c = (dk_conn *)base;
    dk_appender *a = weir_xcalloc(1, sizeof(*a));
    if (duckdb_appender_create(c->con, schema, table, &a->app) != DuckDBSuccess) {
        int rc = appender_error(a, err);
        duckdb_appender_destroy(&a->app);
        free(a);
        return rc;
    }
    *out = &a->base;
    return 0;
}

static int dk_append(weir_appender *base, const weir_value *v, weir_error *err)
{
    dk_appender *a = (dk_appender *)base;
    duckdb_state st;
    switch (v->type) {
    case WEIR_TYPE_NULL: st = duckdb_append_null(a->app); break;
    case WEIR_TYPE_BOOL: st = duckdb_append_bool(a->app, v->u.b); break;
    case WEIR_TYPE_INT: st = duckdb_append_int64(a->app, v->u.i); break;
    case WEIR_TYPE_DOUBLE: st = duckdb_append_double(a->app, v->u.d); break;
    case WEIR_TYPE_DATE: {
        duckdb_date d = { v->u.date };
        st = duckdb_append_date(a->app, d);
        break;
    }
    case WEIR_TYPE_TIMESTAMP: {
        duckdb_timestamp t = { v->u.ts };
        st = duckdb_append_timestamp(a->app, t);
        break;
    }
    case WEIR_TYPE_TIME: {
        duckdb_time t = { v->u.i };
        st = duckdb_append_time(a->app, t);
        break;
    }
    case WEIR_TYPE_BLOB: st = duckdb_append_blob(a->app, v->str, v->len); break;
    default:
        st = duckdb_append_varchar_length(a->app, v->str ? v->str : "", v->len);
        break;
    }
    return st == DuckDBSuccess ? 0 : appender_error(a, err);
}

static int dk_end_row(weir_appender *base, weir_error *err)
{
    dk_appender *a = (dk_appender *)base;
    return duckdb_appender_end_row(a->app) == DuckDBSuccess ? 0 : appender_error(a, err);
}

static int dk_flush(weir_appender *base, weir_error *err)
{
    dk_appender *a = (dk_appender *)base;
    return duckdb_appender_flush(a->app) == DuckDBSuccess ? 0 : appender_error(a, err);
}

static void dk_appender_free(weir_appender *base)
{
    dk_appender *a = (dk_appender *)base;
    duckdb_appender_destroy(&a->app);
    free(a);
}

const weir_engine_backend weir_engine_backend_duckdb = {
    .name = "duckdb",
    .dialect = &weir_dialect_duckdb,
    .version = dk_version,
    .open = dk_open,
    .close = dk_close,
    .connect = dk_connect,
    .disconnect = dk_disconnect,
    .query = dk_query,
    .interrupt = dk_interrupt,
    .progress = dk_progress,
    .prepare = dk_prepare,
    .bind = dk_bind,
    .clear = dk_clear,
    .execute = dk_execute,
    .stmt_free = dk_stmt_free,
    .appender_new = dk_appender_new,
    .append = dk_append,
    .end_row = dk_end_row,
    .flush = dk_flush,
    .appender_free = dk_appender_free,
    .fetch = dk_fetch,
    .is_null = dk_is_null,
    .value = dk_value,
    .result_free = dk_result_free,
};
