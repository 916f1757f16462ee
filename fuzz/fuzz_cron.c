/*
 * fuzz_cron.c: libFuzzer target for orchestrate/cron.
 *
 * Parses the input as a cron expression; when it parses, computes next and
 * previous fire times at a few instants in UTC and in Europe/Paris (when
 * tzdata is installed) and checks what must always hold: next is after the
 * instant, prev at or before it, nothing fires in between, and a fire time
 * in UTC matches the expression. Parse errors must carry a column inside
 * the expression (or one past its end).
 */
#include "core/compat.h"

#include "core/tz.h"
#include "orchestrate/cron.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_cron: %s\n", what);
        abort();
    }
}

static void probe(const weir_cron *c, const weir_tz *tz, weir_ts t, int is_utc)
{
    weir_ts n, p, back;
    if (weir_cron_next(c, tz, t, &n) == 0) {
        check(n > t, "next is not after t");
        check(weir_cron_prev(c, tz, n, &back) == 0 && back == n, "prev(next(t)) != next(t)");
        if (is_utc)
            check(weir_cron_matches(c, n), "next does not match in UTC");
    }
    if (weir_cron_prev(c, tz, t, &p) == 0) {
        check(p <= t, "prev is after t");
        check(weir_cron_next(c, tz, p, &back) == 0 && back > t, "a fire between prev(t) and t");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static weir_tz *paris;
    static int loaded;
    if (!loaded) {
        loaded = 1;
        if (weir_tz_load("Europe/Paris", &paris, NULL))
            paris = NULL;
    }
    if (size > 4096)
        return 0;
    char *expr = malloc(size + 1);
    memcpy(expr, data, size);
    expr[size] = '\0';
    weir_cron c;
    weir_error err = WEIR_ERROR_INIT;
    if (weir_cron_parse(expr, &c, &err) == 0) {
        static const char *const instants[] = {
            "2024-03-31T00:45:00Z", "2024-10-27T00:59:59Z", "2025-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z", "2099-12-31T23:59:00Z",
        };
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(instants); i++) {
            weir_ts t;
            weir_ts_parse(instants[i], &t);
            probe(&c, weir_tz_utc(), t, 1);
            if (paris)
                probe(&c, paris, t, 0);
        }
    } else {
        check(err.code == WEIR_EINVALID, "parse error is not WEIR_EINVALID");
        check(err.col >= 1 && err.col <= strlen(expr) + 1, "error column outside the expression");
    }
    weir_error_release(&err);
    free(expr);
    return 0;
}
