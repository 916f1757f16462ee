/*
 * arena.c: chunked bump allocator (see arena.h).
 *
 * Chunks form a singly linked list, newest first. An allocation larger than
 * a quarter of the chunk size gets a chunk of its own, linked behind the
 * current head so the head's free space is not wasted. In debug mode every
 * allocation is such a dedicated chunk.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/arena.h"

#define ALIGN (_Alignof(max_align_t))
#define DEFAULT_CHUNK ((size_t)64 << 10)

struct weir_arena_chunk {
    struct weir_arena_chunk *next;
    size_t size, used;
    max_align_t data[];
};

static int debug_mode(void)
{
#ifdef WEIR_ARENA_DEBUG
    return 1;
#else
    const char *e = getenv("WEIR_ARENA_MALLOC");
    return e && *e && strcmp(e, "0") != 0;
#endif
}

void weir_arena_init(weir_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : DEFAULT_CHUNK;
    a->used_total = 0;
    a->debug = debug_mode();
}

void weir_arena_release(weir_arena *a)
{
    struct weir_arena_chunk *c = a->head, *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->used_total = 0;
}

static struct weir_arena_chunk *new_chunk(size_t size)
{
    struct weir_arena_chunk *c =
        weir_xmalloc(weir_size_add(sizeof(*c), size));
    c->size = size;
    c->used = 0;
    c->next = NULL;
    return c;
}

void *weir_arena_alloc(weir_arena *a, size_t n)
{
    if (a->debug < 0 || a->chunk_size == 0)
        weir_arena_init(a, 0);
    size_t rounded = weir_size_add(n, ALIGN - 1) & ~(ALIGN - 1);
    if (rounded == 0)
        rounded = ALIGN;
    a->used_total += rounded;
    struct weir_arena_chunk *c = a->head;
    if (!a->debug && c && c->size - c->used >= rounded) {
        void *p = (char *)c->data + c->used;
        c->used += rounded;
        return p;
    }
    if (a->debug || rounded > a->chunk_size / 4) {
        struct weir_arena_chunk *big = new_chunk(rounded);
        big->used = rounded;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            a->head = big;
        }
        return big->data;
    }
    c = new_chunk(a->chunk_size);
    c->next = a->head;
    a->head = c;
    c->used = rounded;
    return c->data;
}

void *weir_arena_calloc(weir_arena *a, size_t count, size_t size)
{
    size_t n = weir_size_mul(count, size);
    void *p = weir_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *weir_arena_memdup(weir_arena *a, const void *p, size_t n)
{
    void *q = weir_arena_alloc(a, n);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *weir_arena_strndup(weir_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = weir_arena_alloc(a, weir_size_add(len, 1));
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *weir_arena_strdup(weir_arena *a, const char *s)
{
    return weir_arena_strndup(a, s, strlen(s));
}

char *weir_arena_printf(weir_arena *a, const char *fmt, ...)
{
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) {
        va_end(ap);
        return weir_arena_strdup(a, "");
    }
    char *p = weir_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
