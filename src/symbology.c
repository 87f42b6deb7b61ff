#include "symbology.h"

#include <stdio.h>
#include <string.h>

#define GS 0x1d /* GS1 element separator, FNC1 as scanners send it */

static void say_why(char *why, size_t size, const char *reason)
{
    snprintf(why, size, "%s", reason);
}

/* ---- identification --------------------------------------------------- */

/* ISO/IEC 15424 code characters; the modifier refines some of them. */
static struct dk_symbol from_aim(const char *id)
{
    struct dk_symbol s = {.sym = DK_SYM_UNKNOWN};
    char code = id[1];
    char mod = id[2];

    switch (code) {
    case 'C': /* Code 128; modifier 1 = FNC1 in first position, GS1-128 */
        s.sym = mod == '1' ? DK_SYM_GS1 : DK_SYM_CODE128;
        break;
    case 'A': /* Code 39; modifier 0 nothing done, 1 check verified and
               * sent, 3 verified and stripped, 4 Full ASCII decoded (5 and 7
               * as 1 and 3 with Full ASCII) */
        s.sym = DK_SYM_CODE39;
        if (mod >= '0' && mod <= '7') {
            int m = mod - '0';

            if ((m & 3) == 1)
                s.c39_check = DK_C39_CHECK_SENT;
            else if ((m & 3) == 3)
                s.c39_check = DK_C39_CHECK_STRIPPED;
            s.c39_ascii_done = (m & 4) != 0;
        }
        break;
    case 'E': /* EAN/UPC: 0 = EAN-13, UPC-A or UPC-E; 4 = EAN-8 */
        s.sym = mod == '4' ? DK_SYM_EAN8 : DK_SYM_EAN13;
        break;
    case 'Q': /* QR; modifiers 3 and 4 mark FNC1, a GS1 QR */
        s.sym = mod == '3' || mod == '4' ? DK_SYM_GS1 : DK_SYM_QR;
        break;
    case 'd': /* Data Matrix; 2 = GS1 */
        s.sym = mod == '2' ? DK_SYM_GS1 : DK_SYM_OTHER;
        break;
    case 'e': /* GS1 DataBar: always GS1 element strings */
        s.sym = DK_SYM_GS1;
        break;
    default:
        s.sym = DK_SYM_OTHER;
    }
    return s;
}

static struct dk_symbol from_name(const char *name)
{
    static const struct {
        const char *name;
        enum dk_symbology sym;
    } names[] = {
        {"CODE-128", DK_SYM_CODE128}, {"CODE-39", DK_SYM_CODE39}, {"EAN-13", DK_SYM_EAN13},
        {"UPC-A", DK_SYM_EAN13},      {"EAN-8", DK_SYM_EAN8},     {"UPC-E", DK_SYM_UPCE},
        {"QR-Code", DK_SYM_QR},       {"DataBar", DK_SYM_GS1},    {"DataBar-Exp", DK_SYM_GS1},
        {"GS1-128", DK_SYM_GS1},      {"GS1", DK_SYM_GS1},
    };
    struct dk_symbol s = {.sym = DK_SYM_OTHER};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0)
            s.sym = names[i].sym;
    }
    return s;
}

struct dk_symbol symbology_identify(const char *id)
{
    struct dk_symbol none = {.sym = DK_SYM_UNKNOWN};

    if (id == NULL || id[0] == '\0')
        return none;
    if (id[0] == ']' && strlen(id) == 3)
        return from_aim(id);
    return from_name(id);
}

/* ---- check digits ----------------------------------------------------- */

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return len > 0;
}

/* GS1 General Specifications 7.9.1: weights 3 and 1 alternate from the
 * digit next to the check digit, leftwards. */
bool symbology_gs1_check_ok(const char *s, size_t len)
{
    int sum = 0;

    if (len < 2 || !all_digits(s, len))
        return false;
    for (size_t i = 0; i + 1 < len; i++) {
        int d = s[len - 2 - i] - '0';

        sum += i % 2 == 0 ? 3 * d : d;
    }
    return (10 - sum % 10) % 10 == s[len - 1] - '0';
}

/* UPC-E to UPC-A by the last of the six digits (GS1 General Specifications,
 * UPC-E zero suppression). */
bool symbology_upce_to_upca(const char *upce, size_t len, char out[13])
{
    const char *d = upce + 1; /* the six digits after the number system */
    char ns, check;

    if (len != 8)
        return false;
    ns = upce[0];
    check = upce[7];
    if (!all_digits(upce, 8) || (ns != '0' && ns != '1'))
        return false;
    switch (d[5]) {
    case '0':
    case '1':
    case '2':
        snprintf(out, 13, "%c%c%c%c0000%c%c%c%c", ns, d[0], d[1], d[5], d[2], d[3], d[4],
                 check);
        break;
    case '3':
        snprintf(out, 13, "%c%c%c%c00000%c%c%c", ns, d[0], d[1], d[2], d[3], d[4], check);
        break;
    case '4':
        snprintf(out, 13, "%c%c%c%c%c00000%c%c", ns, d[0], d[1], d[2], d[3], d[4], check);
        break;
    default:
        snprintf(out, 13, "%c%c%c%c%c%c0000%c%c", ns, d[0], d[1], d[2], d[3], d[4], d[5],
                 check);
    }
    return true;
}

static bool copy_out(const char *in, size_t len, char *out, size_t size)
{
    if (len >= size)
        return false;
    memcpy(out, in, len);
    out[len] = '\0';
    return true;
}

static bool ean_upc(const struct dk_symbol *sym, const char *in, size_t len, char *out,
                    size_t size, char *why, size_t why_size)
{
    char upca[13];

    if (!all_digits(in, len)) {
        say_why(why, why_size, "an EAN/UPC code holds only digits");
        return false;
    }
    if (sym->sym == DK_SYM_UPCE || (sym->sym == DK_SYM_EAN13 && len == 8)) {
        if (!symbology_upce_to_upca(in, len, upca)) {
            say_why(why, why_size, "not a valid UPC-E code");
            return false;
        }
        in = upca;
        len = 12;
    }
    if (len != 8 && len != 12 && len != 13) {
        say_why(why, why_size, "an EAN/UPC code has 8, 12 or 13 digits");
        return false;
    }
    if (!symbology_gs1_check_ok(in, len)) {
        say_why(why, why_size, "the check digit does not match (a damaged or misread label)");
        return false;
    }
    return copy_out(in, len, out, size);
}

/* ---- Code 39 ---------------------------------------------------------- */

static const char code39_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

/* The mod 43 check character (ISO/IEC 16388 annex A). */
static bool code39_check_ok(const char *in, size_t len)
{
    int sum = 0;

    for (size_t i = 0; i + 1 < len; i++) {
        const char *p = strchr(code39_chars, in[i]);

        if (p == NULL || in[i] == '\0')
            return false;
        sum += (int)(p - code39_chars);
    }
    return len >= 2 && code39_chars[sum % 43] == in[len - 1];
}

/* Full ASCII: one of $ % / + and a letter stand for one ASCII character
 * (ISO/IEC 16388 annex F). */
static int code39_pair(char shift, char c)
{
    static const char percent[] = "\x1b\x1c\x1d\x1e\x1f;<=>?[\\]^_{|}~\x7f";
    static const char slash[] = "!\"#$%&'()*+,-./";

    if (c < 'A' || c > 'Z')
        return -1;
    switch (shift) {
    case '$':
        return c - 'A' + 1;
    case '+':
        return c - 'A' + 'a';
    case '/':
        if (c <= 'O')
            return (unsigned char)slash[c - 'A'];
        return c == 'Z' ? ':' : -1;
    case '%':
        if (c <= 'T')
            return (unsigned char)percent[c - 'A'];
        if (c == 'U')
            return 0;
        if (c == 'V')
            return '@';
        if (c == 'W')
            return '`';
        return 0x7f; /* X, Y, Z */
    }
    return -1;
}

static bool code39_full_ascii(const char *in, size_t len, char *out, size_t size, char *why,
                              size_t why_size)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];

        if (strchr("$%/+", in[i]) != NULL) {
            c = i + 1 < len ? code39_pair(in[i], in[i + 1]) : -1;
            i++;
        }
        if (c <= 0 || n + 1 >= size) {
            say_why(why, why_size, "not a valid Full ASCII Code 39 code");
            return false;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return true;
}

static bool code39(const struct dk_symbol *sym, const struct dk_code39_opts *opts,
                   const char *in, size_t len, char *out, size_t size, char *why,
                   size_t why_size)
{
    bool has_check = sym->c39_check == DK_C39_CHECK_SENT ||
                     (sym->c39_check == DK_C39_CHECK_BY_CONFIG && opts->check_char);
    bool full = !sym->c39_ascii_done && opts->full_ascii;

    if (has_check) {
        if (!code39_check_ok(in, len)) {
            say_why(why, why_size,
                    "the Code 39 check character does not match (a damaged or misread label)");
            return false;
        }
        len--;
    }
    if (full)
        return code39_full_ascii(in, len, out, size, why, why_size);
    return copy_out(in, len, out, size);
}

/* ---- GS1 element strings ---------------------------------------------- */

/* Application Identifiers the kiosk can step over, by their first digits:
 * how many digits the AI has, and either its fixed data length or the
 * longest variable one (GS1 General Specifications 3.2, the AI table). */
struct gs1_ai {
    const char *prefix;
    int ai_digits;
    int fixed;   /* data length when fixed, else 0 */
    int max_len; /* longest data when variable */
};

static const struct gs1_ai gs1_ais[] = {
    {"00", 2, 18, 0},  {"01", 2, 14, 0},  {"02", 2, 14, 0},  {"10", 2, 0, 20},
    {"11", 2, 6, 0},   {"12", 2, 6, 0},   {"13", 2, 6, 0},   {"15", 2, 6, 0},
    {"16", 2, 6, 0},   {"17", 2, 6, 0},   {"20", 2, 2, 0},   {"21", 2, 0, 20},
    {"22", 2, 0, 20},  {"240", 3, 0, 30}, {"241", 3, 0, 30}, {"250", 3, 0, 30},
    {"251", 3, 0, 30}, {"30", 2, 0, 8},   {"31", 4, 6, 0},   {"32", 4, 6, 0},
    {"33", 4, 6, 0},   {"34", 4, 6, 0},   {"35", 4, 6, 0},   {"36", 4, 6, 0},
    {"37", 2, 0, 8},   {"400", 3, 0, 30}, {"401", 3, 0, 30}, {"402", 3, 17, 0},
    {"41", 3, 13, 0},  {"420", 3, 0, 20}, {"90", 2, 0, 30},  {"91", 2, 0, 90},
    {"92", 2, 0, 90},  {"93", 2, 0, 90},  {"94", 2, 0, 90},  {"95", 2, 0, 90},
    {"96", 2, 0, 90},  {"97", 2, 0, 90},  {"98", 2, 0, 90},  {"99", 2, 0, 90},
    {"7001", 4, 13, 0}, {"7003", 4, 10, 0}, {"8001", 4, 14, 0}, {"8003", 4, 0, 30},
    {"8004", 4, 0, 30}, {"8005", 4, 6, 0},  {"8006", 4, 18, 0}, {"8007", 4, 0, 34},
    {"8008", 4, 0, 12}, {"8017", 4, 18, 0}, {"8018", 4, 18, 0}, {"8020", 4, 0, 25},
};

static const struct gs1_ai *gs1_find(const char *p, size_t left)
{
    for (size_t i = 0; i < sizeof(gs1_ais) / sizeof(gs1_ais[0]); i++) {
        size_t n = strlen(gs1_ais[i].prefix);

        if (left >= n && memcmp(p, gs1_ais[i].prefix, n) == 0)
            return &gs1_ais[i];
    }
    return NULL;
}

#define GS1_MAX_ELEMENTS 16

struct gs1_found {
    const char *gtin;
    const char *serial;
    size_t serial_len;
    const char *asset_id; /* AI (8004), the GS1 Global Individual Asset Identifier */
    size_t asset_id_len;
    const char *seen[GS1_MAX_ELEMENTS]; /* the AIs read, to refuse a repeat */
    int n_seen;
};

/* A label that gives one AI twice cannot say which one it means. */
static bool gs1_first_time(struct gs1_found *f, const struct gs1_ai *ai)
{
    for (int i = 0; i < f->n_seen; i++) {
        if (f->seen[i] == ai->prefix)
            return false;
    }
    if (f->n_seen == GS1_MAX_ELEMENTS)
        return false;
    f->seen[f->n_seen++] = ai->prefix;
    return true;
}

/* Step over one element at *p; 0, or a reason. */
static const char *gs1_element(const char **p, const char *end, struct gs1_found *f)
{
    const struct gs1_ai *ai = gs1_find(*p, (size_t)(end - *p));
    const char *data;
    size_t n;

    if (ai == NULL || end - *p < ai->ai_digits || !all_digits(*p, (size_t)ai->ai_digits))
        return "a GS1 label with an element this kiosk does not read";
    /* Table prefixes shorter than the AI (e.g. "31" for 3100..3105) stand
     * for several AIs; repeats are only judged on whole AIs. */
    if ((int)strlen(ai->prefix) == ai->ai_digits && !gs1_first_time(f, ai))
        return "a GS1 label gives one element twice";
    data = *p + ai->ai_digits;
    if (ai->fixed > 0) {
        n = (size_t)ai->fixed;
        if ((size_t)(end - data) < n)
            return "a GS1 element is cut short";
    } else {
        const char *gs = memchr(data, GS, (size_t)(end - data));

        n = gs != NULL ? (size_t)(gs - data) : (size_t)(end - data);
        if (n == 0 || n > (size_t)ai->max_len)
            return "a GS1 element has the wrong length";
    }
    /* By the table entry, whose prefix is known to be in the input: the
     * input itself may end right after a two-digit AI. */
    if (strcmp(ai->prefix, "01") == 0 || strcmp(ai->prefix, "00") == 0) {
        if (!symbology_gs1_check_ok(data, n))
            return "a GS1 check digit does not match (a damaged or misread label)";
        if (strcmp(ai->prefix, "01") == 0)
            f->gtin = data;
    } else if (strcmp(ai->prefix, "21") == 0) {
        f->serial = data;
        f->serial_len = n;
    } else if (strcmp(ai->prefix, "8004") == 0) {
        f->asset_id = data;
        f->asset_id_len = n;
    }
    *p = data + n;
    if (*p < end && **p == GS)
        (*p)++;
    return NULL;
}

static bool gs1(const char *in, size_t len, char *out, size_t size,
                enum dk_symbol_text *kind, char *why, size_t why_size)
{
    struct gs1_found f = {0};
    const char *p = in;
    const char *end = in + len;

    /* Some scanners send the leading FNC1 as a GS too. */
    if (p < end && *p == GS)
        p++;
    while (p < end) {
        const char *bad = gs1_element(&p, end, &f);

        if (bad != NULL) {
            say_why(why, why_size, bad);
            return false;
        }
    }
    if (f.asset_id != NULL) {
        *kind = DK_SYMTEXT_ASSET_ID;
        return copy_out(f.asset_id, f.asset_id_len, out, size);
    }
    if (f.serial != NULL) {
        *kind = DK_SYMTEXT_SERIAL;
        return copy_out(f.serial, f.serial_len, out, size);
    }
    say_why(why, why_size,
            f.gtin != NULL ? "this code names a product (GTIN), not one device; scan the "
                             "asset tag"
                           : "this GS1 code holds no serial number");
    return false;
}

/* The human-readable form under a GS1 barcode, AIs in parentheses:
 * "(01)09506000134352(21)A1B2C3".  It becomes the element string the
 * barcode carries, with a GS after each variable-length element. */
static bool gs1_printed(const char *in, size_t len, char *out, size_t size,
                        enum dk_symbol_text *kind, char *why, size_t why_size)
{
    char buf[256];
    size_t n = 0;
    const char *p = in;
    const char *end = in + len;

    while (p < end) {
        const char *close = p[0] == '(' ? memchr(p, ')', (size_t)(end - p)) : NULL;
        const char *next;
        size_t ai_len, data_len;

        if (close == NULL)
            return copy_out(in, len, out, size); /* not the printed form */
        ai_len = (size_t)(close - p - 1);
        next = memchr(close, '(', (size_t)(end - close));
        data_len = (size_t)((next != NULL ? next : end) - close - 1);
        if (ai_len < 2 || ai_len > 4 || !all_digits(p + 1, ai_len) ||
            n + ai_len + data_len + 1 >= sizeof(buf))
            return copy_out(in, len, out, size);
        memcpy(buf + n, p + 1, ai_len);
        memcpy(buf + n + ai_len, close + 1, data_len);
        n += ai_len + data_len;
        if (next != NULL)
            buf[n++] = GS;
        p = next != NULL ? next : end;
    }
    return gs1(buf, n, out, size, kind, why, why_size);
}

/* ---- the whole ---------------------------------------------------------- */

bool symbology_apply(const struct dk_symbol *sym, const struct dk_code39_opts *c39,
                     const char *in, size_t len, char *out, size_t size,
                     enum dk_symbol_text *kind, char *why, size_t why_size)
{
    bool has_gs = memchr(in, GS, len) != NULL;
    bool ok;

    *kind = DK_SYMTEXT_PLAIN;
    /* A scanner that sends no identifier still sends FNC1 as GS, and a
     * person may type the printed form "(01)...(21)...". */
    if ((sym->sym == DK_SYM_UNKNOWN || sym->sym == DK_SYM_CODE128) && has_gs)
        return gs1(in, len, out, size, kind, why, why_size);
    if (sym->sym == DK_SYM_UNKNOWN && len > 4 && in[0] == '(')
        return gs1_printed(in, len, out, size, kind, why, why_size);
    if (sym->sym != DK_SYM_GS1 && has_gs) {
        say_why(why, why_size, "a group separator outside a GS1 code");
        return false;
    }
    switch (sym->sym) {
    case DK_SYM_GS1:
        return gs1(in, len, out, size, kind, why, why_size);
    case DK_SYM_CODE39:
        return code39(sym, c39, in, len, out, size, why, why_size);
    case DK_SYM_EAN13:
    case DK_SYM_EAN8:
    case DK_SYM_UPCE:
        return ean_upc(sym, in, len, out, size, why, why_size);
    default:
        ok = copy_out(in, len, out, size);
        if (!ok)
            say_why(why, why_size, "scan too long");
        return ok;
    }
}
