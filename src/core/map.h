/*
 * map.h: hash map from NUL-terminated string keys to void * values.
 *
 * Open addressing with linear probing, grown at 3/4 load. The map copies
 * keys (it owns its copies) and stores values as given: it never frees a
 * value. Iteration order is unspecified; it is stable while the map is not
 * modified. Not thread-safe.
 */
#ifndef WEIR_MAP_H
#define WEIR_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_map_entry {
    char *key;   /* NULL: empty slot; WEIR_MAP_TOMBSTONE: deleted */
    void *value;
    size_t hash;
} weir_map_entry;

typedef struct weir_map {
    weir_map_entry *slots;
    size_t cap;   /* power of two, or 0 */
    size_t len;   /* live entries */
    size_t used;  /* live + tombstones */
} weir_map;

#define WEIR_MAP_INIT { NULL, 0, 0, 0 }

void weir_map_init(weir_map *m);
/* Frees the keys and the table, not the values. */
void weir_map_release(weir_map *m);

/* Returns the value for key, or NULL when absent. */
void *weir_map_get(const weir_map *m, const char *key);
/* Returns 1 and stores the value in *out when present, else 0. */
int weir_map_find(const weir_map *m, const char *key, void **out);
int weir_map_has(const weir_map *m, const char *key);
/* Inserts or replaces; returns the previous value (or NULL). */
void *weir_map_put(weir_map *m, const char *key, void *value);
/* Removes key; returns its value (or NULL). */
void *weir_map_del(weir_map *m, const char *key);

/*
 * Iteration: size_t it = 0; const char *k; void *v;
 *   while (weir_map_next(m, &it, &k, &v)) ...
 */
int weir_map_next(const weir_map *m, size_t *it, const char **key, void **value);

/* The hash used (FNV-1a, 64-bit), exposed for other tables. */
/* 64-bit FNV-1a: folds n bytes into h (start from WEIR_HASH64_INIT). */
#define WEIR_HASH64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t weir_hash64(uint64_t h, const void *data, size_t n);
size_t weir_hash_str(const char *s, size_t n);

#endif
