#include "receipt.h"

#include "fileio.h"

#include "log.h"
#include "owner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <png.h>
#include <qrencode.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Crockford's base32 alphabet (https://www.crockford.com/base32.html): no
 * I, L, O or U, so that an id read aloud or copied by hand survives. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define ID_BODY 8 /* 40 random bits */
#define ID_LEN (2 + ID_BODY + 1)
_Static_assert(ID_LEN < DK_RECEIPT_ID_SIZE, "receipt id buffer too small");

#define HEADER "dropkiosk receipt v1"
#define KEY_PREFIX "Key: "
#define SIG_PREFIX "Signature: "

/* A payload larger than one QR code holds (2331 bytes in 8-bit mode at
 * level M) cannot come from a kiosk; the limit keeps hostile input small. */
#define PAYLOAD_MAX 4096

/* "ed25519:" and the first 8 bytes of SHA-256(public key) in hex. */
#define FPR_BYTES 8
#define FPR_SIZE (8 + FPR_BYTES * 2 + 1)

_Static_assert(DK_RECEIPT_FINGERPRINT_SIZE ==
                   7 + sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                                 sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
               "fingerprint buffer size");

#define SIG_B64_SIZE                                                        \
    sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)

/* Key files are one text line: a label naming what the file holds, a space,
 * and base64 (RFC 4648, padded).  The secret file keeps the 32-byte seed,
 * from which libsodium derives the whole key pair, so that the two halves
 * can never disagree. */
#define SECRET_LABEL "dropkiosk-receipt-secret-v1"
#define PUBLIC_LABEL "dropkiosk-receipt-public-v1"
#define KEY_FILE_MAX 256

#define QR_MARGIN 4 /* modules of quiet zone (ISO/IEC 18004 section 6.3.8) */
#define QR_SCALE 6  /* pixels a module in the PNG */

/* Terminal colours: the 256-colour cube's pure black (16) on pure white
 * (231).  The 16 basic ANSI colours are remapped by terminal themes (a
 * "white" background is often grey or beige, "black" often dark blue), and
 * a phone needs contrast; the cube entries are left alone by most themes.
 * Setting both colours also makes the code read the same on a dark-on-light
 * and a light-on-dark terminal. */
#define TERM_COLOURS "\033[38;5;16;48;5;231m"
#define TERM_RESET "\033[0m"

static bool sodium_ready(void)
{
    return sodium_init() >= 0;
}

/* ---- receipt ids ------------------------------------------------------ */

static int crockford_value(char c)
{
    const char *p;

    switch (c) {
    case 'o':
    case 'O':
        return 0;
    case 'i':
    case 'I':
    case 'l':
    case 'L':
        return 1;
    default:
        break;
    }
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    p = c != '\0' ? strchr(crockford, c) : NULL;
    return p != NULL ? (int)(p - crockford) : -1;
}

/* Luhn mod 32 (the Luhn mod N algorithm with N = 32): from the rightmost
 * value leftwards, every other value is doubled and its base-32 digits
 * summed.  With start_factor 2 over the body it yields the check value that
 * makes the whole id sum to 0 mod 32; with start_factor 1 over body and check
 * it yields that sum.  It catches every single wrong character and most
 * swaps of two neighbours, and keeps the check in the base32 alphabet
 * (Crockford's own mod 37 check needs five extra symbols). */
static int luhn32(const int *values, size_t n, int start_factor)
{
    int factor = start_factor;
    int sum = 0;

    for (size_t i = n; i-- > 0;) {
        int addend = factor * values[i];

        addend = addend / 32 + addend % 32;
        sum += addend;
        factor = factor == 2 ? 1 : 2;
    }
    return sum % 32;
}

void receipt_new_id(char out[DK_RECEIPT_ID_SIZE])
{
    int values[ID_BODY];

    if (!sodium_ready()) {
        /* Without a working random source no id is safe to hand out. */
        log_error("cannot initialise libsodium for receipt ids");
        abort();
    }
    out[0] = 'R';
    out[1] = '-';
    for (size_t i = 0; i < ID_BODY; i++) {
        values[i] = (int)randombytes_uniform(32);
        out[2 + i] = crockford[values[i]];
    }
    out[2 + ID_BODY] = crockford[(32 - luhn32(values, ID_BODY, 2)) % 32];
    out[ID_LEN] = '\0';
}

/* Fill out (when not NULL) with the id in canonical upper case. */
static bool id_normalise(const char *id, char *out)
{
    int values[ID_BODY + 1];

    if (id == NULL || strlen(id) != ID_LEN)
        return false;
    if ((id[0] != 'R' && id[0] != 'r') || id[1] != '-')
        return false;
    for (size_t i = 0; i < ID_BODY + 1; i++) {
        values[i] = crockford_value(id[2 + i]);
        if (values[i] < 0)
            return false;
    }
    if (luhn32(values, ID_BODY + 1, 1) != 0)
        return false;
    if (out != NULL) {
        out[0] = 'R';
        out[1] = '-';
        for (size_t i = 0; i < ID_BODY + 1; i++)
            out[2 + i] = crockford[values[i]];
        out[ID_LEN] = '\0';
    }
    return true;
}

bool receipt_id_valid(const char *id)
{
    return id_normalise(id, NULL);
}

/* ---- payload text ----------------------------------------------------- */

/* A text buffer that grows up to PAYLOAD_MAX and then refuses. */
struct dk_text {
    char *p;
    size_t len;
    bool too_long;
    bool no_memory;
};

/* The whole maximum is allocated at once: it is small, and one allocation
 * is one way to fail. */
static bool text_reserve(struct dk_text *t, size_t more)
{
    if (t->too_long || t->no_memory)
        return false;
    if (more > PAYLOAD_MAX - t->len) {
        t->too_long = true;
        return false;
    }
    if (t->p == NULL && (t->p = malloc(PAYLOAD_MAX + 1)) == NULL) {
        t->no_memory = true;
        return false;
    }
    return true;
}

static int text_error(const struct dk_text *t, const char *what, struct dk_error *err)
{
    if (t->too_long)
        return dk_error_set(err, DK_EINPUT, "%s is longer than %d bytes", what,
                            PAYLOAD_MAX);
    if (t->no_memory)
        return dk_error_set(err, -ENOMEM, "cannot build %s: out of memory", what);
    return 0;
}

/* Append one formatted line, without its trailing CR and spaces, and a
 * "\n": the canonical form that is signed. */
static bool text_line(struct dk_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool text_line(struct dk_text *t, const char *fmt, ...)
{
    char line[PAYLOAD_MAX + 1];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        t->too_long = true;
        return false;
    }
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\r'))
        n--;
    if (!text_reserve(t, (size_t)n + 1))
        return false;
    memcpy(t->p + t->len, line, (size_t)n);
    t->len += (size_t)n;
    t->p[t->len++] = '\n';
    t->p[t->len] = '\0';
    return true;
}

static void key_fingerprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                            char out[FPR_SIZE])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, pk, crypto_sign_PUBLICKEYBYTES);
    memcpy(out, "ed25519:", 8);
    sodium_bin2hex(out + 8, FPR_SIZE - 8, digest, FPR_BYTES);
}

/* Fields end up as lines of the payload: a line break would let one field
 * forge another line, and other control characters have no business on a
 * receipt (they would reach terminals and printers). */
static int check_field(const char *what, const char *value, struct dk_error *err)
{
    if (value == NULL)
        return dk_error_set(err, DK_EINPUT, "receipt %s is missing", what);
    for (const char *p = value; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\r' || c == '\n')
            return dk_error_set(err, DK_EINPUT, "receipt %s holds a line break", what);
        if (c < 0x20 || c == 0x7f)
            return dk_error_set(err, DK_EINPUT,
                                "receipt %s holds control character 0x%02x", what, c);
    }
    return 0;
}

static int check_receipt(const struct dk_receipt *r, struct dk_error *err)
{
    int rc;

    if (r == NULL)
        return dk_error_set(err, DK_EINPUT, "no receipt to sign");
    if ((rc = check_field("district", r->district, err)) != 0 ||
        (rc = check_field("id", r->id, err)) != 0 ||
        (rc = check_field("site", r->site, err)) != 0 ||
        (rc = check_field("kiosk", r->kiosk, err)) != 0)
        return rc;
    if (!receipt_id_valid(r->id))
        return dk_error_set(err, DK_EINPUT, "receipt id \"%s\" is not a valid receipt id",
                            r->id);
    if (r->n_devices == 0 || r->devices == NULL)
        return dk_error_set(err, DK_EINPUT, "a receipt lists at least one device");
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct dk_receipt_device *d = &r->devices[i];

        if ((rc = check_field("device tag", d->tag, err)) != 0)
            return rc;
        if (d->model != NULL && (rc = check_field("device model", d->model, err)) != 0)
            return rc;
    }
    return 0;
}

static int format_time(time_t when, char *out, size_t size, struct dk_error *err)
{
    struct tm tm;

    if (localtime_r(&when, &tm) == NULL)
        return dk_error_set(err, DK_EINPUT, "receipt time %lld is out of range",
                            (long long)when);
    if (strftime(out, size, "%Y-%m-%d %H:%M %Z", &tm) == 0)
        return dk_error_set(err, DK_EINPUT, "cannot format receipt time %lld",
                            (long long)when);
    return 0;
}

/* Every line before the signature: header, fields, devices, key. */
static void write_body(struct dk_text *t, const struct dk_receipt *r, const char *id,
                       const char *when, const char *fpr)
{
    text_line(t, "%s", HEADER);
    text_line(t, "District: %s", r->district);
    text_line(t, "Receipt: %s", id);
    text_line(t, "Site: %s", r->site);
    text_line(t, "Kiosk: %s", r->kiosk);
    text_line(t, "Time: %s", when);
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct dk_receipt_device *d = &r->devices[i];

        text_line(t, "Device: %s | %s | charger %s", d->tag,
                  d->model != NULL ? d->model : "unknown device",
                  d->charger ? "yes" : "no");
    }
    text_line(t, "%s%s", KEY_PREFIX, fpr);
}

int receipt_sign(const struct dk_receipt *r, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
                 char **payload, struct dk_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    char sig_b64[SIG_B64_SIZE];
    struct dk_text t = {0};
    char id[DK_RECEIPT_ID_SIZE];
    char fpr[FPR_SIZE];
    char when[64];
    int rc;

    *payload = NULL;
    if (!sodium_ready())
        return dk_error_set(err, -ENOSYS, "cannot initialise libsodium");
    rc = check_receipt(r, err);
    if (rc != 0)
        goto out;
    id_normalise(r->id, id);
    rc = format_time(r->when, when, sizeof(when), err);
    if (rc != 0)
        goto out;

    crypto_sign_ed25519_sk_to_pk(pk, sk);
    key_fingerprint(pk, fpr);
    write_body(&t, r, id, when, fpr);
    rc = text_error(&t, "the receipt", err);
    if (rc != 0)
        goto out;

    crypto_sign_detached(sig, NULL, (const unsigned char *)t.p, t.len, sk);
    sodium_bin2base64(sig_b64, sizeof(sig_b64), sig, sizeof(sig),
                      sodium_base64_VARIANT_ORIGINAL);
    text_line(&t, "%s%s", SIG_PREFIX, sig_b64);
    rc = text_error(&t, "the signed receipt", err);
    if (rc != 0)
        goto out;
    *payload = t.p;
    t.p = NULL;
    rc = 0;
out:
    free(t.p);
    return rc;
}

/* ---- verification ----------------------------------------------------- */

/* The next line of [*cur, end) without its LF, trailing CRs and spaces. */
static bool next_line(const char **cur, const char *end, const char **line, size_t *n)
{
    const char *p = *cur;
    const char *nl;

    if (p >= end)
        return false;
    nl = memchr(p, '\n', (size_t)(end - p));
    *line = p;
    *n = (size_t)((nl != NULL ? nl : end) - p);
    *cur = nl != NULL ? nl + 1 : end;
    while (*n > 0 && (p[*n - 1] == '\r' || p[*n - 1] == ' '))
        (*n)--;
    return true;
}

static bool starts_with(const char *line, size_t n, const char *prefix)
{
    size_t plen = strlen(prefix);

    return n >= plen && memcmp(line, prefix, plen) == 0;
}

/* The signer refuses control characters in every field, so a receipt
 * never holds one; refusing them here also keeps them out of the messages
 * that quote the payload back. */
static bool has_control(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

/* What a payload is made of, once split: the canonical text that was
 * signed, the Key line's value and the decoded signature. */
struct dk_parsed {
    struct dk_text canon;
    char key[FPR_SIZE + 32];
    unsigned char sig[crypto_sign_BYTES];
};

static int parse_signature(struct dk_parsed *pp, const char *b64, size_t n,
                           struct dk_error *err)
{
    const char *b64_end = NULL;
    size_t bin_len = 0;

    if (sodium_base642bin(pp->sig, sizeof(pp->sig), b64, n, NULL, &bin_len, &b64_end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bin_len != sizeof(pp->sig) || b64_end != b64 + n)
        return dk_error_set(err, DK_EINPUT,
                            "the Signature line is not a base64 Ed25519 signature (%zu characters)",
                            n);
    return 0;
}

static int parse_payload(const char *payload, size_t len, struct dk_parsed *pp,
                         struct dk_error *err)
{
    const char *cur = payload;
    const char *end = payload + len;
    const char *line;
    size_t n;
    bool have_sig = false;

    if (len > PAYLOAD_MAX)
        return dk_error_set(err, DK_EINPUT,
                            "text of %zu bytes is too long for a receipt (at most %d)", len,
                            PAYLOAD_MAX);
    if (memchr(payload, '\0', len) != NULL)
        return dk_error_set(err, DK_EINPUT, "text holds a NUL byte: not a receipt");
    if (!next_line(&cur, end, &line, &n) || n != strlen(HEADER) ||
        memcmp(line, HEADER, n) != 0)
        return dk_error_set(err, DK_EINPUT, "not a receipt: the first line is not \"%s\"",
                            HEADER);
    text_line(&pp->canon, "%s", HEADER);

    while (next_line(&cur, end, &line, &n)) {
        if (has_control(line, n))
            return dk_error_set(err, DK_EINPUT,
                                "not a receipt: a line holds a control character");
        if (have_sig) {
            if (n != 0)
                return dk_error_set(err, DK_EINPUT,
                                    "not a receipt: text follows the Signature line");
            continue;
        }
        if (starts_with(line, n, SIG_PREFIX)) {
            int rc = parse_signature(pp, line + strlen(SIG_PREFIX),
                                     n - strlen(SIG_PREFIX), err);

            if (rc != 0)
                return rc;
            have_sig = true;
            continue;
        }
        if (starts_with(line, n, KEY_PREFIX))
            snprintf(pp->key, sizeof(pp->key), "%.*s", (int)(n - strlen(KEY_PREFIX)),
                     line + strlen(KEY_PREFIX));
        text_line(&pp->canon, "%.*s", (int)n, line);
    }
    if (!have_sig)
        return dk_error_set(err, DK_EINPUT, "not a receipt: no Signature line");
    if (pp->key[0] == '\0')
        return dk_error_set(err, DK_EINPUT, "not a receipt: no Key line");
    return text_error(&pp->canon, "the receipt text", err);
}

int receipt_verify(const char *payload, size_t len,
                   const unsigned char pk[crypto_sign_PUBLICKEYBYTES], struct dk_error *err)
{
    struct dk_parsed pp = {0};
    char fpr[FPR_SIZE];
    bool same_key;
    int rc;

    if (!sodium_ready())
        return dk_error_set(err, -ENOSYS, "cannot initialise libsodium");
    if (payload == NULL)
        return dk_error_set(err, DK_EINPUT, "no receipt text");
    rc = parse_payload(payload, len, &pp, err);
    if (rc != 0)
        goto out;

    key_fingerprint(pk, fpr);
    same_key = strcmp(pp.key, fpr) == 0;
    if (crypto_sign_verify_detached(pp.sig, (const unsigned char *)pp.canon.p, pp.canon.len,
                                    pk) != 0) {
        if (!same_key)
            rc = dk_error_set(err, DK_EFORGED,
                              "receipt is not signed by this key: it names %s, this key is %s",
                              pp.key, fpr);
        else
            rc = dk_error_set(err, DK_EFORGED,
                              "receipt is forged or altered: its signature does not match");
        goto out;
    }
    /* Only the key's holder can get here with a wrong Key line, but a
     * receipt that misnames its own key is not one the kiosk wrote. */
    if (!same_key) {
        rc = dk_error_set(err, DK_EFORGED,
                          "receipt names key %s but was signed by %s", pp.key, fpr);
        goto out;
    }
    rc = 0;
out:
    free(pp.canon.p);
    return rc;
}

/* ---- key files -------------------------------------------------------- */

/* Create path (never replacing a file already there) holding text, with
 * exactly mode, whatever the umask. */
static int write_new_file(const char *path, mode_t mode, const char *text,
                          struct dk_error *err)
{
    int rc = file_write_new(path, mode, text, strlen(text));

    if (rc == -EEXIST)
        return dk_error_set(err, rc, "refusing to overwrite %s: it already exists", path);
    if (rc != 0)
        return dk_error_set(err, rc, "cannot write %s: %s", path, strerror(-rc));
    return 0;
}

static void key_line(char *out, size_t size, const char *label, const unsigned char *key,
                     size_t key_len)
{
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

    sodium_bin2base64(b64, sizeof(b64), key, key_len, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, size, "%s %s\n", label, b64);
    sodium_memzero(b64, sizeof(b64));
}

int receipt_keygen(const char *sk_path, const char *pk_path, struct dk_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char seed[crypto_sign_SEEDBYTES];
    char sk_text[KEY_FILE_MAX];
    char pk_text[KEY_FILE_MAX];
    int rc;

    if (!sodium_ready())
        return dk_error_set(err, -ENOSYS, "cannot initialise libsodium");
    crypto_sign_keypair(pk, sk);
    crypto_sign_ed25519_sk_to_seed(seed, sk);
    key_line(sk_text, sizeof(sk_text), SECRET_LABEL, seed, sizeof(seed));
    key_line(pk_text, sizeof(pk_text), PUBLIC_LABEL, pk, sizeof(pk));

    rc = write_new_file(sk_path, 0600, sk_text, err);
    if (rc != 0)
        goto out;
    rc = write_new_file(pk_path, 0644, pk_text, err);
    if (rc != 0) {
        /* A secret key without its public half is of no use, and leaving it
         * would make the next keygen refuse. */
        unlink(sk_path);
        file_sync_parent(sk_path);
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk_text, sizeof(sk_text));
    return rc;
}

static int read_small_file(const char *path, char *buf, size_t size, bool secret,
                           struct dk_error *err)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_path(path, size - 1, &text, &len);

    if (rc == -EINVAL || rc == -EFBIG || (rc == 0 && len == 0))
        rc = dk_error_set(err, DK_EINPUT,
                          "key file %s is not a key file: expected one line of under %zu bytes",
                          path, size);
    else if (rc == -EACCES || rc == -EPERM)
        /* The setup's to fix, not a runtime failure: exit 2, so that
         * systemd does not restart the service every 5 seconds for ever. */
        rc = owner_unreadable("", "key file", path, rc,
                              secret ? DK_OWNER_OWN : DK_OWNER_GROUP_READ, err);
    else if (rc != 0)
        rc = dk_error_set(err, rc, "cannot open key file %s: %s", path, strerror(-rc));
    if (rc == 0 && secret && stat(path, &st) == 0 && (st.st_mode & 077) != 0)
        log_warn("secret key file %s can be read by others (mode %04o); chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
    if (rc == 0)
        memcpy(buf, text, len + 1);
    if (text != NULL)
        sodium_memzero(text, len);
    free(text);
    return rc;
}

/* Parse "LABEL BASE64\n" into exactly key_len bytes. */
static int parse_key_file(const char *path, char *text, const char *label,
                          unsigned char *key, size_t key_len, struct dk_error *err)
{
    size_t n = strlen(text);
    size_t label_len = strlen(label);
    const char *b64_end = NULL;
    size_t bin_len = 0;
    bool want_secret = strcmp(label, SECRET_LABEL) == 0;
    const char *other = want_secret ? PUBLIC_LABEL : SECRET_LABEL;

    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (strncmp(text, other, strlen(other)) == 0)
        return dk_error_set(err, DK_EINPUT, "key file %s holds a %s key, not a %s key", path,
                            want_secret ? "public" : "secret",
                            want_secret ? "secret" : "public");
    if (n <= label_len || strncmp(text, label, label_len) != 0 || text[label_len] != ' ')
        return dk_error_set(err, DK_EINPUT, "key file %s does not start with \"%s \"", path,
                            label);
    if (sodium_base642bin(key, key_len, text + label_len + 1, n - label_len - 1, NULL,
                          &bin_len, &b64_end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        b64_end != text + n || bin_len != key_len)
        return dk_error_set(err, DK_EINPUT, "key file %s: the key is not %zu bytes of base64",
                            path, key_len);
    return 0;
}

int receipt_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                        struct dk_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char seed[crypto_sign_SEEDBYTES];
    char text[KEY_FILE_MAX];
    int rc;

    if (!sodium_ready())
        return dk_error_set(err, -ENOSYS, "cannot initialise libsodium");
    rc = read_small_file(path, text, sizeof(text), true, err);
    if (rc != 0)
        goto out;
    rc = parse_key_file(path, text, SECRET_LABEL, seed, sizeof(seed), err);
    if (rc != 0)
        goto out;
    crypto_sign_seed_keypair(pk, sk, seed);
out:
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(text, sizeof(text));
    return rc;
}

int receipt_load_public(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                        struct dk_error *err)
{
    char text[KEY_FILE_MAX];
    int rc;

    if (!sodium_ready())
        return dk_error_set(err, -ENOSYS, "cannot initialise libsodium");
    rc = read_small_file(path, text, sizeof(text), false, err);
    if (rc != 0)
        return rc;
    return parse_key_file(path, text, PUBLIC_LABEL, pk, crypto_sign_PUBLICKEYBYTES, err);
}

void receipt_fingerprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                         char out[DK_RECEIPT_FINGERPRINT_SIZE])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, pk, crypto_sign_PUBLICKEYBYTES);
    memcpy(out, "SHA256:", 7);
    sodium_bin2base64(out + 7, DK_RECEIPT_FINGERPRINT_SIZE - 7, digest, sizeof(digest),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int receipt_check_public(const char *pk_path, const char *sk_path,
                         const unsigned char sk[crypto_sign_SECRETKEYBYTES],
                         struct dk_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char want[crypto_sign_PUBLICKEYBYTES];
    int rc = receipt_load_public(pk_path, pk, err);

    if (rc != 0)
        return rc;
    crypto_sign_ed25519_sk_to_pk(want, sk);
    if (sodium_memcmp(pk, want, sizeof(pk)) != 0)
        return dk_error_set(err, DK_EINPUT,
                            "public key %s does not match the signing key %s: receipts "
                            "signed with it would not verify with that public key",
                            pk_path, sk_path);
    return 0;
}

/* ---- QR codes --------------------------------------------------------- */

int receipt_qr_encode(const unsigned char *payload, size_t len, QRcode **qr,
                      struct dk_error *err)
{
    *qr = NULL;
    if (len == 0)
        return dk_error_set(err, DK_EINPUT, "receipt payload is empty: nothing to put in a "
                            "QR code");
    if (len > INT_MAX)
        return dk_error_set(err, DK_EINPUT,
                            "receipt payload of %zu bytes does not fit one QR code "
                            "(2331 bytes at most)", len);
    /* 8-bit mode keeps the bytes exactly as given; the text modes would
     * reinterpret them (Kanji mode assumes Shift JIS). */
    *qr = QRcode_encodeData((int)len, payload, 0, QR_ECLEVEL_M);
    if (*qr == NULL) {
        if (errno == ERANGE)
            return dk_error_set(err, DK_EINPUT,
                                "receipt payload of %zu bytes does not fit one QR code "
                                "(2331 bytes at most)", len);
        return dk_error_set(err, -errno, "cannot encode receipt QR code: %s", strerror(errno));
    }
    return 0;
}

static int qr_encode(const char *payload, QRcode **qr, struct dk_error *err)
{
    return receipt_qr_encode((const unsigned char *)payload,
                             payload != NULL ? strlen(payload) : 0, qr, err);
}

static bool qr_dark(const QRcode *qr, int row, int col)
{
    int w = qr->width;

    row -= QR_MARGIN;
    col -= QR_MARGIN;
    if (row < 0 || col < 0 || row >= w || col >= w)
        return false;
    return (qr->data[(size_t)row * (size_t)w + (size_t)col] & 1) != 0;
}

/* The PNG grows in memory up to a maximum far above any QR code's size. */
#define PNG_MAX (8u << 20)

struct dk_png_out {
    unsigned char *p;
    size_t len;
    size_t cap;
    struct dk_error *err;
};

static void png_out_write(png_structp png, png_bytep data, size_t n)
{
    struct dk_png_out *o = png_get_io_ptr(png);

    if (n > PNG_MAX - o->len)
        png_error(png, "QR image too large");
    if (o->len + n > o->cap) {
        size_t cap = o->cap != 0 ? o->cap : 4096;
        unsigned char *p;

        while (cap < o->len + n)
            cap *= 2;
        p = realloc(o->p, cap);
        if (p == NULL)
            png_error(png, "out of memory");
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, data, n);
    o->len += n;
}

static void png_out_flush(png_structp png)
{
    (void)png;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    struct dk_png_out *o = png_get_error_ptr(png);

    dk_error_set(o->err, -EIO, "cannot write QR image: %s", msg);
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
    (void)png;
    log_debug("libpng while writing QR image: %s", msg);
}

/* One bit a pixel, grey: 1 is white.  All allocation happens before setjmp
 * so that nothing changes between it and a longjmp back. */
static int qr_write_png(const QRcode *qr, struct dk_png_out *o)
{
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *row = NULL;
    int modules = qr->width + 2 * QR_MARGIN;
    png_uint_32 side = (png_uint_32)modules * QR_SCALE;
    size_t row_bytes = (side + 7) / 8;
    int rc = -ENOMEM;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, o, png_fail, png_warn);
    if (png != NULL)
        info = png_create_info_struct(png);
    row = malloc(row_bytes);
    if (png == NULL || info == NULL || row == NULL) {
        dk_error_set(o->err, rc, "cannot write QR image: out of memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        rc = -EIO;
        goto out;
    }
    png_set_write_fn(png, o, png_out_write, png_out_flush);
    png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (png_uint_32 y = 0; y < side; y++) {
        memset(row, 0, row_bytes);
        for (png_uint_32 x = 0; x < side; x++) {
            if (!qr_dark(qr, (int)(y / QR_SCALE), (int)(x / QR_SCALE)))
                row[x / 8] |= (unsigned char)(0x80u >> (x % 8));
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    rc = 0;
out:
    png_destroy_write_struct(&png, &info);
    free(row);
    return rc;
}

int receipt_qr_png(const char *payload, unsigned char **png, size_t *len,
                   struct dk_error *err)
{
    struct dk_png_out o = {.err = err};
    QRcode *qr = NULL;
    int rc;

    *png = NULL;
    *len = 0;
    rc = qr_encode(payload, &qr, err);
    if (rc != 0)
        goto out;
    rc = qr_write_png(qr, &o);
    if (rc != 0)
        goto out;
    *png = o.p;
    *len = o.len;
    o.p = NULL;
out:
    free(o.p);
    QRcode_free(qr);
    return rc;
}

/* Upper module, lower module: dark is ink (the foreground colour). */
static const char *const half_blocks[4] = {
    " ",            /* light, light */
    "\xe2\x96\x84", /* light, dark: U+2584 LOWER HALF BLOCK */
    "\xe2\x96\x80", /* dark, light: U+2580 UPPER HALF BLOCK */
    "\xe2\x96\x88", /* dark, dark: U+2588 FULL BLOCK */
};

int receipt_qr_terminal(const char *payload, FILE *out, struct dk_error *err)
{
    QRcode *qr = NULL;
    int fd = fileno(out);
    bool colour = fd >= 0 && isatty(fd);
    int modules;
    int rc;

    rc = qr_encode(payload, &qr, err);
    if (rc != 0)
        return rc;
    modules = qr->width + 2 * QR_MARGIN;
    for (int row = 0; row < modules; row += 2) {
        if (colour)
            fputs(TERM_COLOURS, out);
        for (int col = 0; col < modules; col++) {
            int top = qr_dark(qr, row, col);
            int bottom = row + 1 < modules && qr_dark(qr, row + 1, col);

            fputs(half_blocks[top * 2 + bottom], out);
        }
        /* Reset before the newline, or some terminals paint the rest of
         * the line in the background colour. */
        if (colour)
            fputs(TERM_RESET, out);
        fputc('\n', out);
    }
    if (fflush(out) != 0 || ferror(out))
        rc = dk_error_set(err, -EIO, "cannot write QR code to the terminal");
    QRcode_free(qr);
    return rc;
}
