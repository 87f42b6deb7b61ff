/* libFuzzer target: the HID-POS report parser and the report descriptor
 * check must take any bytes without reading or writing out of bounds, and
 * keep their promises about what they return.
 *
 * The input is a run of reports, each a length byte and then that many
 * bytes (fewer at the end of the input); every report is copied into a
 * buffer of exactly its size so that AddressSanitizer sees any read past
 * it.  The whole input is also read as a report descriptor. */
#include "hidpos.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_scan(const struct dk_hidpos_scan *scan)
{
    size_t sym = strlen(scan->symbology);

    if (scan->len == 0 || scan->len > DK_HIDPOS_SCAN_MAX || scan->text[scan->len] != '\0')
        abort();
    if (scan->reports == 0 || sym > DK_HIDPOS_SYMBOLOGY_MAX)
        abort();
    for (size_t i = 0; i < sym; i++) {
        if (scan->symbology[i] < 0x21 || scan->symbology[i] > 0x7e)
            abort();
    }
}

static void feed_one(struct dk_hidpos_assembler *a, const uint8_t *bytes, size_t n)
{
    struct dk_hidpos_scan scan;
    struct dk_error err;
    uint8_t *report = malloc(n > 0 ? n : 1);
    int rc;

    if (report == NULL)
        abort();
    memcpy(report, bytes, n);
    rc = hidpos_feed(a, report, n, &scan, &err);
    free(report);
    if (rc == 1)
        check_scan(&scan);
    else if (rc != 0 && rc != DK_EINPUT && rc != -EMSGSIZE)
        abort();
    if (rc != 0 && rc != 1 && memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dk_hidpos_assembler a;
    size_t at = 0;

    (void)hidpos_descriptor_is_pos(data, size);
    if (hidpos_assembler_init(&a, &dk_hidpos_default_layout, NULL) != 0)
        abort();
    while (at < size) {
        size_t n = data[at++];

        if (n > size - at)
            n = size - at;
        feed_one(&a, data + at, n);
        at += n;
    }
    return 0;
}
