/*
 * synth.h: synthetic school-like daily series for tests, the benchmark and
 * the demo's generator.
 *
 * A classroom app's daily event count: term weekdays far above weekends,
 * terms far above school holidays (winter, spring, summer and autumn breaks,
 * timed a little differently per "country"), a mild yearly swing within
 * terms, slow growth, multiplicative log-normal noise and Poisson counting
 * noise. Deterministic from the seed (core/prng.h). The holidays are also
 * written to a calendar, by name, so a monitor can be told about them.
 */
#ifndef WEIR_MONITOR_SYNTH_H
#define WEIR_MONITOR_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/forecast.h"

typedef struct weir_synth_options {
    uint64_t seed;
    weir_date start;   /* default 2023-01-02 */
    int days;          /* default 3 * 365 */
    double base;       /* a term weekday's mean at the start; default 2000 */
    double growth;     /* yearly growth rate (log scale); default 0.2 */
    double noise;      /* relative noise sd; default 0.05 */
    double weekend;    /* weekend / weekday ratio; default 0.15 */
    double holiday;    /* holiday weekday / term weekday ratio; default 0.25 */
    bool school;       /* terms and holidays (else only weekly); default true */
    int country;       /* 0..3: shifts the holidays a little; default 0 */
} weir_synth_options;

/* Fills o with the defaults above (seed 1). */
void weir_synth_options_init(weir_synth_options *o);

/*
 * Fills out (released first) with o->days values from o->start, and adds
 * the holidays to cal when cal is not NULL and o->school is set.
 */
void weir_synth_school(const weir_synth_options *o, weir_series *out, weir_calendar *cal);

/* The expected (noise-free) value on d, as weir_synth_school draws around. */
double weir_synth_school_mean(const weir_synth_options *o, weir_date d);

#endif
