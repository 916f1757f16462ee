/*
 * output.h: tables of results printed for people or for scripts.
 *
 * A weir_grid holds column names and rows of cells as text, each column
 * with a kind that decides alignment and JSON typing. Commands fill a grid
 * (from a query result, a list of runs, ...) and print it as:
 *   - an aligned table for a terminal, numbers right-aligned, NULL shown as
 *     "NULL", and a "(N rows)" footer;
 *   - CSV (RFC 4180: a header row, fields quoted when they hold a comma,
 *     quote or line break; NULL is an empty field);
 *   - JSON: an array of objects, numbers as numbers, NULL as null.
 */
#ifndef WEIR_CLI_OUTPUT_H
#define WEIR_CLI_OUTPUT_H

#include <stdio.h>

#include "core/buf.h"
#include "core/vec.h"

typedef enum {
    WEIR_COL_TEXT,   /* strings, dates, anything else: JSON strings */
    WEIR_COL_NUMBER, /* integers, decimals, floats: JSON numbers */
    WEIR_COL_BOOL    /* "true"/"false" */
} weir_col_kind;

typedef struct weir_grid {
    WEIR_VEC(char *) names;
    WEIR_VEC(weir_col_kind) kinds;
    WEIR_VEC(char *) cells; /* row-major; NULL is SQL NULL */
    size_t nrows;
} weir_grid;

#define WEIR_GRID_INIT { WEIR_VEC_INIT, WEIR_VEC_INIT, WEIR_VEC_INIT, 0 }

void weir_grid_release(weir_grid *g);
void weir_grid_add_column(weir_grid *g, const char *name, weir_col_kind kind);
/* Appends a cell to the current row (text copied; NULL for SQL NULL). Rows
 * are complete after ncols cells; weir_grid_end_row() checks and counts. */
void weir_grid_add_cell(weir_grid *g, const char *text);
void weir_grid_end_row(weir_grid *g);

typedef enum { WEIR_GRID_TABLE, WEIR_GRID_CSV, WEIR_GRID_JSON } weir_grid_style;

/* Parses "table", "csv", "json"; returns -1 for anything else. */
int weir_grid_parse_format(const char *s, weir_grid_style *out);
void weir_grid_format(const weir_grid *g, weir_grid_style fmt, weir_buf *out);
void weir_grid_print(const weir_grid *g, weir_grid_style fmt, FILE *f);

#endif
