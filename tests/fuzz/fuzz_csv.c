/* libFuzzer target: the CSV reader on arbitrary bytes. */
#include "csv.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Small limits so that the fuzzer reaches the limit paths too. */
    static const struct dk_csv_limits limits = {
        .max_bytes = 4096, .max_field = 64, .max_fields = 16};
    struct dk_csv_record rec;
    struct dk_csv *csv = NULL;
    struct dk_error err;
    long last_line = 0;
    int rc;

    if (csv_open_memory((const char *)data, size, "fuzz", &limits, &csv, &err) != 0)
        return 0;
    while ((rc = csv_next(csv, &rec, &err)) == 1) {
        /* Records come in file order and keep the limits. */
        if (rec.line <= last_line || rec.n_fields == 0 || rec.n_fields > limits.max_fields)
            abort();
        last_line = rec.line;
    }
    if (rc != 0 && rc != DK_EINPUT)
        abort();
    csv_close(csv);
    return 0;
}
