/*
 * csv.c: a one-pass CSV reader for seeds (see csv.h) and the per-column
 * type inference dbt does with agate.
 */
#include "core/compat.h"

#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/vec.h"
#include "transform/csv.h"

typedef WEIR_VEC(char *) cellvec;

static void free_cells(cellvec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    weir_vec_release(v);
}

int weir_csv_parse(const char *data, size_t len, const char *file, weir_csv *out,
                   weir_error *err)
{
    return weir_csv_parse_delim(data, len, file, ',', out, err);
}

int weir_csv_parse_delim(const char *data, size_t len, const char *file, char delim, weir_csv *out,
                         weir_error *err)
{
    cellvec cells = WEIR_VEC_INIT, rec = WEIR_VEC_INIT;
    weir_buf field = WEIR_BUF_INIT;
    size_t i = 0, n_cols = 0, rows = 0;
    unsigned line = 1, rec_line = 1;
    int have_header = 0, rc = 0;

    memset(out, 0, sizeof(*out));
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len) {
        /* one record */
        rec_line = line;
        rec.len = 0;
        int blank = 1;
        for (;;) {
            int quoted = 0;
            weir_buf_reset(&field);
            if (i < len && data[i] == '"') {
                unsigned qline = line;
                size_t qcol_start = i;
                quoted = 1;
                blank = 0;
                i++;
                for (;;) {
                    if (i >= len) {
                        /* column: bytes since the start of the record's line */
                        size_t c = qcol_start;
                        while (c > 0 && data[c - 1] != '\n' && data[c - 1] != '\r')
                            c--;
                        rc = weir_error_set(err, WEIR_EINVALID,
                                            "%s:%u:%zu: unterminated quoted field", file, qline,
                                            qcol_start - c + 1);
                        goto fail;
                    }
                    if (data[i] == '"') {
                        if (i + 1 < len && data[i + 1] == '"') {
                            weir_buf_addch(&field, '"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (data[i] == '\n')
                        line++;
                    weir_buf_addch(&field, data[i++]);
                }
                /* text after the closing quote up to the delimiter is kept, as
                 * Python's csv module does */
                while (i < len && data[i] != delim && data[i] != '\n' && data[i] != '\r')
                    weir_buf_addch(&field, data[i++]);
            } else {
                while (i < len && data[i] != delim && data[i] != '\n' && data[i] != '\r')
                    weir_buf_addch(&field, data[i++]);
                if (field.len)
                    blank = 0;
            }
            if (!quoted && field.len == 0)
                weir_vec_push(&rec, NULL);
            else
                weir_vec_push(&rec, weir_xstrndup(field.ptr, field.len));
            if (i < len && data[i] == delim) {
                blank = 0;
                i++;
                continue;
            }
            break;
        }
        /* end of record */
        if (i < len && data[i] == '\r')
            i++;
        if (i < len && data[i] == '\n')
            i++;
        line++;
        if (blank && rec.len == 1) {
            free_cells(&rec);
            continue;
        }
        if (!have_header) {
            have_header = 1;
            n_cols = rec.len;
            out->header = rec.items;
            out->n_cols = n_cols;
            for (size_t c = 0; c < n_cols; c++)
                if (!out->header[c])
                    out->header[c] = weir_xstrdup("");
            rec.items = NULL;
            rec.len = rec.cap = 0;
            continue;
        }
        if (rec.len != n_cols) {
            rc = weir_error_set(err, WEIR_EINVALID, "%s:%u: row has %zu field%s, the header has %zu",
                                file, rec_line, rec.len, rec.len == 1 ? "" : "s", n_cols);
            goto fail;
        }
        for (size_t c = 0; c < rec.len; c++)
            weir_vec_push(&cells, rec.items[c]);
        rec.len = 0;
        rows++;
    }
    if (!have_header) {
        rc = weir_error_set(err, WEIR_EINVALID, "%s: empty file (expected a header row)", file);
        goto fail;
    }
    out->cells = cells.items;
    out->n_rows = rows;
    weir_vec_release(&rec);
    weir_buf_release(&field);
    return 0;
fail:
    free_cells(&rec);
    free_cells(&cells);
    weir_buf_release(&field);
    weir_csv_release(out);
    return rc;
}

void weir_csv_release(weir_csv *csv)
{
    if (csv->cells)
        for (size_t i = 0; i < csv->n_rows * csv->n_cols; i++)
            free(csv->cells[i]);
    if (csv->header)
        for (size_t i = 0; i < csv->n_cols; i++)
            free(csv->header[i]);
    free(csv->cells);
    free(csv->header);
    memset(csv, 0, sizeof(*csv));
}

/* --- inference ----------------------------------------------------------- */

enum { T_BOOL = 1, T_INT = 2, T_BIGINT = 4, T_DOUBLE = 8, T_DATE = 16, T_TS = 32 };

static int is_int(const char *s, int *big)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    size_t digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p)
        return 0;
    if (digits > 18)
        return 0; /* beyond BIGINT: agate reads it as a decimal */
    long long v = strtoll(s, NULL, 10);
    *big = v > 2147483647LL || v < -2147483648LL;
    return 1;
}

static int is_number(const char *s)
{
    const char *p = s;
    int digits = 0;
    if (*p == '-' || *p == '+')
        p++;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == 0;
}

static int digits_at(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_date(const char *s)
{
    return strlen(s) == 10 && digits_at(s, 4) && s[4] == '-' && digits_at(s + 5, 2) &&
           s[7] == '-' && digits_at(s + 8, 2) && s[5] <= '1' && s[8] <= '3';
}

static int is_ts(const char *s)
{
    size_t n = strlen(s);
    if (n < 19 || !is_date((char[11]){ s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], 0 }))
        return 0;
    if (s[10] != ' ' && s[10] != 'T')
        return 0;
    if (!digits_at(s + 11, 2) || s[13] != ':' || !digits_at(s + 14, 2) || s[16] != ':' ||
        !digits_at(s + 17, 2))
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z')
        p++;
    return *p == 0;
}

const char *weir_csv_infer_type(const weir_csv *csv, size_t col)
{
    unsigned possible = T_BOOL | T_INT | T_DOUBLE | T_DATE | T_TS;
    int big = 0, any = 0;
    for (size_t r = 0; r < csv->n_rows && possible; r++) {
        const char *s = weir_csv_cell(csv, r, col);
        if (!s)
            continue;
        any = 1;
        int b = 0;
        if ((possible & T_BOOL) && !(weir_str_ieq(s, "true") || weir_str_ieq(s, "false")))
            possible &= ~(unsigned)T_BOOL;
        if (possible & T_INT) {
            if (!is_int(s, &b))
                possible &= ~(unsigned)T_INT;
            else if (b)
                big = 1;
        }
        if ((possible & T_DOUBLE) && !is_number(s))
            possible &= ~(unsigned)T_DOUBLE;
        if ((possible & T_DATE) && !is_date(s))
            possible &= ~(unsigned)T_DATE;
        if ((possible & T_TS) && !is_ts(s))
            possible &= ~(unsigned)T_TS;
    }
    if (!any)
        return "VARCHAR";
    if (possible & T_BOOL)
        return "BOOLEAN";
    if (possible & T_INT)
        return big ? "BIGINT" : "INTEGER";
    if (possible & T_DOUBLE)
        return "DOUBLE";
    if (possible & T_DATE)
        return "DATE";
    if (possible & T_TS)
        return "TIMESTAMP";
    return "VARCHAR";
}
