/*
 * prng.h: a small deterministic pseudo-random generator for tests, benchmarks
 * and the demo's data generator.
 *
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any
 * 64-bit seed, including 0, gives a well-mixed state. The same seed gives the
 * same sequence on every platform. Not for anything secret.
 *
 *   weir_prng r;
 *   weir_prng_seed(&r, 42);
 *   double u = weir_prng_uniform(&r);     // [0, 1)
 *   double g = weir_prng_gaussian(&r);    // N(0, 1)
 *
 * Header-only: every function is static inline.
 */
#ifndef WEIR_PRNG_H
#define WEIR_PRNG_H

#include <math.h>
#include <stdint.h>

typedef struct weir_prng {
    uint64_t s[4];
} weir_prng;

/* One step of splitmix64: advances *x and returns a mixed value. */
static inline uint64_t weir_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline void weir_prng_seed(weir_prng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = weir_splitmix64(&seed);
}

static inline uint64_t weir_prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t weir_prng_next(weir_prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = weir_prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = weir_prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1), 53 bits. */
static inline double weir_prng_uniform(weir_prng *r)
{
    return (double)(weir_prng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) (n > 0); the bias is below 2^-32 for n < 2^32. */
static inline uint64_t weir_prng_below(weir_prng *r, uint64_t n)
{
    return (uint64_t)(weir_prng_uniform(r) * (double)n);
}

/* Standard normal, by Box-Muller (one value per call; simple over fast). */
static inline double weir_prng_gaussian(weir_prng *r)
{
    double u1 = weir_prng_uniform(r), u2 = weir_prng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Poisson with mean lambda: exact for small means, normal approximation above 50. */
static inline double weir_prng_poisson(weir_prng *r, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda > 50) {
        double x = floor(lambda + sqrt(lambda) * weir_prng_gaussian(r) + 0.5);
        return x < 0 ? 0 : x;
    }
    double limit = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= weir_prng_uniform(r);
    } while (p > limit);
    return (double)(k - 1);
}

#endif
