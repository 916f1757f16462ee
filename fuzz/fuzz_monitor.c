/*
 * fuzz_monitor.c: libFuzzer target for the monitors/ file loader.
 *
 * Each input is read as a monitors/ file: schema checks, calendar
 * dates and ranges, monitor entries, references to calendars, and every
 * diagnostic formatted; the calendars of each monitor are then built as a
 * check would. Any crash, leak or sanitizer report is a bug.
 *
 *   make fuzz FUZZ_SECONDS=120
 */
#include "core/compat.h"

#include "monitor/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf b = WEIR_BUF_INIT;
    weir_monitor_config_load_buf(&cfg, "monitors/fuzz.yml", (const char *)data, size, &d);
    for (size_t i = 0; i < d.list.len; i++)
        weir_diag_format(&d.list.items[i], &b);
    for (size_t i = 0; i < cfg.monitors.len; i++) {
        weir_calendar cal = WEIR_CALENDAR_INIT;
        weir_error err = WEIR_ERROR_INIT;
        weir_monitor_config_calendar(&cfg, &cfg.monitors.items[i], &cal, &err);
        weir_calendar_release(&cal);
        weir_error_release(&err);
    }
    weir_monitor_config_release(&cfg);
    weir_diags_release(&d);
    weir_buf_release(&b);
    return 0;
}
