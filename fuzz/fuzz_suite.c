/*
 * fuzz_suite.c: libFuzzer target for the expectation suite loader.
 *
 * Each input is parsed as a YAML suite and as a JSON suite (the first byte
 * picks which name the other pass uses, so both loaders see every input),
 * which runs the YAML-to-JSON conversion, the kwarg checks of every
 * expectation type and the location lookup of each problem. The
 * diagnostics are formatted too. Any crash, leak or sanitizer report is a
 * bug.
 *
 *   make fuzz FUZZ_SECONDS=120
 */
#include "core/compat.h"

#include "quality/quality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *name, const uint8_t *data, size_t size)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_suite *s = NULL;
    weir_buf b = WEIR_BUF_INIT;
    weir_suite_parse(name, (const char *)data, size, &s, &d);
    for (size_t i = 0; i < d.list.len; i++)
        weir_diag_format(&d.list.items[i], &b);
    if (s) {
        for (size_t i = 0; i < s->n_items; i++)
            if (s->items[i].row_condition)
                weir_buf_adds(&b, s->items[i].row_condition);
    }
    weir_suite_free(s);
    weir_diags_release(&d);
    weir_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one("suite.yml", data, size);
    one("suite.json", data, size);
    return 0;
}
