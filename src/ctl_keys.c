/* dropkioskctl keygen [--if-missing] and pubkey [--fingerprint]: the
 * receipt signing key pair ([receipt] signing_key and public_key).
 *
 * keygen never replaces a key: a receipt already handed out is checked
 * with the public key of the pair that signed it.  --if-missing is for a
 * package's first start (ExecStartPre): it makes the pair when there is
 * none, and otherwise only checks that the pair on disk belongs together.
 * The fingerprint it prints is the one the daemon logs at start, so the
 * published key can be compared with the one the kiosk signs with. */
#include "ctl.h"

#include "receipt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void print_fingerprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
    char fpr[DK_RECEIPT_FINGERPRINT_SIZE];

    receipt_fingerprint(pk, fpr);
    printf("public key fingerprint: %s\n", fpr);
}

/* 1 when path is there, 0 when it is not, -errno when we cannot tell. */
static int file_there(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

/* Make a new pair and say what was made. */
static int keygen_new(const struct dk_ctl *c)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    struct dk_error err = {{0}};
    int rc = receipt_keygen(c->cfg.signing_key, c->cfg.public_key, &err);

    if (rc == 0)
        rc = receipt_load_public(c->cfg.public_key, pk, &err);
    /* A key already there is the caller's mistake (exit 2), not a fault. */
    if (rc != 0)
        return ctl_fail(rc == -EEXIST ? DK_EINPUT : rc, &err);
    printf("signing key: %s (keep it secret)\npublic key:  %s\n", c->cfg.signing_key,
           c->cfg.public_key);
    print_fingerprint(pk);
    printf("publish the public key (dropkioskctl pubkey prints it) so that receipts can be "
           "checked\n");
    return 0;
}

/* --if-missing with a signing key already there: the pair must belong
 * together; nothing is written either way. */
static int keygen_keep(const struct dk_ctl *c)
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    struct dk_error err = {{0}};
    int rc = receipt_load_secret(c->cfg.signing_key, sk, &err);

    if (rc == 0) {
        rc = receipt_check_public(c->cfg.public_key, c->cfg.signing_key, sk, &err);
        if (rc == -ENOENT)
            rc = dk_error_set(&err, DK_EINPUT,
                              "receipt signing key %s is there but its public key %s is not: "
                              "restore the public key from a backup (keygen never replaces "
                              "a key)", c->cfg.signing_key, c->cfg.public_key);
    }
    if (rc == 0)
        crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_memzero(sk, sizeof(sk));
    if (rc != 0)
        return ctl_fail(rc, &err);
    printf("receipt signing key: %s (already there)\n", c->cfg.signing_key);
    print_fingerprint(pk);
    return 0;
}

static int keygen_if_missing(const struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    int sk = file_there(c->cfg.signing_key);
    int pk = sk == 0 ? file_there(c->cfg.public_key) : 0;

    if (sk < 0 || pk < 0) {
        const char *path = sk < 0 ? c->cfg.signing_key : c->cfg.public_key;
        int rc = sk < 0 ? sk : pk;

        dk_error_set(&err, rc, "cannot look for key file %s: %s", path, strerror(-rc));
        return ctl_fail(rc, &err);
    }
    if (sk == 1)
        return keygen_keep(c);
    if (pk == 1) {
        dk_error_set(&err, DK_EINPUT,
                     "public key %s is there without its signing key %s: move the public "
                     "key away (it still checks the receipts it signed) before making a "
                     "new pair", c->cfg.public_key, c->cfg.signing_key);
        return ctl_fail(DK_EINPUT, &err);
    }
    return keygen_new(c);
}

int ctl_keygen(struct dk_ctl *c)
{
    if (ctl_only_options(c, "keygen", DK_CTL_OPT_IF_MISSING) != 0)
        return 2;
    if (c->n_args != 1)
        return ctl_bad_usage("keygen takes no arguments");
    return c->opt.if_missing ? keygen_if_missing(c) : keygen_new(c);
}

int ctl_pubkey(struct dk_ctl *c)
{
    struct dk_error err = {{0}};
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
                                       sodium_base64_VARIANT_ORIGINAL)];
    int rc;

    if (ctl_only_options(c, "pubkey", DK_CTL_OPT_FINGERPRINT) != 0)
        return 2;
    if (c->n_args != 1)
        return ctl_bad_usage("pubkey takes no arguments");
    rc = receipt_load_public(c->cfg.public_key, pk, &err);
    if (rc != 0)
        return ctl_fail(rc, &err);
    /* Scripts read these lines: the fingerprint or the key alone. */
    if (c->opt.fingerprint) {
        char fpr[DK_RECEIPT_FINGERPRINT_SIZE];

        receipt_fingerprint(pk, fpr);
        printf("%s\n", fpr);
        return 0;
    }
    sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
    printf("%s\n", b64);
    return 0;
}
