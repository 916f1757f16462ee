/*
 * arena.h: region allocator for memory that dies together.
 *
 * Parse trees, compiled templates and one run's scratch data are allocated
 * from an arena and freed with one weir_arena_release(). Allocations are
 * aligned for any type and zero-filled by weir_arena_calloc only.
 *
 * Debug mode: when built with -DWEIR_ARENA_DEBUG (the asan build) or run
 * with WEIR_ARENA_MALLOC=1 in the environment, every allocation is its own
 * malloc() so ASan and valgrind see overflows between objects.
 *
 * An arena is not thread-safe; give each thread its own.
 */
#ifndef WEIR_ARENA_H
#define WEIR_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct weir_arena_chunk;

typedef struct weir_arena {
    struct weir_arena_chunk *head;
    size_t chunk_size;
    size_t used_total; /* bytes handed out, for statistics */
    int debug;
} weir_arena;

#define WEIR_ARENA_INIT { NULL, 0, 0, -1 }

/* chunk_size 0 picks the default (64 KiB). */
void weir_arena_init(weir_arena *a, size_t chunk_size);
/* Frees everything allocated from a; a may be reused afterwards. */
void weir_arena_release(weir_arena *a);

void *weir_arena_alloc(weir_arena *a, size_t n);
void *weir_arena_calloc(weir_arena *a, size_t count, size_t size);
char *weir_arena_strdup(weir_arena *a, const char *s);
char *weir_arena_strndup(weir_arena *a, const char *s, size_t n);
char *weir_arena_printf(weir_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *weir_arena_memdup(weir_arena *a, const void *p, size_t n);

#endif
