#include "escpos.h"

#include "receipt.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ESC 0x1b
#define GS 0x1d
#define DLE 0x10
#define EOT 0x04
#define LF 0x0a

/* glibc's name for the code page ESC t 16 selects. */
#define CODE_PAGE_ICONV "WINDOWS-1252"

/* The quiet zone ISO/IEC 18004 asks around a QR Code, in modules. */
#define QR_QUIET 4
/* Modules larger than 8 dots (1 mm at 203 dpi) only waste paper. */
#define QR_MODULE_MAX 8

/* Far above any slip (the largest raster is 72 bytes x 800 rows); a
 * stream growing past it is a bug, not a slip. */
#define SLIP_MAX (4u << 20)

const unsigned char escpos_status_query[ESCPOS_STATUS_QUERY_LEN] = {
    DLE, EOT, 1, /* printer status */
    DLE, EOT, 2, /* offline cause */
    DLE, EOT, 4, /* roll paper sensor */
};

/* ---- the growing output buffer ----------------------------------------- */

struct obuf {
    unsigned char *p;
    size_t len;
    size_t cap;
    bool failed; /* out of memory or past SLIP_MAX: everything after is dropped */
};

static void put(struct obuf *b, const void *data, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > SLIP_MAX - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 1024;
        unsigned char *p;

        while (cap < b->len + n)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_byte(struct obuf *b, unsigned char c)
{
    put(b, &c, 1);
}

static void put_cmd2(struct obuf *b, unsigned char c0, unsigned char c1)
{
    const unsigned char cmd[] = {c0, c1};

    put(b, cmd, sizeof(cmd));
}

static void put_cmd3(struct obuf *b, unsigned char c0, unsigned char c1, unsigned char n)
{
    const unsigned char cmd[] = {c0, c1, n};

    put(b, cmd, sizeof(cmd));
}

/* ---- text ---------------------------------------------------------------- */

/* Length of the UTF-8 character at s (1-4), or 0 when s does not start a
 * well-formed one within n bytes. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    return len;
}

/* Put n converted bytes, each control character made a '?'. */
static void put_converted(struct obuf *b, unsigned char *chunk, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (chunk[i] < 0x20 || chunk[i] == 0x7f)
            chunk[i] = '?';
    }
    put(b, chunk, n);
}

/* Append text, converted from UTF-8 to the printer's code page, to b.
 * Each character the code page lacks, each byte that is not UTF-8 and each
 * control character becomes one '?', so one character is one column and
 * nothing in the text can act as a command.  Returns -errno when iconv
 * fails in a way other than an unconvertible character. */
static int put_text(struct obuf *b, iconv_t cd, const char *text)
{
    size_t in_left = text != NULL ? strlen(text) : 0;
    char *in = (char *)(uintptr_t)text; /* iconv's prototype is not const */
    unsigned char chunk[256];
    int rc = 0;

    while (in_left > 0 && rc == 0) {
        char *o = (char *)chunk;
        size_t o_left = sizeof(chunk) - 1; /* room for one '?' */

        if (iconv(cd, &in, &in_left, &o, &o_left) == (size_t)-1) {
            if (errno == EILSEQ || errno == EINVAL) {
                /* Not in the code page, or not UTF-8: one '?' for the
                 * character (or the one bad byte), then go on. */
                size_t skip = utf8_char_len((const unsigned char *)in, in_left);

                skip = skip != 0 ? skip : 1;
                in += skip;
                in_left -= skip;
                *o++ = '?';
            } else if (errno != E2BIG) {
                rc = -errno;
            }
        }
        put_converted(b, chunk, (size_t)((unsigned char *)o - chunk));
    }
    iconv(cd, NULL, NULL, NULL, NULL);
    return rc;
}

/* Print n bytes of converted text at s as lines of at most cols columns
 * (one byte is one character in a single-byte code page, so no character
 * is ever split), breaking after the last space that fits; a word longer
 * than a line is broken where the line ends.  Lines after the first are
 * indented by indent spaces.  Empty text still prints an empty line. */
static void put_wrapped(struct obuf *b, const unsigned char *s, size_t n, size_t cols,
                        size_t indent)
{
    size_t pos = 0;
    bool first = true;

    do {
        size_t width = first ? cols : cols - indent;
        size_t end;
        size_t next;

        if (!first) {
            while (pos < n && s[pos] == ' ')
                pos++;
            if (pos == n)
                break;
        }
        if (n - pos <= width) {
            end = n;
            next = n;
        } else {
            end = pos + width;
            while (end > pos && s[end] != ' ')
                end--;
            if (end == pos)
                end = pos + width; /* one word longer than the line */
            next = end;
        }
        while (end > pos && s[end - 1] == ' ')
            end--;
        for (size_t i = 0; !first && i < indent; i++)
            put_byte(b, ' ');
        put(b, s + pos, end - pos);
        put_byte(b, LF);
        pos = next;
        first = false;
    } while (pos < n);
}

/* One logical line made of UTF-8 pieces (a NULL piece ends the list). */
static int put_line(struct obuf *b, iconv_t cd, size_t cols, size_t indent,
                    const char *const *pieces)
{
    struct obuf line = {0};
    int rc = 0;

    for (size_t i = 0; pieces[i] != NULL && rc == 0; i++)
        rc = put_text(&line, cd, pieces[i]);
    if (rc == 0 && line.failed)
        rc = -ENOMEM;
    if (rc == 0)
        put_wrapped(b, line.p != NULL ? line.p : (const unsigned char *)"", line.len, cols,
                    indent);
    free(line.p);
    return rc;
}

static const char *text_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* ---- the slip's parts ------------------------------------------------- */

static int put_header(struct obuf *b, iconv_t cd, const struct dk_slip *slip, size_t cols)
{
    const char *title[] = {text_or_empty(slip->words.title), NULL};
    const char *district[] = {text_or_empty(slip->district), NULL};
    const char *site[] = {text_or_empty(slip->site_name), NULL};
    const char *receipt[] = {text_or_empty(slip->words.receipt), " ",
                             text_or_empty(slip->receipt_id), NULL};
    const char *when[] = {text_or_empty(slip->when_local), NULL};
    int rc;

    put_cmd3(b, ESC, 'a', 1);    /* centred */
    put_cmd3(b, ESC, 'E', 1);    /* bold */
    put_cmd3(b, GS, '!', 0x11);  /* double width and height */
    rc = put_line(b, cd, cols / 2, 0, title);
    put_cmd3(b, GS, '!', 0x00);
    put_cmd3(b, ESC, 'E', 0);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, district);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, site);
    put_cmd3(b, ESC, 'a', 0);    /* left */
    put_byte(b, LF);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, receipt);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, when);
    put_byte(b, LF);
    return rc;
}

static int put_devices(struct obuf *b, iconv_t cd, const struct dk_slip *slip, size_t cols)
{
    const struct dk_slip_words *w = &slip->words;
    int rc = 0;

    for (size_t i = 0; i < slip->n_devices && rc == 0; i++) {
        const struct dk_slip_device *d = &slip->devices[i];
        const char *model = text_or_empty(d->model);
        bool has_model = model[0] != '\0';
        const char *line[] = {
            text_or_empty(w->device), " ", text_or_empty(d->tag),
            has_model ? ", " : "", model,
            ", ", text_or_empty(w->charger), ": ",
            text_or_empty(d->charger ? w->yes : w->no), NULL,
        };

        rc = put_line(b, cd, cols, 2, line);
    }
    return rc;
}

/* ---- the QR code ------------------------------------------------------ */

static int qr_encode(const struct dk_slip *slip, QRcode **qr, struct dk_error *err)
{
    return receipt_qr_encode(slip->payload, slip->payload_len, qr, err);
}

/* GS ( k pL pH cn fn [params]: cn 49 is QR Code; the length counts cn, fn
 * and the parameters. */
static void put_qr_fn(struct obuf *b, unsigned char fn, const unsigned char *param, size_t n)
{
    const unsigned char head[] = {
        GS, '(', 'k', (unsigned char)((n + 2) & 0xff), (unsigned char)((n + 2) >> 8), 49, fn,
    };

    put(b, head, sizeof(head));
    put(b, param, n);
}

/* The printer draws the symbol: fn 65 (Epson's "function 165") model 2,
 * fn 67 (167) module size in dots, fn 69 (169) level M (49), fn 80 (180)
 * store the data (m = 48), fn 81 (181) print it (m = 48). */
static void put_qr_native(struct obuf *b, const struct dk_slip *slip, int module)
{
    const unsigned char model2[] = {50, 0};
    const unsigned char size[] = {(unsigned char)module};
    const unsigned char level_m[] = {49};
    const unsigned char m48[] = {48};
    const unsigned char store_head[] = {
        GS, '(', 'k', (unsigned char)((slip->payload_len + 3) & 0xff),
        (unsigned char)((slip->payload_len + 3) >> 8), 49, 80, 48,
    };

    put_qr_fn(b, 65, model2, sizeof(model2));
    put_qr_fn(b, 67, size, sizeof(size));
    put_qr_fn(b, 69, level_m, sizeof(level_m));
    put(b, store_head, sizeof(store_head));
    put(b, slip->payload, slip->payload_len);
    put_qr_fn(b, 81, m48, sizeof(m48));
}

/* GS v 0 m xL xH yL yH: m 0 (normal size), x bytes a row, y rows; a set
 * bit is a printed dot, the leftmost dot in a byte's high bit.  The image
 * is the paper's full width with the symbol (quiet zone included) in the
 * middle, so it is centred whatever the printer does with ESC a. */
static void put_qr_raster(struct obuf *b, const QRcode *qr, int dots, int module)
{
    int side = (qr->width + 2 * QR_QUIET) * module;
    int left = (dots - side) / 2;
    size_t row_bytes = (size_t)dots / 8;
    const unsigned char head[] = {
        GS, 'v', '0', 0, (unsigned char)(row_bytes & 0xff), (unsigned char)(row_bytes >> 8),
        (unsigned char)(side & 0xff), (unsigned char)(side >> 8),
    };
    unsigned char row[ESCPOS_DOTS_80MM / 8];

    put(b, head, sizeof(head));
    for (int y = 0; y < side; y++) {
        int qy = y / module - QR_QUIET;

        memset(row, 0, row_bytes);
        for (int x = 0; x < side; x++) {
            int qx = x / module - QR_QUIET;
            int dot = left + x;

            if (qy >= 0 && qx >= 0 && qy < qr->width && qx < qr->width &&
                (qr->data[(size_t)qy * (size_t)qr->width + (size_t)qx] & 1) != 0)
                row[dot / 8] |= (unsigned char)(0x80u >> (dot % 8));
        }
        put(b, row, row_bytes);
    }
}

static int put_qr(struct obuf *b, const struct dk_slip *slip, int dots, bool native,
                  struct dk_error *err)
{
    QRcode *qr = NULL;
    int module;
    int rc;

    /* libqrencode sizes the symbol in both modes: a printer choosing its
     * own version picks this one or a smaller one, so the module size that
     * fits here fits there. */
    rc = qr_encode(slip, &qr, err);
    if (rc != 0)
        return rc;
    module = dots / (qr->width + 2 * QR_QUIET);
    if (module > QR_MODULE_MAX)
        module = QR_MODULE_MAX;
    if (module < 1) {
        rc = dk_error_set(err, DK_EINPUT, "receipt QR code of %d modules is too wide for %d dots",
                          qr->width, dots);
        goto out;
    }
    if (native)
        put_qr_native(b, slip, module);
    else
        put_qr_raster(b, qr, dots, module);
out:
    QRcode_free(qr);
    return rc;
}

/* ---- the whole slip --------------------------------------------------- */

/* Everything before the QR code: the header, the devices, the pending
 * note and the centred scan note. */
static int put_words(struct obuf *b, iconv_t cd, const struct dk_slip *slip, size_t cols)
{
    const char *pending[] = {text_or_empty(slip->words.pending), NULL};
    const char *scan_qr[] = {text_or_empty(slip->words.scan_qr), NULL};
    int rc;

    put_cmd2(b, ESC, '@');
    put_cmd3(b, ESC, 't', ESCPOS_CODE_PAGE);
    rc = put_header(b, cd, slip, cols);
    if (rc == 0)
        rc = put_devices(b, cd, slip, cols);
    put_byte(b, LF);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, pending);
    put_byte(b, LF);
    put_cmd3(b, ESC, 'a', 1);
    if (rc == 0)
        rc = put_line(b, cd, cols, 0, scan_qr);
    put_byte(b, LF);
    return rc;
}

int escpos_slip(const struct dk_slip *slip, int width_mm, bool native_qr, unsigned char **out,
                size_t *len, struct dk_error *err)
{
    struct obuf b = {0};
    iconv_t cd = (iconv_t)-1;
    size_t cols = width_mm == 58 ? ESCPOS_COLUMNS_58MM : ESCPOS_COLUMNS_80MM;
    int dots = width_mm == 58 ? ESCPOS_DOTS_58MM : ESCPOS_DOTS_80MM;
    int rc;

    if (out == NULL || len == NULL)
        return -EINVAL;
    *out = NULL;
    *len = 0;
    if (slip == NULL || (slip->payload == NULL && slip->payload_len != 0) ||
        (slip->devices == NULL && slip->n_devices != 0))
        return dk_error_set(err, -EINVAL, "no slip to print");
    if (width_mm != 58 && width_mm != 80)
        return dk_error_set(err, DK_EINPUT, "paper width of %d mm is not 58 or 80", width_mm);

    cd = iconv_open(CODE_PAGE_ICONV, "UTF-8");
    if (cd == (iconv_t)-1) {
        rc = dk_error_set(err, -errno, "cannot convert text to %s: %s", CODE_PAGE_ICONV,
                          strerror(errno));
        goto out;
    }
    rc = put_words(&b, cd, slip, cols);
    if (rc != 0) {
        dk_error_set(err, rc, "cannot convert slip text to %s: %s", CODE_PAGE_ICONV,
                     strerror(-rc));
        goto out;
    }
    rc = put_qr(&b, slip, dots, native_qr, err);
    if (rc != 0)
        goto out;
    put_byte(&b, LF);
    put_cmd3(&b, ESC, 'a', 0);
    /* GS V 66 n: feed to the cutter plus n motion units, then cut leaving
     * a hinge (a partial cut), so the slip hangs until taken. */
    put_cmd3(&b, GS, 'V', 66);
    put_byte(&b, 3);

    if (b.failed) {
        rc = dk_error_set(err, -ENOMEM, "cannot lay out the slip: out of memory");
        goto out;
    }
    *out = b.p;
    *len = b.len;
    b.p = NULL;
out:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    free(b.p);
    return rc;
}

/* ---- status ----------------------------------------------------------- */

/* Bits 1 and 4 on, bits 0 and 7 off in every DLE EOT answer. */
static bool status_byte_ok(int v)
{
    return v >= 0 && v <= 0xff && (v & 0x93) == 0x12;
}

enum dk_printer_state escpos_state(int printer_status, int offline_cause, int paper_status)
{
    if (!status_byte_ok(printer_status) || !status_byte_ok(offline_cause) ||
        !status_byte_ok(paper_status))
        return DK_PRINTER_NO_ANSWER;
    if ((offline_cause & 0x04) != 0)
        return DK_PRINTER_COVER_OPEN;
    /* Epson sets bits 5 and 6 together; a printer setting one still says
     * the roll has ended, and printing into nothing loses the slip. */
    if ((offline_cause & 0x20) != 0 || (paper_status & 0x60) != 0)
        return DK_PRINTER_PAPER_OUT;
    if ((printer_status & 0x08) != 0 || (offline_cause & 0x40) != 0)
        return DK_PRINTER_OFFLINE;
    return DK_PRINTER_READY;
}

/* ---- models ----------------------------------------------------------- */

/* Models whose ESC/POS command reference lists GS ( k with cn 49 (QR Code
 * model 2, functions 165-181).  Kept to printers Epson documents; clones
 * that answer to ESC/POS differ in firmware from batch to batch, so they
 * get the raster code unless the config says qr = native.  Star's
 * mC-Print3 is not listed: its ESC/POS emulation is not one we could
 * confirm draws QR codes with these functions. */
static const char *const qr_models[] = {
    "tm-t20",    /* TM-T20: 2D codes (QR, PDF417) in its command set */
    "tm-t20ii",  /* TM-T20II: same firmware family as the TM-T20 */
    "tm-t20iii", /* TM-T20III: same, with GS ( k unchanged */
    "tm-t88v",   /* TM-T88V: the first TM-T88 with QR Code in firmware */
    "tm-t88vi",  /* TM-T88VI: keeps the TM-T88V command set */
    "tm-t88vii", /* TM-T88VII: keeps the TM-T88V command set */
    "tm-m30",    /* TM-m30: the ESC/POS set of the TM-T88V class */
    "tm-m30ii",  /* TM-m30II: same */
};

bool escpos_model_has_qr(const char *model)
{
    if (model == NULL)
        return false;
    for (size_t i = 0; i < sizeof(qr_models) / sizeof(qr_models[0]); i++) {
        if (strcasecmp(model, qr_models[i]) == 0)
            return true;
    }
    return false;
}
