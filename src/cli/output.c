/*
 * output.c: printing a weir_grid as a table, CSV or JSON (see output.h).
 */
#include "core/compat.h"

#include "cli/output.h"
#include "core/alloc.h"

void weir_grid_release(weir_grid *g)
{
    for (size_t i = 0; i < g->names.len; i++)
        free(g->names.items[i]);
    for (size_t i = 0; i < g->cells.len; i++)
        free(g->cells.items[i]);
    weir_vec_release(&g->names);
    weir_vec_release(&g->kinds);
    weir_vec_release(&g->cells);
    g->nrows = 0;
}

void weir_grid_add_column(weir_grid *g, const char *name, weir_col_kind kind)
{
    weir_vec_push(&g->names, weir_xstrdup(name));
    weir_vec_push(&g->kinds, kind);
}

void weir_grid_add_cell(weir_grid *g, const char *text)
{
    weir_vec_push(&g->cells, text ? weir_xstrdup(text) : NULL);
}

void weir_grid_end_row(weir_grid *g)
{
    g->nrows++;
    assert(g->cells.len == g->nrows * g->names.len);
}

int weir_grid_parse_format(const char *s, weir_grid_style *out)
{
    if (strcmp(s, "table") == 0 || strcmp(s, "text") == 0)
        *out = WEIR_GRID_TABLE;
    else if (strcmp(s, "csv") == 0)
        *out = WEIR_GRID_CSV;
    else if (strcmp(s, "json") == 0)
        *out = WEIR_GRID_JSON;
    else
        return -1;
    return 0;
}

/* Display width of UTF-8 text: code points, which is right for the scripts
 * a data team's tables hold (no attempt at East Asian wide characters). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Text as shown in the table: line breaks and tabs would break alignment. */
static void cell_text(const char *s, weir_buf *out)
{
    weir_buf_reset(out);
    if (!s) {
        weir_buf_adds(out, "NULL");
        return;
    }
    for (; *s; s++) {
        if (*s == '\n')
            weir_buf_adds(out, "\\n");
        else if (*s == '\t')
            weir_buf_adds(out, "\\t");
        else if (*s == '\r')
            weir_buf_adds(out, "\\r");
        else
            weir_buf_addch(out, *s);
    }
}

static void format_table(const weir_grid *g, weir_buf *out)
{
    size_t nc = g->names.len;
    size_t *w = weir_xcalloc(nc ? nc : 1, sizeof(size_t));
    weir_buf t = WEIR_BUF_INIT;
    for (size_t c = 0; c < nc; c++)
        w[c] = width(g->names.items[c]);
    for (size_t r = 0; r < g->nrows; r++)
        for (size_t c = 0; c < nc; c++) {
            cell_text(g->cells.items[r * nc + c], &t);
            size_t cw = width(t.ptr);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t c = 0; c < nc; c++) {
        size_t pad = w[c] - width(g->names.items[c]);
        weir_buf_adds(out, c ? " | " : " ");
        weir_buf_adds(out, g->names.items[c]);
        if (c + 1 < nc)
            weir_buf_addchars(out, ' ', pad);
    }
    weir_buf_addch(out, '\n');
    for (size_t c = 0; c < nc; c++) {
        weir_buf_addchars(out, '-', w[c] + 2);
        if (c + 1 < nc)
            weir_buf_addch(out, '+');
    }
    weir_buf_addch(out, '\n');
    for (size_t r = 0; r < g->nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            cell_text(g->cells.items[r * nc + c], &t);
            size_t pad = w[c] - width(t.ptr);
            weir_buf_adds(out, c ? " | " : " ");
            if (g->kinds.items[c] == WEIR_COL_NUMBER) {
                weir_buf_addchars(out, ' ', pad);
                weir_buf_adds(out, t.ptr);
            } else {
                weir_buf_adds(out, t.ptr);
                if (c + 1 < nc)
                    weir_buf_addchars(out, ' ', pad);
            }
        }
        weir_buf_addch(out, '\n');
    }
    weir_buf_addf(out, "(%zu row%s)\n", g->nrows, g->nrows == 1 ? "" : "s");
    weir_buf_release(&t);
    free(w);
}

static void csv_field(const char *s, weir_buf *out)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        weir_buf_adds(out, s);
        return;
    }
    weir_buf_addch(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            weir_buf_addch(out, '"');
        weir_buf_addch(out, *s);
    }
    weir_buf_addch(out, '"');
}

static void format_csv(const weir_grid *g, weir_buf *out)
{
    size_t nc = g->names.len;
    for (size_t c = 0; c < nc; c++) {
        if (c)
            weir_buf_addch(out, ',');
        csv_field(g->names.items[c], out);
    }
    weir_buf_addch(out, '\n');
    for (size_t r = 0; r < g->nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            if (c)
                weir_buf_addch(out, ',');
            csv_field(g->cells.items[r * nc + c], out);
        }
        weir_buf_addch(out, '\n');
    }
}

/* A number as DuckDB prints it is valid JSON except for inf/nan. */
static int json_number_ok(const char *s)
{
    char *end;
    if (!*s)
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    return *end == '\0' && isfinite(v) && !isalpha((unsigned char)s[0]) &&
           !(s[0] == '-' && isalpha((unsigned char)s[1]));
}

static void json_string_out(const char *s, weir_buf *out)
{
    weir_buf_addch(out, '"');
    weir_buf_add_json_escaped(out, s, strlen(s));
    weir_buf_addch(out, '"');
}

static void format_json(const weir_grid *g, weir_buf *out)
{
    size_t nc = g->names.len;
    weir_buf_addch(out, '[');
    for (size_t r = 0; r < g->nrows; r++) {
        weir_buf_adds(out, r ? ",\n  {" : "\n  {");
        for (size_t c = 0; c < nc; c++) {
            const char *v = g->cells.items[r * nc + c];
            if (c)
                weir_buf_adds(out, ", ");
            json_string_out(g->names.items[c], out);
            weir_buf_adds(out, ": ");
            if (!v)
                weir_buf_adds(out, "null");
            else if (g->kinds.items[c] == WEIR_COL_NUMBER && json_number_ok(v))
                weir_buf_adds(out, v);
            else if (g->kinds.items[c] == WEIR_COL_NUMBER)
                weir_buf_adds(out, "null"); /* inf and nan have no JSON form */
            else if (g->kinds.items[c] == WEIR_COL_BOOL &&
                     (strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
                weir_buf_adds(out, v);
            else
                json_string_out(v, out);
        }
        weir_buf_addch(out, '}');
    }
    weir_buf_adds(out, g->nrows ? "\n]\n" : "]\n");
}

void weir_grid_format(const weir_grid *g, weir_grid_style fmt, weir_buf *out)
{
    switch (fmt) {
    case WEIR_GRID_TABLE: format_table(g, out); break;
    case WEIR_GRID_CSV: format_csv(g, out); break;
    case WEIR_GRID_JSON: format_json(g, out); break;
    }
}

void weir_grid_print(const weir_grid *g, weir_grid_style fmt, FILE *f)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_grid_format(g, fmt, &b);
    fwrite(b.ptr, 1, b.len, f);
    weir_buf_release(&b);
}
