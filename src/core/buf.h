/*
 * buf.h: the growable string buffer every module uses.
 *
 * Rules (the contract, after git's strbuf):
 *  - ptr is never NULL: an empty buffer points at a shared static "".
 *    Initialise with WEIR_BUF_INIT or weir_buf_init() before use.
 *  - ptr[len] is always '\0'; len does not count it. Binary data may contain
 *    NULs before len.
 *  - limit, when non-zero, caps len: an append that would pass it appends
 *    nothing, sets toobig and returns WEIR_ETOOBIG. Buffers filled from files,
 *    networks, databases or templates set a limit.
 *  - weir_buf_detach() hands the memory to the caller (free() it) and leaves
 *    the buffer empty and reusable; weir_buf_release() frees it.
 */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct weir_buf {
    char *ptr;
    size_t len;
    size_t cap;   /* bytes allocated, 0 while ptr is the static "" */
    size_t limit; /* 0: no limit */
    int toobig;   /* set once an append was refused by limit */
} weir_buf;

extern char weir_buf__empty[];
#define WEIR_BUF_INIT { weir_buf__empty, 0, 0, 0, 0 }

void weir_buf_init(weir_buf *b, size_t hint);
void weir_buf_release(weir_buf *b);
/* Returns the contents (caller frees) and resets b. len may be NULL. */
char *weir_buf_detach(weir_buf *b, size_t *len);

/* Ensures room for extra more bytes (plus the NUL). */
void weir_buf_grow(weir_buf *b, size_t extra);
void weir_buf_reset(weir_buf *b);
/* Shortens to n bytes (n <= len). */
void weir_buf_truncate(weir_buf *b, size_t n);

/* Appends. Each returns 0, or WEIR_ETOOBIG when limit refused the data. */
int weir_buf_add(weir_buf *b, const void *data, size_t n);
int weir_buf_adds(weir_buf *b, const char *s);
int weir_buf_addch(weir_buf *b, int c);
int weir_buf_addf(weir_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int weir_buf_vaddf(weir_buf *b, const char *fmt, va_list ap);
/* Appends n copies of c. */
int weir_buf_addchars(weir_buf *b, int c, size_t n);

/* Replaces the contents with s. */
void weir_buf_sets(weir_buf *b, const char *s);
/* Removes leading and trailing ASCII whitespace. */
void weir_buf_trim(weir_buf *b);

/* Appends s with JSON string escaping (no surrounding quotes). */
int weir_buf_add_json_escaped(weir_buf *b, const char *s, size_t n);

#endif
