/*
 * map.c: string-keyed hash map with open addressing (see map.h).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/map.h"

static char tombstone;
#define TOMB (&tombstone)

uint64_t weir_hash64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

size_t weir_hash_str(const char *s, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return (size_t)h;
}

void weir_map_init(weir_map *m)
{
    m->slots = NULL;
    m->cap = m->len = m->used = 0;
}

void weir_map_release(weir_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMB)
            free(m->slots[i].key);
    free(m->slots);
    weir_map_init(m);
}

/* Index of key's slot, or of the slot to insert it in (first tombstone seen). */
static size_t probe(const weir_map *m, const char *key, size_t hash, int *found)
{
    size_t mask = m->cap - 1, i = hash & mask, insert = SIZE_MAX;
    for (;;) {
        weir_map_entry *e = &m->slots[i];
        if (!e->key) {
            *found = 0;
            return insert != SIZE_MAX ? insert : i;
        }
        if (e->key == TOMB) {
            if (insert == SIZE_MAX)
                insert = i;
        } else if (e->hash == hash && strcmp(e->key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static void resize(weir_map *m, size_t ncap)
{
    weir_map_entry *old = m->slots;
    size_t ocap = m->cap;
    m->slots = weir_xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    m->used = m->len;
    for (size_t i = 0; i < ocap; i++) {
        weir_map_entry *e = &old[i];
        if (!e->key || e->key == TOMB)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (ncap - 1);
        m->slots[j] = *e;
    }
    free(old);
}

int weir_map_find(const weir_map *m, const char *key, void **out)
{
    if (!m->cap)
        return 0;
    int found;
    size_t i = probe(m, key, weir_hash_str(key, strlen(key)), &found);
    if (found && out)
        *out = m->slots[i].value;
    return found;
}

void *weir_map_get(const weir_map *m, const char *key)
{
    void *v = NULL;
    weir_map_find(m, key, &v);
    return v;
}

int weir_map_has(const weir_map *m, const char *key)
{
    return weir_map_find(m, key, NULL);
}

void *weir_map_put(weir_map *m, const char *key, void *value)
{
    if ((m->used + 1) * 4 > m->cap * 3)
        resize(m, m->cap ? (m->len * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t hash = weir_hash_str(key, strlen(key));
    int found;
    size_t i = probe(m, key, hash, &found);
    weir_map_entry *e = &m->slots[i];
    if (found) {
        void *old = e->value;
        e->value = value;
        return old;
    }
    if (!e->key)
        m->used++;
    e->key = weir_xstrdup(key);
    e->hash = hash;
    e->value = value;
    m->len++;
    return NULL;
}

void *weir_map_del(weir_map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    int found;
    size_t i = probe(m, key, weir_hash_str(key, strlen(key)), &found);
    if (!found)
        return NULL;
    weir_map_entry *e = &m->slots[i];
    void *old = e->value;
    free(e->key);
    e->key = TOMB;
    e->value = NULL;
    m->len--;
    return old;
}

int weir_map_next(const weir_map *m, size_t *it, const char **key, void **value)
{
    while (*it < m->cap) {
        weir_map_entry *e = &m->slots[(*it)++];
        if (e->key && e->key != TOMB) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            return 1;
        }
    }
    return 0;
}
