#include "scan.h"

#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int scan_rules_init(struct dk_scan_rules *rules, const struct dk_config *cfg,
                    struct dk_error *err)
{
    char why[128];
    int rc;

    memset(rules, 0, sizeof(*rules));
    rc = regcomp(&rules->asset, cfg->asset_pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &rules->asset, why, sizeof(why));
        return dk_error_set(err, DK_EINPUT, "%s: [scan] asset_pattern '%s': %s", cfg->path,
                            cfg->asset_pattern, why);
    }
    rc = regcomp(&rules->badge, cfg->badge_pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &rules->badge, why, sizeof(why));
        regfree(&rules->asset);
        return dk_error_set(err, DK_EINPUT, "%s: [scan] badge_pattern '%s': %s", cfg->path,
                            cfg->badge_pattern, why);
    }
    rules->compiled = true;
    snprintf(rules->prefix, sizeof(rules->prefix), "%s", cfg->prefix);
    snprintf(rules->suffix, sizeof(rules->suffix), "%s", cfg->suffix);
    rules->max_length = (size_t)cfg->max_length;
    rules->code39.check_char = cfg->code39_check;
    rules->code39.full_ascii = cfg->code39_full_ascii;
    if (rules->max_length >= DK_SCAN_TEXT_MAX)
        rules->max_length = DK_SCAN_TEXT_MAX - 1;
    return 0;
}

void scan_rules_free(struct dk_scan_rules *rules)
{
    if (!rules->compiled)
        return;
    regfree(&rules->asset);
    regfree(&rules->badge);
    rules->compiled = false;
}

bool scan_imei_valid(const char *text)
{
    int sum = 0;

    if (strlen(text) != 15)
        return false;
    for (int i = 0; i < 15; i++) {
        int d;

        if (!isdigit((unsigned char)text[i]))
            return false;
        d = text[i] - '0';
        /* Luhn: double every second digit counting from the left's second. */
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Terminators and white space around a scan are not part of it; a trailing
 * space is kept when keep_trailing_space, because it can be a Code 39 check
 * character (value 38). */
static void trim(const char **p, size_t *len, bool keep_trailing_space)
{
    while (*len > 0 && is_space((*p)[0])) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*p)[*len - 1]) &&
           !(keep_trailing_space && (*p)[*len - 1] == ' '))
        (*len)--;
}

/* Whether the last character of a Code 39 scan is a check character. */
static bool code39_check_at_end(const struct dk_symbol *sym, const struct dk_scan_rules *rules)
{
    return sym->sym == DK_SYM_CODE39 &&
           (sym->c39_check == DK_C39_CHECK_SENT ||
            (sym->c39_check == DK_C39_CHECK_BY_CONFIG && rules->code39.check_char));
}

static void strip_affix(const char **p, size_t *len, const char *prefix, const char *suffix)
{
    size_t np = strlen(prefix);
    size_t ns = strlen(suffix);

    if (np > 0 && *len >= np && memcmp(*p, prefix, np) == 0) {
        *p += np;
        *len -= np;
    }
    if (ns > 0 && *len >= ns && memcmp(*p + *len - ns, suffix, ns) == 0)
        *len -= ns;
}

/* An AIM symbology identifier (ISO/IEC 15424) is ']', a code character
 * (a letter) and a modifier character (a digit or letter). */
static void strip_aim(const char **p, size_t *len, char aim[4])
{
    const char *s = *p;

    aim[0] = '\0';
    if (*len >= 3 && s[0] == ']' && isalpha((unsigned char)s[1]) &&
        isalnum((unsigned char)s[2])) {
        memcpy(aim, s, 3);
        aim[3] = '\0';
        *p += 3;
        *len -= 3;
    }
}

static void invalid(struct dk_scan *out, const char *reason)
{
    out->kind = DK_SCAN_INVALID;
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

static enum dk_control control_code(const char *text)
{
    static const struct {
        const char *word;
        enum dk_control code;
    } words[] = {
        {"DONE", DK_CTRL_DONE}, {"CANCEL", DK_CTRL_CANCEL}, {"YES", DK_CTRL_YES},
        {"Y", DK_CTRL_YES},     {"NO", DK_CTRL_NO},         {"N", DK_CTRL_NO},
        {"SKIP", DK_CTRL_SKIP},
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(text, words[i].word) == 0)
            return words[i].code;
    }
    return DK_CTRL_NONE;
}

void scan_classify(const struct dk_scan_rules *rules, const char *raw, size_t len,
                   struct dk_scan *out)
{
    scan_classify_from(rules, raw, len, NULL, out);
}

/* Set out->kind from the normalised text in out->text. */
static void classify_text(const struct dk_scan_rules *rules, enum dk_symbol_text what,
                          struct dk_scan *out)
{
    if (what == DK_SYMTEXT_SERIAL) {
        out->kind = DK_SCAN_SERIAL;
        return;
    }
    if (what == DK_SYMTEXT_ASSET_ID) {
        out->kind = DK_SCAN_ASSET_TAG;
        return;
    }
    out->control = control_code(out->text);
    if (out->control != DK_CTRL_NONE)
        out->kind = DK_SCAN_CONTROL;
    else if (scan_imei_valid(out->text))
        out->kind = DK_SCAN_IMEI;
    else if (regexec(&rules->badge, out->text, 0, NULL, 0) == 0)
        out->kind = DK_SCAN_BADGE;
    else if (regexec(&rules->asset, out->text, 0, NULL, 0) == 0)
        out->kind = DK_SCAN_ASSET_TAG;
    else
        out->kind = DK_SCAN_OTHER;
}

void scan_classify_from(const struct dk_scan_rules *rules, const char *raw, size_t len,
                        const char *symbology, struct dk_scan *out)
{
    const char *p = raw;
    struct dk_symbol sym;
    enum dk_symbol_text what;
    char text[DK_SCAN_TEXT_MAX];

    memset(out, 0, sizeof(*out));
    trim(&p, &len, true);
    strip_affix(&p, &len, rules->prefix, rules->suffix);
    strip_aim(&p, &len, out->aim);
    sym = symbology_identify(out->aim[0] != '\0' ? out->aim : symbology);
    out->symbology = sym.sym;
    trim(&p, &len, code39_check_at_end(&sym, rules));

    if (len == 0) {
        invalid(out, "empty scan");
        return;
    }
    if (len > rules->max_length) {
        snprintf(out->reason, sizeof(out->reason), "scan too long (%zu characters, at most %zu)",
                 len, rules->max_length);
        out->kind = DK_SCAN_INVALID;
        return;
    }
    if (memchr(p, '\0', len) != NULL) {
        invalid(out, "scan holds a NUL byte");
        return;
    }
    if (!symbology_apply(&sym, &rules->code39, p, len, text, sizeof(text), &what, out->reason,
                         sizeof(out->reason))) {
        out->kind = DK_SCAN_INVALID;
        return;
    }
    len = strlen(text);
    if (len == 0 || !text_is_clean(text, len)) {
        invalid(out, "scan holds unreadable control characters or bytes that are not text");
        return;
    }
    memcpy(out->text, text, len + 1);
    classify_text(rules, what, out);
}
