/* Message catalogs: loading, the English fallback, refused files named
 * with line and column, placeholder filling, and the shipped catalogs in
 * DK_CATALOG_DIR (kiosk-ui/i18n) checked against English: every key there,
 * with the same {placeholders}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/dk-i18n-XXXXXX";

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

/* Each test writes the catalogs it needs; none outlives it. */
static int teardown(void **state)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    (void)state;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    return 0;
}

static void write_catalog(const char *lang, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.json", dir, lang);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void remove_catalog(const char *lang)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s.json", dir, lang);
    unlink(path);
}

/* The error message of loading lang from the test folder, "" when it
 * loaded; code gets the return value. */
static int load_error(const char *lang, char *msg, size_t size)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};
    int rc = i18n_load(dir, lang, &c, &err);

    snprintf(msg, size, "%s", rc == 0 ? "" : err.msg);
    if (rc == 0)
        assert_non_null(c);
    else
        assert_null(c);
    i18n_free(c);
    return rc;
}

/* ---- loading ------------------------------------------------------------ */

static void test_i18n_loads_the_shipped_english_catalog(void **state)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(i18n_load(DK_CATALOG_DIR, "en", &c, &err), 0);
    assert_string_equal(i18n_lang(c), "en");
    assert_string_equal(i18n_text(c, "language.name"), "English");
    assert_string_equal(i18n_text(c, "kiosk.charger_question"),
                        "Is the charger in the bag? YES or NO");
    i18n_free(c);
}

static void test_i18n_loads_the_shipped_spanish_catalog(void **state)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(i18n_load(DK_CATALOG_DIR, "es", &c, &err), 0);
    assert_string_equal(i18n_lang(c), "es");
    assert_string_equal(i18n_text(c, "language.name"), "Español");
    assert_string_equal(i18n_text(c, "slip.title"), "Recibo de devolución");
    assert_string_equal(i18n_text(c, "kiosk.language_prompt"), "Para español, escriba ES.");
    i18n_free(c);
}

static void test_i18n_missing_text_falls_back_to_english(void **state)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};

    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\", \"bye\": \"Goodbye\"}");
    write_catalog("fr", "{\"greeting\": \"Bonjour\"}");
    assert_int_equal(i18n_load(dir, "fr", &c, &err), 0);
    assert_string_equal(i18n_text(c, "greeting"), "Bonjour");
    assert_string_equal(i18n_text(c, "bye"), "Goodbye");
    i18n_free(c);
}

/* Run i18n_text three times for a key no catalog has, with stderr (where
 * the log goes) captured in buf. */
static void unknown_key_three_times(struct dk_catalog *c, char *buf, size_t size)
{
    char path[128];
    int saved = dup(STDERR_FILENO);
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/stderr.txt", dir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    for (int i = 0; i < 3; i++)
        assert_string_equal(i18n_text(c, "kiosk.no_such_text"), "kiosk.no_such_text");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, buf, size - 1, 0);
    close(fd);
    unlink(path);
    buf[n > 0 ? n : 0] = '\0';
}

static void test_i18n_unknown_key_is_shown_and_warned_once(void **state)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};
    char log[1024];

    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\"}");
    write_catalog("fr", "{\"greeting\": \"Bonjour\"}");
    assert_int_equal(i18n_load(dir, "fr", &c, &err), 0);
    unknown_key_three_times(c, log, sizeof(log));
    assert_string_equal(log, "dropkiosk warning: no text for \"kiosk.no_such_text\" in message "
                             "catalog fr.json or en.json; the key is shown\n");
    i18n_free(c);
}

static void test_i18n_malformed_file_is_named_with_line_and_column(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\n    \"greeting\": \"Hello\",\n    \"bye\" \"Goodbye\"\n}\n");
    assert_int_equal(load_error("en", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/en.json:3:19: ':' expected near '\"Goodbye\"'", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_duplicate_key_is_refused(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\n\"greeting\": \"Hello\",\n\"greeting\": \"Hi\"\n}\n");
    assert_int_equal(load_error("en", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/en.json:3:10: duplicate object key near '\"greeting\"'", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_text_that_is_not_a_string_names_the_key(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\", \"kiosk.count\": 3}");
    assert_int_equal(load_error("en", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/en.json: the text of \"kiosk.count\" is not a string", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_file_that_is_not_an_object_is_refused(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "[\"Hello\"]");
    assert_int_equal(load_error("en", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/en.json: not a JSON object of \"key\": \"text\"", dir);
    assert_string_equal(msg, want);
}

/* A broken English catalog behind a good one is as fatal as a broken one
 * of the person's language: the fallback would be missing. */
static void test_i18n_broken_english_behind_spanish_is_named(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("es", "{\"greeting\": \"Hola\"}");
    write_catalog("en", "{\"greeting\": \"Hello\",}");
    assert_int_equal(load_error("es", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/en.json:1:22: string or '}' expected near '}'", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_missing_catalog_is_enoent_naming_the_file(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    remove_catalog("en");
    assert_int_equal(load_error("de", msg, sizeof(msg)), -ENOENT);
    snprintf(want, sizeof(want),
             "cannot open message catalog %s/de.json: No such file or directory", dir);
    assert_string_equal(msg, want);
    assert_false(i18n_available(dir, "de"));
}

/* The code becomes part of a file name, so only a plain language code is
 * taken: nothing that climbs out of the folder or names another file. */
static void test_i18n_refuses_codes_that_are_not_languages(void **state)
{
    static const char *const bad[] = {"../en", "en/../en", "EN", "e", "engl", "es-",
                                      "es-419", "es_ES", "es-ABCDE", "", "en.json"};
    char msg[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\"}");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(load_error(bad[i], msg, sizeof(msg)), DK_EINPUT);
        assert_false(i18n_available(dir, bad[i]));
    }
    assert_string_equal(msg, "cannot load message catalog: \"en.json\" is not a language "
                             "code such as en, es or pt-BR");
    assert_true(i18n_available(dir, "en"));
}

static void test_i18n_accepts_a_code_with_a_region(void **state)
{
    char msg[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\"}");
    write_catalog("pt-BR", "{\"greeting\": \"Olá\"}");
    assert_int_equal(load_error("pt-BR", msg, sizeof(msg)), 0);
    assert_true(i18n_available(dir, "pt-BR"));
}

static void test_i18n_dir_is_the_configured_folder_else_the_built_in_one(void **state)
{
    static struct dk_config cfg;

    (void)state;
    assert_string_equal(i18n_dir(&cfg), DK_CATALOG_DIR);
    snprintf(cfg.catalog_dir, sizeof(cfg.catalog_dir), "/etc/dropkiosk/i18n");
    assert_string_equal(i18n_dir(&cfg), "/etc/dropkiosk/i18n");
    assert_string_equal(i18n_dir(NULL), DK_CATALOG_DIR);
}

/* ---- filling placeholders ------------------------------------------------ */

static void test_i18n_format_fills_the_shipped_texts(void **state)
{
    struct dk_catalog *en = NULL, *es = NULL;
    char *a, *b;

    (void)state;
    assert_int_equal(i18n_load(DK_CATALOG_DIR, "en", &en, NULL), 0);
    assert_int_equal(i18n_load(DK_CATALOG_DIR, "es", &es, NULL), 0);
    a = i18n_format(en, "kiosk.added.other", "tag", "104233", "charger",
                    i18n_text(en, "kiosk.charger_yes"), "count", "2", NULL);
    b = i18n_format(es, "kiosk.added.other", "tag", "104233", "charger",
                    i18n_text(es, "kiosk.charger_no"), "count", "2", NULL);
    assert_string_equal(a, "Added asset 104233, charger in the bag. 2 devices in this visit.");
    assert_string_equal(b, "Se agregó el equipo 104233 (sin el cargador en la bolsa). Lleva 2 "
                           "equipos en esta devolución.");
    free(a);
    free(b);
    i18n_free(en);
    i18n_free(es);
}

/* A value holding "{tag}" (a scanned label can) is written as it is, not
 * filled again; an unknown or unclosed placeholder stays as written; a
 * text is never a printf format. */
static void test_i18n_format_fills_once_and_leaves_the_rest(void **state)
{
    struct dk_catalog *c = NULL;
    char *s;

    (void)state;
    write_catalog("en", "{\"t\": \"{a} and {tag} and {other} and {a and 100% %s %n {}\"}");
    assert_int_equal(i18n_load(dir, "en", &c, NULL), 0);
    s = i18n_format(c, "t", "a", "{tag}", "tag", "A-1", NULL);
    assert_string_equal(s, "{tag} and A-1 and {other} and {a and 100% %s %n {}");
    free(s);
    s = i18n_format(c, "t", NULL);
    assert_string_equal(s, "{a} and {tag} and {other} and {a and 100% %s %n {}");
    free(s);
    s = i18n_format(c, "no.such.key", "a", "x", NULL);
    assert_string_equal(s, "no.such.key");
    free(s);
    i18n_free(c);
}

/* ---- the shipped catalogs against English -------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The sorted, "|"-joined names of text's {placeholders}, each once
 * ("count|tag"). */
static void placeholders(const char *text, char *out, size_t size)
{
    char names[32][64];
    size_t n = 0, used = 0;

    for (const char *p = strchr(text, '{'); p != NULL && n < 32; p = strchr(p + 1, '{')) {
        size_t len = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

        if (len > 0 && len < sizeof(names[0]) && p[1 + len] == '}')
            snprintf(names[n++], sizeof(names[0]), "%.*s", (int)len, p + 1);
    }
    qsort(names, n, sizeof(names[0]), by_name);
    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
            continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "|" : "", names[i]);
    }
}

/* Each way one catalog file differs from en.json, a line in report:
 * a key missing, a key English lacks, or other placeholders.  The count. */
static int compare_with_english(const char *folder, const char *file, char *report,
                                size_t size)
{
    char path[512];
    json_error_t je;
    json_t *en, *other;
    const char *key;
    json_t *value;
    size_t used = strlen(report);
    int problems = 0;

    snprintf(path, sizeof(path), "%s/en.json", folder);
    en = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    snprintf(path, sizeof(path), "%s/%s", folder, file);
    other = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(en);
    if (other == NULL) {
        used += (size_t)snprintf(report + used, size - used, "%s: %d:%d: %s\n", file, je.line,
                                 je.column, je.text);
        json_decref(en);
        return 1;
    }
    json_object_foreach(en, key, value) {
        const char *text = json_string_value(json_object_get(other, key));
        char want[256], got[256];

        if (text == NULL) {
            used += (size_t)snprintf(report + used, size - used, "%s: no text for %s\n",
                                     file, key);
            problems++;
            continue;
        }
        placeholders(json_string_value(value), want, sizeof(want));
        placeholders(text, got, sizeof(got));
        if (strcmp(want, got) != 0) {
            used += (size_t)snprintf(report + used, size - used,
                                     "%s: %s has {%s}, English has {%s}\n", file, key, got,
                                     want);
            problems++;
        }
    }
    json_object_foreach(other, key, value) {
        if (json_object_get(en, key) == NULL) {
            used += (size_t)snprintf(report + used, size - used,
                                     "%s: %s is not a key of en.json\n", file, key);
            problems++;
        }
    }
    json_decref(en);
    json_decref(other);
    return problems;
}

/* Every LANG.json in folder but en.json, compared with en.json and loaded
 * through i18n_load; the number of problems, described in report. */
static int check_catalogs(const char *folder, char *report, size_t size, int *files)
{
    DIR *d = opendir(folder);
    struct dirent *e;
    int problems = 0;

    assert_non_null(d);
    report[0] = '\0';
    *files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char lang[32];
        struct dk_catalog *c = NULL;
        struct dk_error err = {{0}};

        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 ||
            strcmp(e->d_name, "en.json") == 0)
            continue;
        (*files)++;
        snprintf(lang, sizeof(lang), "%.*s", (int)(len - 5), e->d_name);
        if (i18n_load(folder, lang, &c, &err) != 0) {
            size_t used = strlen(report);

            snprintf(report + used, size - used, "%s\n", err.msg);
            problems++;
        }
        i18n_free(c);
        problems += compare_with_english(folder, e->d_name, report, size);
    }
    closedir(d);
    return problems;
}

static void test_i18n_every_catalog_has_every_english_key_and_placeholder(void **state)
{
    char report[8192];
    int files = 0;
    int problems = check_catalogs(DK_CATALOG_DIR, report, sizeof(report), &files);

    (void)state;
    if (problems != 0)
        fprintf(stderr, "catalogs in %s differ from en.json:\n%s", DK_CATALOG_DIR, report);
    assert_int_equal(problems, 0);
    assert_true(files >= 1); /* es.json at least */
}

/* The check above, shown to catch what it is there for. */
static void test_i18n_catalog_check_catches_a_missing_key_and_a_placeholder(void **state)
{
    char report[2048], want[2048];
    int files = 0;

    (void)state;
    write_catalog("en", "{\"a\": \"Asset {tag}\", \"b\": \"{count} of {total}\", \"c\": \"C\"}");
    write_catalog("es", "{\"a\": \"Equipo {etiqueta}\", \"b\": \"{total}: {count}\"}");
    assert_int_equal(check_catalogs(dir, report, sizeof(report), &files), 3);
    assert_int_equal(files, 1);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: \"a\" has {etiqueta}, which the English text does "
             "not\n"
             "es.json: a has {etiqueta}, English has {tag}\n"
             "es.json: no text for c\n",
             dir);
    assert_string_equal(report, want);
    remove_catalog("es");
}

/* ---- placeholders judged at load ---------------------------------------- */

static void test_i18n_placeholder_english_lacks_is_refused_naming_key(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"slip.receipt\": \"Receipt\", \"slip.title\": \"Device return "
                        "receipt\"}");
    write_catalog("es", "{\"slip.receipt\": \"Recibo\", \"slip.title\": \"Recibo {bogus}\"}");
    assert_int_equal(load_error("es", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: \"slip.title\" has {bogus}, which the English text "
             "does not",
             dir);
    assert_string_equal(msg, want);
    assert_false(i18n_available(dir, "es"));
}

static void test_i18n_subject_with_a_name_english_lacks_is_refused(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"email.received.subject\": \"Device received by OIIT: asset "
                        "{tag}\"}");
    write_catalog("es", "{\"email.received.subject\": \"{name}, OIIT recibió el equipo "
                        "{tag}\"}");
    assert_int_equal(load_error("es", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: \"email.received.subject\" has {name}, which the "
             "English text does not",
             dir);
    assert_string_equal(msg, want);
}

static void test_i18n_placeholder_english_has_is_required(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"b\": \"{count} of {total}\"}");
    write_catalog("es", "{\"b\": \"de {total}\"}");
    assert_int_equal(load_error("es", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: \"b\" lacks {count}, which the English text has",
             dir);
    assert_string_equal(msg, want);
}

/* Names are case-sensitive, as the filler matches them. */
static void test_i18n_placeholder_of_other_case_is_refused(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"b\": \"{count} left\"}");
    write_catalog("es", "{\"b\": \"quedan {Count}\"}");
    assert_int_equal(load_error("es", msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: \"b\" has {Count}, which the English text does not",
             dir);
    assert_string_equal(msg, want);
}

/* The filler's rule: "{{count}}" holds {count} (filled as "{2}"); "{}",
 * "{ x }" and an unclosed "{a b" are plain text; order and repeats do not
 * matter; a key English lacks is not judged. */
static void test_i18n_placeholders_are_judged_by_the_fillers_rule(void **state)
{
    struct dk_catalog *c = NULL;
    char *s;

    (void)state;
    write_catalog("en", "{\"a\": \"{count} left of {total}\", \"b\": \"{count} left\"}");
    write_catalog("es", "{\"a\": \"{total}: {count}, {count}\", "
                        "\"b\": \"{{count}} quedan {} { x } {a b\", \"extra\": \"{x}\"}");
    assert_int_equal(i18n_load(dir, "es", &c, NULL), 0);
    s = i18n_format(c, "b", "count", "2", "x", "X", "a", "A", I18N_END);
    assert_string_equal(s, "{2} quedan {} { x } {a b");
    free(s);
    i18n_free(c);
    assert_true(i18n_available(dir, "es"));
}

/* English is the reference, so its own placeholders are not judged. */
static void test_i18n_english_alone_has_any_placeholders(void **state)
{
    char msg[DK_ERROR_MAX];

    (void)state;
    write_catalog("en", "{\"a\": \"{anything} {at_all}\"}");
    assert_int_equal(load_error("en", msg, sizeof(msg)), 0);
}

static void test_i18n_available_is_false_for_a_truncated_catalog(void **state)
{
    (void)state;
    write_catalog("en", "{\"greeting\": \"Hello\"}");
    write_catalog("es", "{\"greeting\": \"Ho");
    assert_false(i18n_available(dir, "es"));
    assert_true(i18n_available(dir, "en"));
}

/* ---- checking a whole folder ---------------------------------------------- */

static void good_folder(void)
{
    write_catalog("en", "{\"greeting\": \"Hello {name}\", \"bye\": \"Goodbye\"}");
    write_catalog("es", "{\"greeting\": \"Hola {name}\", \"bye\": \"Adiós\"}");
    write_catalog("pt-BR", "{\"greeting\": \"Olá {name}\"}");
}

static int check_dir_error(char *msg, size_t size)
{
    struct dk_error err = {{0}};
    int rc = i18n_check_dir(dir, &err);

    snprintf(msg, size, "%s", rc == 0 ? "" : err.msg);
    return rc;
}

static void test_i18n_check_dir_passes_a_good_folder(void **state)
{
    char msg[DK_ERROR_MAX];

    (void)state;
    good_folder();
    assert_int_equal(check_dir_error(msg, sizeof(msg)), 0);
    assert_string_equal(msg, "");
}

static void test_i18n_check_dir_passes_the_shipped_folder(void **state)
{
    struct dk_error err = {{0}};

    (void)state;
    assert_int_equal(i18n_check_dir(DK_CATALOG_DIR, &err), 0);
}

static void test_i18n_check_dir_names_a_truncated_catalog(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    good_folder();
    write_catalog("es", "{\"greeting\": \"Hola {name}\", \"bye\": \"Adi");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json:1:39: premature end of input near '\"Adi'", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_check_dir_names_a_text_that_is_not_a_string(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    good_folder();
    write_catalog("es", "{\"greeting\": \"Hola {name}\", \"bye\": [\"Adiós\"]}");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/es.json: the text of \"bye\" is not a string", dir);
    assert_string_equal(msg, want);
}

static void test_i18n_check_dir_names_a_bad_placeholder(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    good_folder();
    write_catalog("pt-BR", "{\"greeting\": \"Olá {nome}\"}");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/pt-BR.json: \"greeting\" has {nome}, which the English text "
             "does not",
             dir);
    assert_string_equal(msg, want);
}

static void test_i18n_check_dir_needs_english(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    good_folder();
    remove_catalog("en");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), -ENOENT);
    snprintf(want, sizeof(want),
             "cannot open message catalog %s/en.json: No such file or directory", dir);
    assert_string_equal(msg, want);
}

/* The tests run as root in the build container, where mode 000 still
 * reads; a symbolic link to itself cannot be opened by anyone. */
static void test_i18n_check_dir_names_an_unreadable_catalog(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX], path[128];

    (void)state;
    good_folder();
    remove_catalog("es");
    snprintf(path, sizeof(path), "%s/es.json", dir);
    assert_int_equal(symlink("es.json", path), 0);
    assert_int_equal(check_dir_error(msg, sizeof(msg)), -ELOOP);
    snprintf(want, sizeof(want),
             "cannot open message catalog %s/es.json: Too many levels of symbolic links", dir);
    assert_string_equal(msg, want);
    assert_false(i18n_available(dir, "es"));
}

/* Name order, so the report is the same on every file system. */
static void test_i18n_check_dir_reports_the_first_by_name(void **state)
{
    char msg[DK_ERROR_MAX], want[DK_ERROR_MAX];

    (void)state;
    good_folder();
    write_catalog("fr", "{\"greeting\": 1}");
    write_catalog("de", "{\"greeting\": \"Hallo\"}");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), DK_EINPUT);
    snprintf(want, sizeof(want),
             "message catalog %s/de.json: \"greeting\" lacks {name}, which the English text "
             "has",
             dir);
    assert_string_equal(msg, want);
}

/* A name that is not a language code can never be loaded, so it is not a
 * catalog: the web UI's or an editor's other files do not fail the check. */
static void test_i18n_check_dir_passes_over_files_that_are_not_catalogs(void **state)
{
    char msg[DK_ERROR_MAX];

    (void)state;
    good_folder();
    write_catalog("notes", "not json");
    write_catalog("es_ES", "{");
    write_catalog("es.json~", "{");
    assert_int_equal(check_dir_error(msg, sizeof(msg)), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown)
    const struct CMUnitTest tests[] = {
        T(test_i18n_loads_the_shipped_english_catalog),
        T(test_i18n_loads_the_shipped_spanish_catalog),
        T(test_i18n_missing_text_falls_back_to_english),
        T(test_i18n_unknown_key_is_shown_and_warned_once),
        T(test_i18n_malformed_file_is_named_with_line_and_column),
        T(test_i18n_duplicate_key_is_refused),
        T(test_i18n_text_that_is_not_a_string_names_the_key),
        T(test_i18n_file_that_is_not_an_object_is_refused),
        T(test_i18n_broken_english_behind_spanish_is_named),
        T(test_i18n_missing_catalog_is_enoent_naming_the_file),
        T(test_i18n_refuses_codes_that_are_not_languages),
        T(test_i18n_accepts_a_code_with_a_region),
        T(test_i18n_dir_is_the_configured_folder_else_the_built_in_one),
        T(test_i18n_format_fills_the_shipped_texts),
        T(test_i18n_format_fills_once_and_leaves_the_rest),
        T(test_i18n_every_catalog_has_every_english_key_and_placeholder),
        T(test_i18n_catalog_check_catches_a_missing_key_and_a_placeholder),
        T(test_i18n_placeholder_english_lacks_is_refused_naming_key),
        T(test_i18n_subject_with_a_name_english_lacks_is_refused),
        T(test_i18n_placeholder_english_has_is_required),
        T(test_i18n_placeholder_of_other_case_is_refused),
        T(test_i18n_placeholders_are_judged_by_the_fillers_rule),
        T(test_i18n_english_alone_has_any_placeholders),
        T(test_i18n_available_is_false_for_a_truncated_catalog),
        T(test_i18n_check_dir_passes_a_good_folder),
        T(test_i18n_check_dir_passes_the_shipped_folder),
        T(test_i18n_check_dir_names_a_truncated_catalog),
        T(test_i18n_check_dir_names_a_text_that_is_not_a_string),
        T(test_i18n_check_dir_names_a_bad_placeholder),
        T(test_i18n_check_dir_needs_english),
        T(test_i18n_check_dir_names_an_unreadable_catalog),
        T(test_i18n_check_dir_reports_the_first_by_name),
        T(test_i18n_check_dir_passes_over_files_that_are_not_catalogs),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
