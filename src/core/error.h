/*
 * error.h: error values with a location and a chain of context.
 *
 * Functions that can fail return int: 0 on success, a negative WEIR_E* code
 * where callers must tell cases apart, WEIR_ERROR (-1) otherwise. The message
 * goes into a weir_error the caller passed (it may be NULL when the caller
 * does not want the text). It is set once, where the failure happened; the
 * callers on the way up add context with weir_error_wrap() instead of
 * overwriting it (libgit2's rule).
 *
 * Formatted, an error reads
 *     pipelines/x.yml:3:5: while loading pipeline 'x': unknown key 'shedule'
 * i.e. location (when known), then contexts from the outermost inwards, then
 * the message. Messages follow git's style: lowercase, no trailing period,
 * names in quotes.
 *
 * weir_diags collects many problems at once (a config file reports all of
 * its errors, not just the first).
 */
#ifndef WEIR_ERROR_H
#define WEIR_ERROR_H

#include <stdio.h>

#include "core/buf.h"
#include "core/vec.h"

enum {
    WEIR_OK = 0,
    WEIR_ERROR = -1,       /* any failure */
    WEIR_ENOTFOUND = -2,   /* a named thing does not exist */
    WEIR_EINVALID = -3,    /* bad input: syntax, type, value */
    WEIR_ETOOBIG = -4,     /* a size limit was reached */
    WEIR_EINTERRUPTED = -5,/* cancelled (query interrupt, signal) */
    WEIR_EEXISTS = -6,     /* already exists */
    WEIR_EBUSY = -7,       /* locked by someone else */
    WEIR_EVERSION = -8     /* written by a newer weir than this one */
};

typedef struct weir_error {
    int code;            /* 0 while unset */
    char *file;          /* NULL when the error has no location */
    unsigned line, col;  /* 1-based; 0 when unknown */
    weir_buf msg;
    weir_strvec context; /* innermost first, as added by weir_error_wrap */
} weir_error;

#define WEIR_ERROR_INIT { 0, NULL, 0, 0, WEIR_BUF_INIT, WEIR_VEC_INIT }

void weir_error_init(weir_error *e);
/* Frees what e holds and makes it unset again. */
void weir_error_release(weir_error *e);
/* Same as release; reads better where an error is handled and dropped. */
void weir_error_clear(weir_error *e);

/*
 * Sets the error (replacing any earlier one) and returns code, so that
 *     return weir_error_set(err, WEIR_EINVALID, "bad '%s'", x);
 * works. e may be NULL.
 */
int weir_error_set(weir_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int weir_error_vset(weir_error *e, int code, const char *fmt, va_list ap);
/* As weir_error_set, with a location in a user's file. */
int weir_error_set_at(weir_error *e, int code, const char *file, unsigned line,
                      unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Sets the message to "<what>: strerror(errnum)". */
int weir_error_set_errno(weir_error *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Adds a context line ("while loading 'x.yml'") around the error and returns
 * its code (WEIR_ERROR if it was unset). e may be NULL.
 */
int weir_error_wrap(weir_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Moves src into dst (dst is released first); src is left unset. */
void weir_error_move(weir_error *dst, weir_error *src);

/* Appends the formatted error (no newline) to out. */
void weir_error_format(const weir_error *e, weir_buf *out);
/* Formats into a static per-thread buffer; valid until the next call. */
const char *weir_error_str(const weir_error *e);

/* --- many problems at once ------------------------------------------- */

typedef enum { WEIR_DIAG_ERROR, WEIR_DIAG_WARNING, WEIR_DIAG_NOTE } weir_diag_level;

typedef struct weir_diag {
    weir_diag_level level;
    char *file;       /* may be NULL */
    unsigned line, col;
    char *msg;
} weir_diag;

typedef struct weir_diags {
    WEIR_VEC(weir_diag) list;
    size_t errors, warnings;
} weir_diags;

#define WEIR_DIAGS_INIT { WEIR_VEC_INIT, 0, 0 }

void weir_diags_init(weir_diags *d);
void weir_diags_release(weir_diags *d);
void weir_diags_add(weir_diags *d, weir_diag_level level, const char *file,
                    unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Adds a weir_error (its location and formatted text) as one diagnostic. */
void weir_diags_add_error(weir_diags *d, const weir_error *e);
/* Sorts by file, line, column (stable for equal places). */
void weir_diags_sort(weir_diags *d);
/* Prints each as "file:line:col: error: msg" (parts omitted when unknown). */
void weir_diags_print(const weir_diags *d, FILE *out);
/* Formats one diagnostic, without a newline. */
void weir_diag_format(const weir_diag *dg, weir_buf *out);

#endif
