/*
 * str.h: small string helpers used across modules.
 */
#ifndef WEIR_STR_H
#define WEIR_STR_H

#include <stddef.h>

int weir_str_starts_with(const char *s, const char *prefix);
int weir_str_ends_with(const char *s, const char *suffix);
/* ASCII case-insensitive equality. */
int weir_str_ieq(const char *a, const char *b);

/* Levenshtein distance (insert, delete, substitute, adjacent swap = 1). */
size_t weir_str_distance(const char *a, const char *b);
/*
 * The candidate nearest to word, or NULL when none is close enough to be a
 * plausible typo (distance at most max(1, len/3)). For "did you mean".
 */
const char *weir_str_suggest(const char *word, const char *const *candidates,
                             size_t n);

/* Parses a whole string as a base-10 integer / double; 0 or WEIR_EINVALID. */
int weir_str_to_i64(const char *s, long long *out);
int weir_str_to_double(const char *s, double *out);

#endif
