/*
 * vec.c: growth for the typed vectors of vec.h.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/vec.h"

void weir_vec__grow(void **items, size_t *cap, size_t elsize, size_t need)
{
    if (need <= *cap)
        return;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap = weir_size_mul(ncap, 2);
    *items = weir_xrealloc(*items, weir_size_mul(ncap, elsize));
    *cap = ncap;
}

void weir_strvec_push(weir_strvec *v, const char *s)
{
    weir_vec_push(v, weir_xstrdup(s));
}

void weir_strvec_release(weir_strvec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    weir_vec_release(v);
}
