/* Receipts: ids, signing and verifying, key files, QR codes (PNG and
 * terminal) read back with the zbar image driver.
 *
 * The expected payload and signature below were computed outside this code:
 * the key pair from seed bytes 00..1f with `openssl pkey`, its fingerprint
 * with Python's hashlib, the signature with `openssl pkeyutl -sign -rawin`,
 * and the check characters with a separate Luhn mod 32 script. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "barcode_image.h"
#include "receipt.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#ifdef DK_HAVE_LIBJPEG
#include <jpeglib.h>
#endif

/* 2026-12-04 10:37 in America/New_York (EST, UTC-5). */
#define FIXED_TIME ((time_t)1796398620)

#define KNOWN_PAYLOAD                                                        \
    "dropkiosk receipt v1\n"                                                \
    "District: Richmond Public Schools\n"                                   \
    "Receipt: R-7K3M9QXZJ\n"                                                \
    "Site: Bolling Building\n"                                              \
    "Kiosk: BB-LOBBY-1\n"                                                   \
    "Time: 2026-12-04 10:37 EST\n"                                          \
    "Device: RPS-104233 | Dell Latitude 3420 | charger yes\n"               \
    "Device: RPS-CB-88121 | Lenovo 100e Chromebook | charger no\n"          \
    "Key: ed25519:56475aa75463474c\n"                                       \
    "Signature: eGiaiO1EpsFbO57dNajvNZxHWel9x3/DZk6jk4GMqwkP7OYPrI4Oy"     \
    "CN3tlUFI4ywEsVohDECUB71lVB5WDGjAw==\n"

#define KEY_A_PUBLIC_FILE                                                   \
    "dropkiosk-receipt-public-v1 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n"
#define KEY_A_SECRET_FILE                                                   \
    "dropkiosk-receipt-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"

static const struct dk_receipt_device known_devices[] = {
    {.tag = "RPS-104233", .model = "Dell Latitude 3420", .charger = true},
    {.tag = "RPS-CB-88121", .model = "Lenovo 100e Chromebook", .charger = false},
};

static const struct dk_receipt known_receipt = {
    .id = "R-7K3M9QXZJ",
    .district = "Richmond Public Schools",
    .site = "Bolling Building",
    .kiosk = "BB-LOBBY-1",
    .when = FIXED_TIME,
    .devices = known_devices,
    .n_devices = 2,
};

/* Key A: seed 00 01 .. 1f.  Key B: seed 20 21 .. 3f. */
static void key_from_seed(unsigned char first, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                          unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
    unsigned char seed[crypto_sign_SEEDBYTES];

    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (unsigned char)(first + i);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static int setup_tz(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    setenv("TZ", "America/New_York", 1);
    tzset();
    return 0;
}

static char *sign_known(unsigned char first_seed_byte)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_error err = {{0}};
    char *payload = NULL;

    key_from_seed(first_seed_byte, pk, sk);
    assert_int_equal(receipt_sign(&known_receipt, sk, &payload, &err), 0);
    return payload;
}

static int verify_with_key_a(const char *payload, size_t len, struct dk_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];

    key_from_seed(0x00, pk, sk);
    return receipt_verify(payload, len, pk, err);
}

/* ---- ids -------------------------------------------------------------- */

static void test_id_known_id_validates(void **state)
{
    (void)state;
    assert_true(receipt_id_valid("R-7K3M9QXZJ"));
    assert_true(receipt_id_valid("R-4G8HTW2NG"));
    assert_true(receipt_id_valid("R-000000000"));
}

static void test_id_changed_check_character_fails(void **state)
{
    (void)state;
    assert_false(receipt_id_valid("R-7K3M9QXZK"));
}

static void test_id_changed_body_character_fails(void **state)
{
    (void)state;
    assert_false(receipt_id_valid("R-7K3M9QYZJ"));
}

static void test_id_lower_case_accepted(void **state)
{
    (void)state;
    assert_true(receipt_id_valid("r-7k3m9qxzj"));
}

static void test_id_confusable_letters_read_as_digits(void **state)
{
    (void)state;
    assert_true(receipt_id_valid("R-D0C1B2A36"));
    assert_true(receipt_id_valid("R-DOCIB2A36"));
    assert_true(receipt_id_valid("R-DoClB2A36"));
}

static void test_id_wrong_shape_rejected(void **state)
{
    (void)state;
    assert_false(receipt_id_valid("R-7K3M9QXZ"));
    assert_false(receipt_id_valid("R-7K3M9QXZJ0"));
    assert_false(receipt_id_valid("X-7K3M9QXZJ"));
    assert_false(receipt_id_valid("R_7K3M9QXZJ"));
    assert_false(receipt_id_valid("R-7K3M9QXUJ"));
    assert_false(receipt_id_valid(""));
    assert_false(receipt_id_valid(NULL));
}

static void test_new_id_is_well_formed_and_valid(void **state)
{
    char id[DK_RECEIPT_ID_SIZE];

    (void)state;
    for (int i = 0; i < 1000; i++) {
        receipt_new_id(id);
        assert_int_equal(strlen(id), 11);
        assert_memory_equal(id, "R-", 2);
        assert_int_equal(strspn(id + 2, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 9);
        assert_true(receipt_id_valid(id));
    }
}

/* ---- signing and verifying -------------------------------------------- */

static void test_sign_writes_exact_payload(void **state)
{
    char *payload = sign_known(0x00);

    (void)state;
    assert_string_equal(payload, KNOWN_PAYLOAD);
    free(payload);
}

static void test_sign_normalises_lower_case_id(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_receipt r = known_receipt;
    struct dk_error err = {{0}};
    char *payload = NULL;

    (void)state;
    r.id = "r-7k3m9qxzj";
    key_from_seed(0x00, pk, sk);
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), 0);
    assert_string_equal(payload, KNOWN_PAYLOAD);
    free(payload);
}

static void test_verify_known_payload_is_valid(void **state)
{
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(KNOWN_PAYLOAD, strlen(KNOWN_PAYLOAD), &err), 0);
}

static void test_sign_then_verify_is_valid(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_error err = {{0}};
    struct dk_receipt r = known_receipt;
    char id[DK_RECEIPT_ID_SIZE];
    char *payload = NULL;

    (void)state;
    crypto_sign_keypair(pk, sk);
    receipt_new_id(id);
    r.id = id;
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), 0);
    assert_int_equal(receipt_verify(payload, strlen(payload), pk, &err), 0);
    free(payload);
}

static void test_verify_accepts_crlf_and_trailing_spaces(void **state)
{
    static const char crlf[] =
        "dropkiosk receipt v1\r\n"
        "District: Richmond Public Schools  \r\n"
        "Receipt: R-7K3M9QXZJ\r\n"
        "Site: Bolling Building\r\n"
        "Kiosk: BB-LOBBY-1\r\n"
        "Time: 2026-12-04 10:37 EST\r\n"
        "Device: RPS-104233 | Dell Latitude 3420 | charger yes \r\n"
        "Device: RPS-CB-88121 | Lenovo 100e Chromebook | charger no\r\n"
        "Key: ed25519:56475aa75463474c\r\n"
        "Signature: eGiaiO1EpsFbO57dNajvNZxHWel9x3/DZk6jk4GMqwkP7OYPrI4Oy"
        "CN3tlUFI4ywEsVohDECUB71lVB5WDGjAw==\r\n"
        "\r\n";
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(crlf, strlen(crlf), &err), 0);
}

static void test_verify_changed_device_byte_is_forged(void **state)
{
    char payload[] = KNOWN_PAYLOAD;
    char *tag = strstr(payload, "RPS-104233");
    struct dk_error err = {{0}};

    (void)state;
    assert_non_null(tag);
    tag[9] = '4'; /* RPS-104233 -> RPS-104234 */
    assert_int_equal(verify_with_key_a(payload, strlen(payload), &err), DK_EFORGED);
    assert_string_equal(err.msg, "receipt is forged or altered: its signature does not match");
}

static void test_verify_signature_from_other_key_is_forged(void **state)
{
    char *payload = sign_known(0x20);
    struct dk_error err = {{0}};

    (void)state;
    assert_non_null(strstr(payload, "Key: ed25519:24f6ed6acbfe1009\n"));
    assert_int_equal(verify_with_key_a(payload, strlen(payload), &err), DK_EFORGED);
    assert_string_equal(err.msg, "receipt is not signed by this key: it names "
                                 "ed25519:24f6ed6acbfe1009, this key is "
                                 "ed25519:56475aa75463474c");
    free(payload);
}

static void test_verify_garbage_is_input_error(void **state)
{
    static const char garbage[] = "RPS-104233";
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(garbage, strlen(garbage), &err), DK_EINPUT);
    assert_string_equal(err.msg, "not a receipt: the first line is not \"dropkiosk receipt v1\"");
}

static void test_verify_missing_signature_is_input_error(void **state)
{
    static const char text[] = "dropkiosk receipt v1\n"
                               "Receipt: R-7K3M9QXZJ\n"
                               "Key: ed25519:56475aa75463474c\n";
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(text, strlen(text), &err), DK_EINPUT);
    assert_string_equal(err.msg, "not a receipt: no Signature line");
}

static void test_verify_bad_base64_is_input_error(void **state)
{
    static const char text[] = "dropkiosk receipt v1\n"
                               "Receipt: R-7K3M9QXZJ\n"
                               "Key: ed25519:56475aa75463474c\n"
                               "Signature: not*base64\n";
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(text, strlen(text), &err), DK_EINPUT);
    assert_string_equal(err.msg,
                        "the Signature line is not a base64 Ed25519 signature (10 characters)");
}

static void test_verify_text_after_signature_is_input_error(void **state)
{
    static const char text[] = KNOWN_PAYLOAD "Device: RPS-999 | Free laptop | charger yes\n";
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(verify_with_key_a(text, strlen(text), &err), DK_EINPUT);
    assert_string_equal(err.msg, "not a receipt: text follows the Signature line");
}

static void test_verify_oversized_text_is_input_error(void **state)
{
    size_t len = 5000;
    char *text = malloc(len);
    struct dk_error err = {{0}};

    (void)state;
    assert_non_null(text);
    memset(text, 'A', len);
    memcpy(text, KNOWN_PAYLOAD, strlen(KNOWN_PAYLOAD));
    assert_int_equal(verify_with_key_a(text, len, &err), DK_EINPUT);
    assert_string_equal(err.msg, "text of 5000 bytes is too long for a receipt (at most 4096)");
    free(text);
}

static void test_sign_refuses_line_break_in_field(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_receipt r = known_receipt;
    struct dk_error err = {{0}};
    char *payload = (char *)"untouched";

    (void)state;
    key_from_seed(0x00, pk, sk);
    r.site = "Bolling Building\nDevice: RPS-1 | Free laptop | charger yes";
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), DK_EINPUT);
    assert_null(payload);
    assert_string_equal(err.msg, "receipt site holds a line break");
}

static void test_sign_refuses_carriage_return_in_device_model(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_receipt_device dev = {.tag = "RPS-1", .model = "Dell\rHP", .charger = true};
    struct dk_receipt r = known_receipt;
    struct dk_error err = {{0}};
    char *payload = NULL;

    (void)state;
    key_from_seed(0x00, pk, sk);
    r.devices = &dev;
    r.n_devices = 1;
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), DK_EINPUT);
    assert_string_equal(err.msg, "receipt device model holds a line break");
}

static void test_sign_refuses_invalid_id(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_receipt r = known_receipt;
    struct dk_error err = {{0}};
    char *payload = NULL;

    (void)state;
    key_from_seed(0x00, pk, sk);
    r.id = "R-7K3M9QXZK";
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), DK_EINPUT);
    assert_string_equal(err.msg, "receipt id \"R-7K3M9QXZK\" is not a valid receipt id");
}

/* ---- key files -------------------------------------------------------- */

struct dk_tmpdir {
    char dir[64];
    char sk[96];
    char pk[96];
};

static void tmpdir_make(struct dk_tmpdir *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/dk-receipt-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->sk, sizeof(t->sk), "%s/receipt.key", t->dir);
    snprintf(t->pk, sizeof(t->pk), "%s/receipt.pub", t->dir);
}

static void tmpdir_remove(struct dk_tmpdir *t)
{
    unlink(t->sk);
    unlink(t->pk);
    rmdir(t->dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_keygen_sets_modes_0600_and_0644(void **state)
{
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    struct stat st;
    mode_t old = umask(022);

    (void)state;
    tmpdir_make(&t);
    assert_int_equal(receipt_keygen(t.sk, t.pk, &err), 0);
    assert_int_equal(stat(t.sk, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(t.pk, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    umask(old);
    tmpdir_remove(&t);
}

static void test_keygen_public_key_is_0644_despite_umask_077(void **state)
{
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    struct stat st;
    mode_t old = umask(077);

    (void)state;
    tmpdir_make(&t);
    assert_int_equal(receipt_keygen(t.sk, t.pk, &err), 0);
    assert_int_equal(stat(t.pk, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    umask(old);
    tmpdir_remove(&t);
}

static void test_keygen_refuses_to_overwrite_secret_key(void **state)
{
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char text[64];

    (void)state;
    tmpdir_make(&t);
    write_text(t.sk, "keep me\n");
    assert_int_equal(receipt_keygen(t.sk, t.pk, &err), -EEXIST);
    read_text(t.sk, text, sizeof(text));
    assert_string_equal(text, "keep me\n");
    assert_int_equal(access(t.pk, F_OK), -1);
    tmpdir_remove(&t);
}

static void test_keygen_refuses_to_overwrite_public_key(void **state)
{
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char text[64];

    (void)state;
    tmpdir_make(&t);
    write_text(t.pk, "keep me\n");
    assert_int_equal(receipt_keygen(t.sk, t.pk, &err), -EEXIST);
    read_text(t.pk, text, sizeof(text));
    assert_string_equal(text, "keep me\n");
    assert_int_equal(access(t.sk, F_OK), -1); /* the new secret was removed */
    tmpdir_remove(&t);
}

static void test_keygen_keys_load_sign_and_verify(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char *payload = NULL;

    (void)state;
    tmpdir_make(&t);
    assert_int_equal(receipt_keygen(t.sk, t.pk, &err), 0);
    assert_int_equal(receipt_load_secret(t.sk, sk, &err), 0);
    assert_int_equal(receipt_load_public(t.pk, pk, &err), 0);
    assert_int_equal(receipt_sign(&known_receipt, sk, &payload, &err), 0);
    assert_int_equal(receipt_verify(payload, strlen(payload), pk, &err), 0);
    free(payload);
    tmpdir_remove(&t);
}

static void test_load_known_key_files_sign_known_payload(void **state)
{
    static const unsigned char pk_a[crypto_sign_PUBLICKEYBYTES] = {
        0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd,
        0x18, 0xe7, 0x4b, 0xc0, 0x99, 0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5,
        0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8,
    };
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char *payload = NULL;

    (void)state;
    tmpdir_make(&t);
    write_text(t.sk, KEY_A_SECRET_FILE);
    write_text(t.pk, KEY_A_PUBLIC_FILE);
    assert_int_equal(receipt_load_public(t.pk, pk, &err), 0);
    assert_memory_equal(pk, pk_a, sizeof(pk_a));
    assert_int_equal(receipt_load_secret(t.sk, sk, &err), 0);
    assert_int_equal(receipt_sign(&known_receipt, sk, &payload, &err), 0);
    assert_string_equal(payload, KNOWN_PAYLOAD);
    free(payload);
    tmpdir_remove(&t);
}

static void test_load_secret_refuses_public_key_file(void **state)
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char want[256];

    (void)state;
    tmpdir_make(&t);
    write_text(t.sk, KEY_A_PUBLIC_FILE);
    assert_int_equal(receipt_load_secret(t.sk, sk, &err), DK_EINPUT);
    snprintf(want, sizeof(want), "key file %s holds a public key, not a secret key", t.sk);
    assert_string_equal(err.msg, want);
    tmpdir_remove(&t);
}

static void test_load_public_refuses_short_key(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char want[256];

    (void)state;
    tmpdir_make(&t);
    write_text(t.pk, "dropkiosk-receipt-public-v1 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f\n");
    assert_int_equal(receipt_load_public(t.pk, pk, &err), DK_EINPUT);
    snprintf(want, sizeof(want), "key file %s: the key is not 32 bytes of base64", t.pk);
    assert_string_equal(err.msg, want);
    tmpdir_remove(&t);
}

static void test_load_public_missing_file_is_enoent(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(receipt_load_public("/nonexistent/receipt.pub", pk, &err), -ENOENT);
    assert_string_equal(err.msg,
                        "cannot open key file /nonexistent/receipt.pub: No such file or directory");
}

/* Key A's fingerprint was computed outside this code, with Python:
 * "SHA256:" + base64(hashlib.sha256(pk).digest()) without its "=". */
static void test_fingerprint_of_known_key(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    char fpr[DK_RECEIPT_FINGERPRINT_SIZE];

    (void)state;
    key_from_seed(0x00, pk, sk);
    receipt_fingerprint(pk, fpr);
    assert_string_equal(fpr, "SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw");
}

static void test_check_public_accepts_matching_key_file(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};

    (void)state;
    tmpdir_make(&t);
    write_text(t.pk, KEY_A_PUBLIC_FILE);
    key_from_seed(0x00, pk, sk);
    assert_int_equal(receipt_check_public(t.pk, t.sk, sk, &err), 0);
    tmpdir_remove(&t);
}

static void test_check_public_refuses_other_key_naming_both_files(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_tmpdir t;
    struct dk_error err = {{0}};
    char want[512];

    (void)state;
    tmpdir_make(&t);
    write_text(t.pk, KEY_A_PUBLIC_FILE);
    key_from_seed(0x20, pk, sk);
    assert_int_equal(receipt_check_public(t.pk, t.sk, sk, &err), DK_EINPUT);
    snprintf(want, sizeof(want),
             "public key %s does not match the signing key %s: receipts signed with it "
             "would not verify with that public key", t.pk, t.sk);
    assert_string_equal(err.msg, want);
    tmpdir_remove(&t);
}

static void test_check_public_missing_file_is_enoent(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_error err = {{0}};

    (void)state;
    key_from_seed(0x00, pk, sk);
    assert_int_equal(receipt_check_public("/nonexistent/receipt.pub", "/nonexistent/receipt.key",
                                          sk, &err), -ENOENT);
}

/* ---- QR codes --------------------------------------------------------- */

struct dk_seen {
    int calls;
    char symbology[32];
    char *data;
    size_t len;
};

static void remember_symbol(const char *symbology, const char *data, size_t len, void *user)
{
    struct dk_seen *seen = user;

    seen->calls++;
    snprintf(seen->symbology, sizeof(seen->symbology), "%s", symbology);
    free(seen->data);
    seen->data = malloc(len + 1);
    assert_non_null(seen->data);
    memcpy(seen->data, data, len + 1); /* the NUL the header promises too */
    seen->len = len;
}

/* Encode text as a PNG QR code, decode it, and check the bytes match. */
static void assert_png_round_trip(const char *text)
{
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    assert_int_equal(receipt_qr_png(text, &png, &len, &err), 0);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    assert_int_equal(barcode_image_decode_buffer(png, len, remember_symbol, &seen, &err), 1);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_int_equal(seen.len, strlen(text));
    assert_memory_equal(seen.data, text, seen.len);
    assert_int_equal(seen.data[seen.len], '\0');
    free(seen.data);
    free(png);
}

static void test_qr_png_decodes_to_exact_payload(void **state)
{
    (void)state;
    assert_png_round_trip(KNOWN_PAYLOAD);
}

static void test_qr_png_keeps_accented_latin(void **state)
{
    (void)state;
    assert_png_round_trip("Recibo de devolución: José Peña, Escuela Año Nuevo");
}

static void test_qr_png_keeps_vietnamese(void **state)
{
    (void)state;
    assert_png_round_trip("Biên nhận trả thiết bị: Nguyễn Thị Hồng Nhung");
}

static void test_qr_png_keeps_chinese(void **state)
{
    (void)state;
    assert_png_round_trip("设备归还收据：王小明，笔记本电脑和充电器");
}

static void test_qr_png_keeps_arabic(void **state)
{
    (void)state;
    assert_png_round_trip("إيصال إرجاع جهاز: أحمد الخطيب، "
                          "حاسوب محمول مع الشاحن");
}

/* ISO 8859-1 bytes, not UTF-8: without ZBAR_CFG_BINARY zbar would guess a
 * character set and hand back UTF-8, two bytes for each of these. */
static void test_qr_png_keeps_non_utf8_bytes(void **state)
{
    (void)state;
    assert_png_round_trip("Jos\xe9 Pe\xf1" "a, Escuela A\xf1" "o Nuevo");
}

static void test_qr_png_signed_accented_receipt_verifies_after_scan(void **state)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    struct dk_receipt_device dev = {.tag = "RPS-55012", .model = "Portátil HP 250 G8",
                                    .charger = false};
    struct dk_receipt r = known_receipt;
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    char *payload = NULL;
    size_t len = 0;

    (void)state;
    key_from_seed(0x00, pk, sk);
    r.site = "Escuela José Peña";
    r.devices = &dev;
    r.n_devices = 1;
    assert_int_equal(receipt_sign(&r, sk, &payload, &err), 0);
    assert_non_null(strstr(payload, "\nSite: Escuela José Peña\n"));
    assert_non_null(strstr(payload, "\nDevice: RPS-55012 | Portátil HP 250 G8 | charger no\n"));
    assert_int_equal(receipt_qr_png(payload, &png, &len, &err), 0);
    assert_int_equal(barcode_image_decode_buffer(png, len, remember_symbol, &seen, &err), 1);
    assert_int_equal(receipt_verify(seen.data, seen.len, pk, &err), 0);
    free(seen.data);
    free(png);
    free(payload);
}

static void test_qr_png_refuses_payload_too_large(void **state)
{
    char *text = malloc(3001);
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(text);
    memset(text, 'x', 3000);
    text[3000] = '\0';
    assert_int_equal(receipt_qr_png(text, &png, &len, &err), DK_EINPUT);
    assert_null(png);
    assert_string_equal(err.msg, "receipt payload of 3000 bytes does not fit one QR code "
                                 "(2331 bytes at most)");
    free(text);
}

/* Write an 8-bit grey image as PNG into memory, for the decoder. */
static void grey_png(const unsigned char *pix, unsigned w, unsigned h, unsigned char **out,
                     size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);

    assert_non_null(f);
    assert_non_null(info);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < h; y++)
        png_write_row(png, pix + (size_t)y * w);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(f), 0);
    *out = (unsigned char *)buf;
    *out_len = len;
}

#define GRID_MAX 200

/* The module grid read back from half-block text; ANSI colour sequences
 * and CRs (a tty's ONLCR) are skipped. */
struct dk_grid {
    unsigned char dark[GRID_MAX][GRID_MAX];
    int rows;
    int cols;
};

static void grid_from_terminal(const char *text, struct dk_grid *g)
{
    int col = 0;

    memset(g, 0, sizeof(*g));
    for (const char *p = text; *p != '\0';) {
        int top = -1;
        int bottom = -1;

        if (*p == '\033') {
            p++;
            assert_int_equal(*p, '[');
            while (*p != '\0' && *p != 'm')
                p++;
            assert_int_equal(*p, 'm');
            p++;
            continue;
        }
        if (*p == '\r') {
            p++;
            continue;
        }
        if (*p == '\n') {
            assert_true(g->cols == 0 || g->cols == col);
            g->cols = col;
            col = 0;
            g->rows += 2;
            p++;
            continue;
        }
        if (*p == ' ') {
            top = 0, bottom = 0, p += 1;
        } else if (strncmp(p, "\xe2\x96\x80", 3) == 0) {
            top = 1, bottom = 0, p += 3;
        } else if (strncmp(p, "\xe2\x96\x84", 3) == 0) {
            top = 0, bottom = 1, p += 3;
        } else if (strncmp(p, "\xe2\x96\x88", 3) == 0) {
            top = 1, bottom = 1, p += 3;
        } else {
            fail_msg("unexpected byte 0x%02x in terminal QR", (unsigned char)*p);
        }
        assert_true(g->rows + 1 < GRID_MAX && col < GRID_MAX);
        g->dark[g->rows][col] = (unsigned char)top;
        g->dark[g->rows + 1][col] = (unsigned char)bottom;
        col++;
    }
    assert_int_equal(col, 0); /* ends with a newline */
}

#define GRID_SCALE 4

/* The grid drawn at GRID_SCALE pixels a module, 8-bit grey; caller frees. */
static unsigned char *grid_pixels(const struct dk_grid *g, unsigned *w, unsigned *h)
{
    unsigned char *pix;

    *w = (unsigned)g->cols * GRID_SCALE;
    *h = (unsigned)g->rows * GRID_SCALE;
    pix = malloc((size_t)*w * *h);
    assert_non_null(pix);
    for (unsigned y = 0; y < *h; y++)
        for (unsigned x = 0; x < *w; x++)
            pix[(size_t)y * *w + x] = g->dark[y / GRID_SCALE][x / GRID_SCALE] ? 0 : 255;
    return pix;
}

static void assert_image_decodes_to(const unsigned char *img, size_t len, const char *text)
{
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};

    assert_int_equal(barcode_image_decode_buffer(img, len, remember_symbol, &seen, &err), 1);
    assert_string_equal(seen.symbology, "QR-Code");
    assert_int_equal(seen.len, strlen(text));
    assert_memory_equal(seen.data, text, seen.len);
    free(seen.data);
}

/* Draw the grid as a PNG and decode it with zbar. */
static void assert_grid_decodes_to(const struct dk_grid *g, const char *text)
{
    unsigned w;
    unsigned h;
    unsigned char *pix = grid_pixels(g, &w, &h);
    unsigned char *png = NULL;
    size_t len = 0;

    grey_png(pix, w, h, &png, &len);
    assert_image_decodes_to(png, len, text);
    free(png);
    free(pix);
}

static char *terminal_text(const char *payload)
{
    struct dk_error err = {{0}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(receipt_qr_terminal(payload, f, &err), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_qr_terminal_decodes_to_exact_payload(void **state)
{
    static struct dk_grid grid;
    char *text = terminal_text(KNOWN_PAYLOAD);

    (void)state;
    grid_from_terminal(text, &grid);
    assert_grid_decodes_to(&grid, KNOWN_PAYLOAD);
    free(text);
}

static void test_qr_terminal_decodes_chinese_payload(void **state)
{
    static const char payload[] = "设备归还收据：王小明";
    static struct dk_grid grid;
    char *text = terminal_text(payload);

    (void)state;
    grid_from_terminal(text, &grid);
    assert_grid_decodes_to(&grid, payload);
    free(text);
}

static void test_qr_terminal_has_four_module_quiet_zone(void **state)
{
    static struct dk_grid grid;
    char *text = terminal_text("R-7K3M9QXZJ");

    (void)state;
    grid_from_terminal(text, &grid);
    /* Version 1 is 21 modules; 4 light modules each side make 29, drawn as
     * 15 lines of 29 characters (the last line's lower half is padding). */
    assert_int_equal(grid.cols, 29);
    assert_int_equal(grid.rows, 30);
    for (int r = 0; r < grid.rows; r++) {
        for (int c = 0; c < grid.cols; c++) {
            if (r < 4 || r >= 25 || c < 4 || c >= 25)
                assert_int_equal(grid.dark[r][c], 0);
        }
    }
    /* The finder pattern's dark corner sits just inside the quiet zone. */
    assert_int_equal(grid.dark[4][4], 1);
    free(text);
}

static void test_qr_terminal_is_plain_text_when_not_a_tty(void **state)
{
    char *text = terminal_text("R-7K3M9QXZJ");
    int lines = 0;

    (void)state;
    assert_null(strchr(text, '\033'));
    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 15);
    free(text);
}

static void test_qr_terminal_sets_colours_on_a_tty(void **state)
{
    static const char payload[] = "R-7K3M9QXZJ";
    static struct dk_grid grid;
    static char text[16384];
    struct dk_error err = {{0}};
    size_t len = 0;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int slave_fd;
    FILE *slave;

    (void)state;
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    slave_fd = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave_fd >= 0);
    slave = fdopen(slave_fd, "w");
    assert_non_null(slave);
    assert_int_equal(receipt_qr_terminal(payload, slave, &err), 0);
    assert_int_equal(fclose(slave), 0);

    /* A version 1 code is about 1.5 kB drawn, well inside the pty buffer. */
    for (;;) {
        ssize_t n = read(master, text + len, sizeof(text) - 1 - len);

        if (n <= 0)
            break; /* EIO once the slave is closed and drained */
        len += (size_t)n;
    }
    text[len] = '\0';
    close(master);
    assert_memory_equal(text, "\033[38;5;16;48;5;231m", 19);
    assert_non_null(strstr(text, "\033[0m\r\n"));
    grid_from_terminal(text, &grid);
    assert_grid_decodes_to(&grid, payload);
}

/* ---- the image driver on its own --------------------------------------- */

static void test_png_without_barcode_gives_zero_symbols(void **state)
{
    unsigned char *pix = malloc(120 * 80);
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(pix);
    memset(pix, 255, 120 * 80);
    for (int x = 0; x < 120; x += 10)
        pix[40 * 120 + x] = 0; /* a few specks, still no code */
    grey_png(pix, 120, 80, &png, &len);
    assert_int_equal(barcode_image_decode_buffer(png, len, remember_symbol, &seen, &err), 0);
    assert_int_equal(seen.calls, 0);
    free(png);
    free(pix);
}

static void test_decode_buffer_refuses_non_image(void **state)
{
    static const unsigned char text[] = "GIF89a and then some";
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(barcode_image_decode_buffer(text, sizeof(text), remember_symbol, &seen,
                                                 &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "not an image we read (expected PNG or JPEG)");
}

static void test_decode_buffer_refuses_truncated_png(void **state)
{
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(receipt_qr_png("R-7K3M9QXZJ", &png, &len, &err), 0);
    assert_int_equal(barcode_image_decode_buffer(png, len / 2, remember_symbol, &seen, &err),
                     DK_EINPUT);
    assert_int_equal(seen.calls, 0);
    free(png);
}

static void test_decode_file_reads_png_from_disk(void **state)
{
    struct dk_tmpdir t;
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};
    unsigned char *png = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    tmpdir_make(&t);
    assert_int_equal(receipt_qr_png("R-7K3M9QXZJ", &png, &len, &err), 0);
    f = fopen(t.pk, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(barcode_image_decode_file(t.pk, remember_symbol, &seen, &err), 1);
    assert_string_equal(seen.data, "R-7K3M9QXZJ");
    free(seen.data);
    free(png);
    tmpdir_remove(&t);
}

static void test_decode_file_missing_is_enoent(void **state)
{
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(barcode_image_decode_file("/nonexistent/photo.png", remember_symbol, &seen,
                                               &err),
                     -ENOENT);
    assert_string_equal(err.msg,
                        "cannot open image /nonexistent/photo.png: No such file or directory");
}

/* JPEG is read only when the build links libjpeg (see barcode_image.h). */
#ifdef DK_HAVE_LIBJPEG
static void grey_jpeg(const unsigned char *pix, unsigned w, unsigned h, unsigned char **out,
                      size_t *out_len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned long len = 0;

    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    *out = NULL;
    jpeg_mem_dest(&c, out, &len);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 85, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w);

        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *out_len = len;
}

static void test_jpeg_qr_decodes_to_exact_payload(void **state)
{
    static struct dk_grid grid;
    char *text = terminal_text(KNOWN_PAYLOAD);
    unsigned char *pix;
    unsigned char *jpeg = NULL;
    size_t len = 0;
    unsigned w;
    unsigned h;

    (void)state;
    grid_from_terminal(text, &grid);
    pix = grid_pixels(&grid, &w, &h);
    grey_jpeg(pix, w, h, &jpeg, &len);
    assert_memory_equal(jpeg, "\xff\xd8\xff", 3);
    assert_image_decodes_to(jpeg, len, KNOWN_PAYLOAD);
    free(jpeg);
    free(pix);
    free(text);
}

static void test_decode_buffer_refuses_truncated_jpeg(void **state)
{
    static const unsigned char stub[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F'};
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(barcode_image_decode_buffer(stub, sizeof(stub), remember_symbol, &seen,
                                                 &err),
                     DK_EINPUT);
    assert_memory_equal(err.msg, "cannot read JPEG image: ", 24);
    assert_int_equal(seen.calls, 0);
}
#else
static void test_jpeg_refused_when_built_without_libjpeg(void **state)
{
    static const unsigned char stub[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F'};
    struct dk_seen seen = {0};
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(barcode_image_decode_buffer(stub, sizeof(stub), remember_symbol, &seen,
                                                 &err),
                     DK_EINPUT);
    assert_string_equal(err.msg, "cannot read JPEG image: built without libjpeg");
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_known_id_validates),
        cmocka_unit_test(test_id_changed_check_character_fails),
        cmocka_unit_test(test_id_changed_body_character_fails),
        cmocka_unit_test(test_id_lower_case_accepted),
        cmocka_unit_test(test_id_confusable_letters_read_as_digits),
        cmocka_unit_test(test_id_wrong_shape_rejected),
        cmocka_unit_test(test_new_id_is_well_formed_and_valid),
        cmocka_unit_test(test_sign_writes_exact_payload),
        cmocka_unit_test(test_sign_normalises_lower_case_id),
        cmocka_unit_test(test_verify_known_payload_is_valid),
        cmocka_unit_test(test_sign_then_verify_is_valid),
        cmocka_unit_test(test_verify_accepts_crlf_and_trailing_spaces),
        cmocka_unit_test(test_verify_changed_device_byte_is_forged),
        cmocka_unit_test(test_verify_signature_from_other_key_is_forged),
        cmocka_unit_test(test_verify_garbage_is_input_error),
        cmocka_unit_test(test_verify_missing_signature_is_input_error),
        cmocka_unit_test(test_verify_bad_base64_is_input_error),
        cmocka_unit_test(test_verify_text_after_signature_is_input_error),
        cmocka_unit_test(test_verify_oversized_text_is_input_error),
        cmocka_unit_test(test_sign_refuses_line_break_in_field),
        cmocka_unit_test(test_sign_refuses_carriage_return_in_device_model),
        cmocka_unit_test(test_sign_refuses_invalid_id),
        cmocka_unit_test(test_keygen_sets_modes_0600_and_0644),
        cmocka_unit_test(test_keygen_public_key_is_0644_despite_umask_077),
        cmocka_unit_test(test_keygen_refuses_to_overwrite_secret_key),
        cmocka_unit_test(test_keygen_refuses_to_overwrite_public_key),
        cmocka_unit_test(test_keygen_keys_load_sign_and_verify),
        cmocka_unit_test(test_load_known_key_files_sign_known_payload),
        cmocka_unit_test(test_load_secret_refuses_public_key_file),
        cmocka_unit_test(test_load_public_refuses_short_key),
        cmocka_unit_test(test_load_public_missing_file_is_enoent),
        cmocka_unit_test(test_fingerprint_of_known_key),
        cmocka_unit_test(test_check_public_accepts_matching_key_file),
        cmocka_unit_test(test_check_public_refuses_other_key_naming_both_files),
        cmocka_unit_test(test_check_public_missing_file_is_enoent),
        cmocka_unit_test(test_qr_png_decodes_to_exact_payload),
        cmocka_unit_test(test_qr_png_keeps_accented_latin),
        cmocka_unit_test(test_qr_png_keeps_vietnamese),
        cmocka_unit_test(test_qr_png_keeps_chinese),
        cmocka_unit_test(test_qr_png_keeps_arabic),
        cmocka_unit_test(test_qr_png_keeps_non_utf8_bytes),
        cmocka_unit_test(test_qr_png_signed_accented_receipt_verifies_after_scan),
        cmocka_unit_test(test_qr_png_refuses_payload_too_large),
        cmocka_unit_test(test_qr_terminal_decodes_to_exact_payload),
        cmocka_unit_test(test_qr_terminal_decodes_chinese_payload),
        cmocka_unit_test(test_qr_terminal_has_four_module_quiet_zone),
        cmocka_unit_test(test_qr_terminal_is_plain_text_when_not_a_tty),
        cmocka_unit_test(test_qr_terminal_sets_colours_on_a_tty),
        cmocka_unit_test(test_png_without_barcode_gives_zero_symbols),
        cmocka_unit_test(test_decode_buffer_refuses_non_image),
        cmocka_unit_test(test_decode_buffer_refuses_truncated_png),
        cmocka_unit_test(test_decode_file_reads_png_from_disk),
        cmocka_unit_test(test_decode_file_missing_is_enoent),
#ifdef DK_HAVE_LIBJPEG
        cmocka_unit_test(test_jpeg_qr_decodes_to_exact_payload),
        cmocka_unit_test(test_decode_buffer_refuses_truncated_jpeg),
#else
        cmocka_unit_test(test_jpeg_refused_when_built_without_libjpeg),
#endif
    };

    return cmocka_run_group_tests(tests, setup_tz, NULL);
}
