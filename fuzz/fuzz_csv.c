/*
 * fuzz_csv.c: libFuzzer target for the seed CSV reader (src/transform/csv.c).
 *
 * Each input is parsed as a seed file; on success every cell is read and
 * every column's type inferred, and a cell count is checked against the
 * header. On failure the message must be set. Any crash, leak or sanitizer
 * report is a bug.
 *
 *   make fuzz FUZZ_SECONDS=120
 */
#include "core/compat.h"

#include "transform/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_csv csv = WEIR_CSV_INIT;
    weir_error err = WEIR_ERROR_INIT;
    if (weir_csv_parse((const char *)data, size, "fuzz.csv", &csv, &err) == 0) {
        size_t total = 0;
        for (size_t r = 0; r < csv.n_rows; r++)
            for (size_t c = 0; c < csv.n_cols; c++) {
                const char *cell = weir_csv_cell(&csv, r, c);
                total += cell ? strlen(cell) : 0;
            }
        for (size_t c = 0; c < csv.n_cols; c++)
            if (!weir_csv_infer_type(&csv, c))
                abort();
        if (total > size)
            abort(); /* cells are never longer than the input */
        weir_csv_release(&csv);
    } else if (!err.msg.len) {
        abort();
    }
    weir_error_release(&err);
    return 0;
}
