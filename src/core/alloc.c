/*
 * alloc.c: allocation wrappers that abort on out-of-memory (see alloc.h).
 */
#include "core/compat.h"

#include "core/alloc.h"

void weir_oom(void)
{
    fputs("fatal: out of memory\n", stderr);
    abort();
}

void *weir_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        weir_oom();
    return p;
}

void *weir_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        weir_oom();
    return p;
}

void *weir_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        weir_oom();
    return q;
}

char *weir_xstrdup(const char *s)
{
    return weir_xstrndup(s, strlen(s));
}

char *weir_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = weir_xmalloc(weir_size_add(len, 1));
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t weir_size_mul(size_t a, size_t b)
{
    if (b && a > SIZE_MAX / b)
        weir_oom();
    return a * b;
}

size_t weir_size_add(size_t a, size_t b)
{
    if (a > SIZE_MAX - b)
        weir_oom();
    return a + b;
}
