/*
 * alloc.h: allocation that never returns NULL.
 *
 * weir treats running out of memory as fatal (as git does): these wrappers
 * print one line and abort instead of returning NULL, so callers need no
 * NULL checks. Sizes that are computed from input go through the
 * overflow-checked helpers.
 */
#ifndef WEIR_ALLOC_H
#define WEIR_ALLOC_H

#include <stddef.h>

void *weir_xmalloc(size_t n);
void *weir_xcalloc(size_t count, size_t size);
void *weir_xrealloc(void *p, size_t n);
char *weir_xstrdup(const char *s);
char *weir_xstrndup(const char *s, size_t n);

/* a * b and a + b, aborting on overflow. */
size_t weir_size_mul(size_t a, size_t b);
size_t weir_size_add(size_t a, size_t b);

/* Aborts with "fatal: out of memory" (used by the wrappers above). */
_Noreturn void weir_oom(void);

#endif
