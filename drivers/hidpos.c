/* drivers/hidpos.h: HID-POS scanned data reports to whole barcodes.  The
 * layout and its source are described in the header. */
#include "hidpos.h"

#include <errno.h>
#include <string.h>

/* A barcode of DK_HIDPOS_SCAN_MAX bytes needs 10 reports of 56; a stream of
 * continued reports with no data would otherwise never end a scan. */
#define MAX_REPORTS_PER_SCAN 32

const struct dk_hidpos_layout dk_hidpos_default_layout = {
    .report_id = 0x02,
    .report_size = 64,
    .length_at = 1,
    .symbology_at = 2,
    .symbology_len = 3,
    .data_at = 5,
    .data_max = 56,
    .flags_at = 63,
    .continued_mask = 0x01,
};

static bool inside(unsigned at, unsigned size, unsigned report_size)
{
    return at + size <= report_size;
}

int hidpos_layout_check(const struct dk_hidpos_layout *l, struct dk_error *err)
{
    unsigned first = l->report_id != 0 ? 1 : 0;

    if (l->report_size == 0 || l->report_size > DK_HIDPOS_REPORT_MAX)
        return dk_error_set(err, DK_EINPUT, "HID-POS layout: report size %u is not 1 to %u",
                            l->report_size, DK_HIDPOS_REPORT_MAX);
    if (l->length_at < first || !inside(l->length_at, 1, l->report_size) ||
        l->flags_at < first || !inside(l->flags_at, 1, l->report_size))
        return dk_error_set(err, DK_EINPUT, "HID-POS layout: length or flags outside the report");
    if (l->symbology_len > DK_HIDPOS_SYMBOLOGY_MAX ||
        (l->symbology_len > 0 && l->symbology_at < first) ||
        !inside(l->symbology_at, l->symbology_len, l->report_size))
        return dk_error_set(err, DK_EINPUT, "HID-POS layout: symbology outside the report");
    if (l->data_max == 0 || l->data_at < first ||
        !inside(l->data_at, l->data_max, l->report_size))
        return dk_error_set(err, DK_EINPUT, "HID-POS layout: decoded data outside the report");
    if (l->continued_mask == 0)
        return dk_error_set(err, DK_EINPUT, "HID-POS layout: no continued bit");
    return 0;
}

int hidpos_assembler_init(struct dk_hidpos_assembler *a, const struct dk_hidpos_layout *layout,
                          struct dk_error *err)
{
    int rc = hidpos_layout_check(layout, err);

    memset(a, 0, sizeof(*a));
    if (rc != 0)
        return rc;
    a->layout = *layout;
    return 0;
}

void hidpos_assembler_reset(struct dk_hidpos_assembler *a)
{
    memset(&a->scan, 0, sizeof(a->scan));
    a->busy = false;
    a->discarding = false;
}

bool hidpos_assembler_busy(const struct dk_hidpos_assembler *a)
{
    return a->busy || a->discarding;
}

/* Drop the scan in progress; when the bad report says more follow, skip
 * them too, so that the tail of a bad scan never starts a new one. */
static void drop(struct dk_hidpos_assembler *a, bool more)
{
    hidpos_assembler_reset(a);
    a->discarding = more;
}

/* The identifier as sent, up to its first NUL.  Scanners with symbology
 * identifiers switched off send 0x00 bytes; anything not printable ASCII is
 * no identifier we could pass on, so it is left out rather than guessed. */
static void take_symbology(struct dk_hidpos_assembler *a, const uint8_t *report)
{
    const struct dk_hidpos_layout *l = &a->layout;
    size_t n = 0;

    while (n < l->symbology_len && report[l->symbology_at + n] != 0)
        n++;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = report[l->symbology_at + i];

        if (c < 0x21 || c > 0x7e)
            return;
    }
    memcpy(a->scan.symbology, report + l->symbology_at, n);
    a->scan.symbology[n] = '\0';
}

/* Check the data length byte of a report already known to be of the right
 * ID and size.  0 or DK_EINPUT. */
static int check_length(const struct dk_hidpos_layout *l, unsigned len, size_t n,
                        struct dk_error *err)
{
    if (l->data_at + len > n)
        return dk_error_set(err, DK_EINPUT,
                            "HID-POS report: data length %u runs past its %zu bytes", len, n);
    if (len > l->data_max)
        return dk_error_set(err, DK_EINPUT,
                            "HID-POS report: data length %u is more than its %u data bytes", len,
                            l->data_max);
    return 0;
}

static int append(struct dk_hidpos_assembler *a, const uint8_t *report, unsigned len, bool more,
                  struct dk_error *err)
{
    struct dk_hidpos_scan *scan = &a->scan;

    if (scan->len + len > DK_HIDPOS_SCAN_MAX) {
        drop(a, more);
        return dk_error_set(err, -EMSGSIZE, "HID-POS scan longer than %d bytes; dropped",
                            DK_HIDPOS_SCAN_MAX);
    }
    if (scan->reports == MAX_REPORTS_PER_SCAN) {
        drop(a, more);
        return dk_error_set(err, DK_EINPUT, "HID-POS scan in more than %d reports; dropped",
                            MAX_REPORTS_PER_SCAN);
    }
    if (!a->busy)
        take_symbology(a, report);
    memcpy(scan->text + scan->len, report + a->layout.data_at, len);
    scan->len += len;
    scan->reports++;
    a->busy = more;
    return 0;
}

int hidpos_feed(struct dk_hidpos_assembler *a, const uint8_t *report, size_t n,
                struct dk_hidpos_scan *out, struct dk_error *err)
{
    const struct dk_hidpos_layout *l = &a->layout;
    unsigned len;
    bool more;
    int rc;

    if (n == 0)
        return dk_error_set(err, DK_EINPUT, "HID-POS report: empty");
    if (l->report_id != 0 && report[0] != l->report_id)
        return dk_error_set(err, DK_EINPUT,
                            "HID-POS report: ID 0x%02x is not scanned data (0x%02x); ignored",
                            report[0], l->report_id);
    if (n < l->report_size) {
        drop(a, false);
        return dk_error_set(err, DK_EINPUT,
                            "HID-POS report: %zu bytes, shorter than the %u of scanned data", n,
                            l->report_size);
    }
    more = (report[l->flags_at] & l->continued_mask) != 0;
    if (a->discarding) {
        a->discarding = more;
        return 0;
    }
    len = report[l->length_at];
    rc = check_length(l, len, n, err);
    if (rc != 0) {
        drop(a, more);
        return rc;
    }
    rc = append(a, report, len, more, err);
    if (rc != 0 || more)
        return rc;
    if (a->scan.len == 0) {
        drop(a, false);
        return dk_error_set(err, DK_EINPUT, "HID-POS report: a scan with no data");
    }
    a->scan.text[a->scan.len] = '\0';
    *out = a->scan;
    hidpos_assembler_reset(a);
    return 1;
}

/* Short items (HID 1.11 section 6.2.2.2): a prefix byte holding bSize (0,
 * 1, 2 or 4 data bytes), bType (0 main, 1 global, 2 local) and bTag, then
 * the data, little-endian.  Long items (section 6.2.2.3) start with 0xFE,
 * their data size and tag; none of them matters here. */
#define ITEM_LONG 0xFE
#define TYPE_GLOBAL 1
#define TYPE_LOCAL 2
#define TAG_USAGE_PAGE 0    /* global (section 6.2.2.7) */
#define TAG_USAGE_MAXIMUM 2 /* local (section 6.2.2.8): 0 Usage, 1 Minimum, 2 Maximum */

bool hidpos_descriptor_is_pos(const uint8_t *desc, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t prefix = desc[i];
        size_t size = (size_t)(prefix & 3) == 3 ? 4 : (size_t)(prefix & 3);
        unsigned type = (prefix >> 2) & 3;
        unsigned tag = prefix >> 4;
        uint32_t value = 0;

        if (prefix == ITEM_LONG) {
            if (len - i < 3 || len - i - 3 < desc[i + 1])
                return false;
            i += 3 + (size_t)desc[i + 1];
            continue;
        }
        if (len - i - 1 < size)
            return false;
        for (size_t k = 0; k < size; k++)
            value |= (uint32_t)desc[i + 1 + k] << (8 * k);
        if (type == TYPE_GLOBAL && tag == TAG_USAGE_PAGE && value == DK_HIDPOS_USAGE_PAGE)
            return true;
        /* A 4-byte Usage, Usage Minimum or Maximum carries its own page in
         * the high 16 bits (section 6.2.2.8). */
        if (type == TYPE_LOCAL && tag <= TAG_USAGE_MAXIMUM && size == 4 &&
            value >> 16 == DK_HIDPOS_USAGE_PAGE)
            return true;
        i += 1 + size;
    }
    return false;
}
