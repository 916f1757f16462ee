/*
 * error.c: error values and diagnostic lists (see error.h).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/error.h"

void weir_error_init(weir_error *e)
{
    e->code = 0;
    e->file = NULL;
    e->line = e->col = 0;
    weir_buf_init(&e->msg, 0);
    e->context.items = NULL;
    e->context.len = e->context.cap = 0;
}

void weir_error_release(weir_error *e)
{
    if (!e)
        return;
    free(e->file);
    weir_buf_release(&e->msg);
    weir_strvec_release(&e->context);
    weir_error_init(e);
}

void weir_error_clear(weir_error *e)
{
    weir_error_release(e);
}

int weir_error_vset(weir_error *e, int code, const char *fmt, va_list ap)
{
    if (code == 0)
        code = WEIR_ERROR;
    if (!e)
        return code;
    weir_error_release(e);
    e->code = code;
    weir_buf_vaddf(&e->msg, fmt, ap);
    return code;
}

int weir_error_set(weir_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = weir_error_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

int weir_error_set_at(weir_error *e, int code, const char *file, unsigned line,
                      unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = weir_error_vset(e, code, fmt, ap);
    va_end(ap);
    if (e) {
        e->file = file ? weir_xstrdup(file) : NULL;
        e->line = line;
        e->col = col;
    }
    return code;
}

int weir_error_set_errno(weir_error *e, int errnum, const char *fmt, ...)
{
    int code = errnum == ENOENT ? WEIR_ENOTFOUND : errnum == EEXIST ? WEIR_EEXISTS : WEIR_ERROR;
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    weir_error_vset(e, code, fmt, ap);
    va_end(ap);
    char msg[256];
    /* XSI strerror_r, as _XOPEN_SOURCE selects */
    if (strerror_r(errnum, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", errnum);
    /* lower-case the first letter: "No such file" -> "no such file" */
    msg[0] = (char)tolower((unsigned char)msg[0]);
    weir_buf_addf(&e->msg, ": %s", msg);
    return code;
}

int weir_error_wrap(weir_error *e, const char *fmt, ...)
{
    if (!e)
        return WEIR_ERROR;
    if (!e->code)
        e->code = WEIR_ERROR;
    weir_buf ctx = WEIR_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    weir_buf_vaddf(&ctx, fmt, ap);
    va_end(ap);
    weir_vec_push(&e->context, weir_buf_detach(&ctx, NULL));
    return e->code;
}

void weir_error_move(weir_error *dst, weir_error *src)
{
    weir_error_release(dst);
    *dst = *src;
    weir_error_init(src);
}

void weir_error_format(const weir_error *e, weir_buf *out)
{
    if (!e || !e->code) {
        weir_buf_adds(out, "no error");
        return;
    }
    if (e->file) {
        weir_buf_adds(out, e->file);
        if (e->line) {
            weir_buf_addf(out, ":%u", e->line);
            if (e->col)
                weir_buf_addf(out, ":%u", e->col);
        }
        weir_buf_adds(out, ": ");
    }
    for (size_t i = e->context.len; i > 0; i--)
        weir_buf_addf(out, "%s: ", e->context.items[i - 1]);
    weir_buf_add(out, e->msg.ptr, e->msg.len);
}

const char *weir_error_str(const weir_error *e)
{
    static _Thread_local char text[4096];
    weir_buf b = WEIR_BUF_INIT;
    weir_error_format(e, &b);
    snprintf(text, sizeof(text), "%s", b.ptr);
    weir_buf_release(&b);
    return text;
}

/* --- diagnostics ------------------------------------------------------ */

void weir_diags_init(weir_diags *d)
{
    d->list.items = NULL;
    d->list.len = d->list.cap = 0;
    d->errors = d->warnings = 0;
}

void weir_diags_release(weir_diags *d)
{
    for (size_t i = 0; i < d->list.len; i++) {
        free(d->list.items[i].file);
        free(d->list.items[i].msg);
    }
    weir_vec_release(&d->list);
    d->errors = d->warnings = 0;
}

static void count(weir_diags *d, weir_diag_level level)
{
    if (level == WEIR_DIAG_ERROR)
        d->errors++;
    else if (level == WEIR_DIAG_WARNING)
        d->warnings++;
}

void weir_diags_add(weir_diags *d, weir_diag_level level, const char *file,
                    unsigned line, unsigned col, const char *fmt, ...)
{
    weir_buf msg = WEIR_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    weir_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    weir_diag dg = { level, file ? weir_xstrdup(file) : NULL, line, col,
                     weir_buf_detach(&msg, NULL) };
    weir_vec_push(&d->list, dg);
    count(d, level);
}

void weir_diags_add_error(weir_diags *d, const weir_error *e)
{
    weir_buf msg = WEIR_BUF_INIT;
    for (size_t i = e->context.len; i > 0; i--)
        weir_buf_addf(&msg, "%s: ", e->context.items[i - 1]);
    weir_buf_add(&msg, e->msg.ptr, e->msg.len);
    weir_diag dg = { WEIR_DIAG_ERROR, e->file ? weir_xstrdup(e->file) : NULL,
                     e->line, e->col, weir_buf_detach(&msg, NULL) };
    weir_vec_push(&d->list, dg);
    count(d, WEIR_DIAG_ERROR);
}

void weir_diags_sort(weir_diags *d)
{
    /* Insertion sort: stable, so problems at one place keep the order they
     * were found in; a file's list of problems is short. */
    for (size_t i = 1; i < d->list.len; i++) {
        weir_diag x = d->list.items[i];
        size_t j = i;
        while (j > 0) {
            weir_diag *p = &d->list.items[j - 1];
            int c = strcmp(p->file ? p->file : "", x.file ? x.file : "");
            if (c < 0 || (c == 0 && (p->line < x.line ||
                                     (p->line == x.line && p->col <= x.col))))
                break;
            d->list.items[j] = *p;
            j--;
        }
        d->list.items[j] = x;
    }
}

static const char *level_name(weir_diag_level l)
{
    switch (l) {
    case WEIR_DIAG_ERROR: return "error";
    case WEIR_DIAG_WARNING: return "warning";
    default: return "note";
    }
}

void weir_diag_format(const weir_diag *dg, weir_buf *out)
{
    if (dg->file) {
        weir_buf_adds(out, dg->file);
        if (dg->line) {
            weir_buf_addf(out, ":%u", dg->line);
            if (dg->col)
                weir_buf_addf(out, ":%u", dg->col);
        }
        weir_buf_adds(out, ": ");
    }
    weir_buf_addf(out, "%s: %s", level_name(dg->level), dg->msg);
}

void weir_diags_print(const weir_diags *d, FILE *out)
{
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < d->list.len; i++) {
        weir_buf_reset(&b);
        weir_diag_format(&d->list.items[i], &b);
        fprintf(out, "%s\n", b.ptr);
    }
    weir_buf_release(&b);
}
