/*
 * csv.h: the CSV reader behind seeds, and dbt's type inference for them.
 *
 * RFC 4180 with what real seed files hold: LF or CRLF line endings (a lone
 * CR too), quoted fields with "" escapes and embedded newlines, a UTF-8 BOM,
 * a trailing newline or none, blank lines skipped. The first record is the
 * header. An empty unquoted field is NULL; an empty quoted field ("") is
 * the empty string.
 *
 * Memory: a weir_csv owns every cell; weir_csv_release() frees them.
 */
#ifndef WEIR_TRANSFORM_CSV_H
#define WEIR_TRANSFORM_CSV_H

#include <stddef.h>

#include "core/error.h"

typedef struct weir_csv {
    size_t n_cols, n_rows;
    char **header;   /* n_cols names */
    char **cells;    /* n_rows * n_cols, row-major; NULL for a NULL cell */
} weir_csv;

#define WEIR_CSV_INIT { 0, 0, NULL, NULL }

/*
 * Parses len bytes of CSV named file (for messages). Errors read
 * "file:line:col: unterminated quoted field" or "file:line: row has 3
 * fields, the header has 2" (WEIR_EINVALID). On error out is left empty.
 */
int weir_csv_parse(const char *data, size_t len, const char *file, weir_csv *out,
                   weir_error *err);
/* The same with another field separator (dbt's seed config `delimiter`). */
int weir_csv_parse_delim(const char *data, size_t len, const char *file, char delim, weir_csv *out,
                         weir_error *err);
void weir_csv_release(weir_csv *csv);

static inline const char *weir_csv_cell(const weir_csv *csv, size_t row, size_t col)
{
    return csv->cells[row * csv->n_cols + col];
}

/*
 * The DuckDB type dbt would give column col, looking at every non-NULL
 * cell as agate does: BOOLEAN (true/false), INTEGER or BIGINT (whole
 * numbers), DOUBLE (other numbers), DATE (YYYY-MM-DD), TIMESTAMP
 * (YYYY-MM-DD HH:MM:SS[.f], 'T' allowed), else VARCHAR. A column with no
 * values is VARCHAR.
 */
const char *weir_csv_infer_type(const weir_csv *csv, size_t col);

#endif
