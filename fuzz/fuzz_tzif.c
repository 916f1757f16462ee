/*
 * fuzz_tzif.c: libFuzzer target for core/tz's TZif and POSIX TZ parsers.
 *
 * Loads the input as a TZif file; when it loads, asks for offsets, periods
 * and local->UTC conversions at a few instants and the next daily and
 * hourly fire times in that zone, which walk its periods.
 */
#include "core/compat.h"

#include "core/tz.h"
#include "orchestrate/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_tz *tz;
    if (weir_tz_load_data("fuzz", data, size, &tz, NULL))
        return 0;
    static const weir_ts instants[] = {
        INT64_C(-5000000000000000), 0, INT64_C(1711846800000000), INT64_C(4102444800000000),
        INT64_C(253402300000000000),
    };
    weir_cron daily, hourly;
    weir_cron_parse("30 2 * * *", &daily, NULL);
    weir_cron_parse("0 * * * *", &hourly, NULL);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(instants); i++) {
        weir_tz_period p;
        weir_ts u, f;
        weir_tz_period_at(tz, instants[i], &p);
        if (p.start > instants[i] || p.end <= instants[i])
            abort();
        weir_ts local = weir_tz_to_local(tz, instants[i]);
        weir_tz_from_local(tz, local, WEIR_TZ_EARLIER, &u);
        weir_tz_from_local(tz, local, WEIR_TZ_LATER, &u);
        if (weir_cron_next(&daily, tz, instants[i], &f) == 0 && f <= instants[i])
            abort();
        if (weir_cron_prev(&hourly, tz, instants[i], &f) == 0 && f > instants[i])
            abort();
        char buf[WEIR_TZ_ISO_STRLEN];
        weir_tz_format_iso(tz, instants[i], buf);
    }
    weir_tz_free(tz);
    return 0;
}
