/*
 * str.c: string helpers (see str.h).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/str.h"

int weir_str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int weir_str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int weir_str_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

size_t weir_str_distance(const char *a, const char *b)
{
    /* Optimal string alignment distance over three rolling rows. */
    size_t n = strlen(a), m = strlen(b);
    size_t *prev2 = weir_xcalloc(m + 1, sizeof(size_t));
    size_t *prev = weir_xcalloc(m + 1, sizeof(size_t));
    size_t *cur = weir_xcalloc(m + 1, sizeof(size_t));
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    size_t d = prev[m];
    free(prev2);
    free(prev);
    free(cur);
    return d;
}

const char *weir_str_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    size_t best_d = SIZE_MAX;
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = weir_str_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

int weir_str_to_i64(const char *s, long long *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return WEIR_EINVALID;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return WEIR_EINVALID;
    *out = v;
    return 0;
}

int weir_str_to_double(const char *s, double *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return WEIR_EINVALID;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || *end)
        return WEIR_EINVALID;
    *out = v;
    return 0;
}
