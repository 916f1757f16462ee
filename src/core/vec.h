/*
 * vec.h: typed growable arrays.
 *
 *   WEIR_VEC(int) v = WEIR_VEC_INIT;
 *   weir_vec_push(&v, 42);
 *   for (size_t i = 0; i < v.len; i++) use(v.items[i]);
 *   weir_vec_release(&v);
 *
 * The vector owns its items array, not what the items point to.
 */
#ifndef WEIR_VEC_H
#define WEIR_VEC_H

#include <stddef.h>
#include <stdlib.h>

#define WEIR_VEC(T) struct { T *items; size_t len, cap; }
#define WEIR_VEC_INIT { NULL, 0, 0 }

/* Grows *items so that it holds at least need elements of elsize bytes. */
void weir_vec__grow(void **items, size_t *cap, size_t elsize, size_t need);

#define weir_vec_reserve(v, n) \
    weir_vec__grow((void **)&(v)->items, &(v)->cap, sizeof(*(v)->items), (n))
#define weir_vec_push(v, x) \
    (weir_vec_reserve((v), (v)->len + 1), (v)->items[(v)->len++] = (x))
#define weir_vec_pop(v) ((v)->items[--(v)->len])
#define weir_vec_last(v) ((v)->items[(v)->len - 1])
#define weir_vec_release(v) \
    (free((v)->items), (v)->items = NULL, (v)->len = (v)->cap = 0)

/* Common instances. */
typedef WEIR_VEC(char *) weir_strvec;
/* Frees every string then the vector. */
void weir_strvec_release(weir_strvec *v);
/* Pushes a copy of s. */
void weir_strvec_push(weir_strvec *v, const char *s);

#endif
