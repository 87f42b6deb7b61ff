/* libFuzzer target: scan text normalising and classification must accept
 * any bytes without a crash, and keep its promises about the result. */
#include "scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dk_scan_rules rules;
    static int ready;
    struct dk_scan scan;

    if (!ready) {
        struct dk_config cfg;
        struct dk_error err;

        config_defaults(&cfg);
        if (scan_rules_init(&rules, &cfg, &err) != 0)
            abort();
        ready = 1;
    }
    /* The first byte picks what the scanner says beside the text, so GS1,
     * Code 39 and EAN/UPC handling are all reached. */
    static const char *const ids[] = {NULL, "]C1", "]A1", "]E0", "UPC-E", "]Q3", "CODE-39"};
    const char *id = NULL;

    if (size > 0) {
        id = ids[data[0] % (sizeof(ids) / sizeof(ids[0]))];
        data++;
        size--;
    }
    scan_classify_from(&rules, (const char *)data, size, id, &scan);
    /* What comes out as text is printable and within the maximum. */
    if (scan.kind != DK_SCAN_INVALID) {
        size_t n = strlen(scan.text);

        if (n == 0 || n > rules.max_length)
            abort();
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)scan.text[i] < 0x20 || scan.text[i] == 0x7f)
                abort();
        }
    }
    return 0;
}
