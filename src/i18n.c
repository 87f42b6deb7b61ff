/* Message catalogs (see i18n.h).  Each catalog is a flat JSON object read
 * with jansson; a lookup tries the person's language, then English, then
 * gives back the key itself so a missing text is visible on screen rather
 * than a crash or an empty line. */
#include "i18n.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DK_CATALOG_DIR
#define DK_CATALOG_DIR "/usr/share/dropkiosk/i18n"
#endif

#define I18N_FALLBACK "en"
/* More NAME, VALUE pairs than any text of ours has placeholders; the rest
 * are ignored (and logged) rather than read past. */
#define I18N_MAX_ARGS 16

struct dk_catalog {
    char lang[16];
    json_t *texts;    /* LANG.json */
    json_t *fallback; /* en.json; NULL when LANG is en */
    /* Keys no catalog has, each warned about once.  i18n_text takes a
     * const catalog, and the daemon's threads may share one, so the set
     * has its own lock. */
    json_t *warned;
    pthread_mutex_t lock;
};

const char *i18n_dir(const struct dk_config *cfg)
{
    if (cfg != NULL && cfg->catalog_dir[0] != '\0')
        return cfg->catalog_dir;
    return DK_CATALOG_DIR;
}

/* The same rule as [kiosk] language in config.c: two or three lower-case
 * letters, optionally "-" and two to four letters ("pt-BR", "zh-Hans").
 * Nothing else reaches a file name. */
static bool lang_ok(const char *lang)
{
    static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
    static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n, m;

    if (lang == NULL)
        return false;
    n = strspn(lang, lower);
    if (n < 2 || n > 3)
        return false;
    if (lang[n] == '\0')
        return true;
    if (lang[n] != '-')
        return false;
    m = strspn(lang + n + 1, letters);
    return m >= 2 && m <= 4 && lang[n + 1 + m] == '\0';
}

static int catalog_path(const char *dir, const char *lang, char *buf, size_t size,
                        struct dk_error *err)
{
    int n = snprintf(buf, size, "%s/%s.json", dir, lang);

    if (n < 0 || (size_t)n >= size)
        return dk_error_set(err, DK_EINPUT, "message catalog folder name too long: %s", dir);
    return 0;
}

/* jansson says only that the file could not be opened; open(2) says why,
 * so the caller gets the errno its contract promises. */
static int open_errno(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    close(fd);
    return -EIO;
}

/* The one rule for a placeholder, shared by the filler and the load-time
 * check so the two can never disagree: a "{", one or more of
 * [A-Za-z0-9_], and "}".  Every "{" is a candidate start; there is no
 * escape, so in "{{count}}" the first "{" is plain text and "{count}" is
 * a placeholder ("{" VALUE "}" once filled); "{}", "{ count }" and
 * "{a and" are plain text.  The next placeholder at or after p, with the
 * length of its name in *len; NULL when there is none. */
static const char *next_placeholder(const char *p, size_t *len)
{
    static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

    for (p = strchr(p, '{'); p != NULL; p = strchr(p + 1, '{')) {
        *len = strspn(p + 1, name_chars);
        if (*len > 0 && p[1 + *len] == '}')
            return p;
    }
    return NULL;
}

/* Whether text holds the placeholder {name} (len bytes of name). */
static bool has_placeholder(const char *text, const char *name, size_t len)
{
    size_t n;

    for (const char *p = next_placeholder(text, &n); p != NULL;
         p = next_placeholder(p + n + 2, &n)) {
        if (n == len && memcmp(p + 1, name, len) == 0)
            return true;
    }
    return false;
}

/* The first placeholder of text that other lacks, in *name and *len;
 * false when other has them all. */
static bool placeholder_not_in(const char *text, const char *other, const char **name,
                               size_t *len)
{
    for (const char *p = next_placeholder(text, len); p != NULL;
         p = next_placeholder(p + *len + 2, len)) {
        if (!has_placeholder(other, p + 1, *len)) {
            *name = p + 1;
            return true;
        }
    }
    return false;
}

static int check_texts(const char *path, json_t *root, struct dk_error *err)
{
    const char *key;
    json_t *value;

    if (!json_is_object(root))
        return dk_error_set(err, DK_EINPUT,
                            "message catalog %s: not a JSON object of \"key\": \"text\"",
                            path);
    json_object_foreach(root, key, value) {
        if (!json_is_string(value))
            return dk_error_set(err, DK_EINPUT,
                                "message catalog %s: the text of \"%s\" is not a string",
                                path, key);
    }
    return 0;
}

/* Read one catalog file.  Duplicate keys are refused: the second text
 * silently winning would hide a translator's mistake. */
static int load_file(const char *dir, const char *lang, json_t **out, struct dk_error *err)
{
    char path[DK_PATH_MAX + 32];
    json_error_t je;
    json_t *root;
    int rc;

    *out = NULL;
    rc = catalog_path(dir, lang, path, sizeof(path), err);
    if (rc != 0)
        return rc;
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL && json_error_code(&je) == json_error_cannot_open_file) {
        rc = open_errno(path);
        return dk_error_set(err, rc, "cannot open message catalog %s: %s", path,
                            strerror(-rc));
    }
    if (root == NULL)
        return dk_error_set(err, DK_EINPUT, "message catalog %s:%d:%d: %s", path, je.line,
                            je.column, je.text);
    rc = check_texts(path, root, err);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* A translation that lacks texts still works (English fills in), but the
 * operator should hear of it once, at load, not per screen. */
static void note_missing(const struct dk_catalog *c)
{
    const char *key;
    json_t *value;
    size_t missing = 0;

    json_object_foreach(c->fallback, key, value) {
        (void)value;
        missing += json_object_get(c->texts, key) == NULL;
    }
    if (missing > 0)
        log_warn("message catalog %s.json lacks %zu text%s of %s.json (shown in English)",
                 c->lang, missing, missing == 1 ? "" : "s", I18N_FALLBACK);
}

/* One text against English's text of the same key.  The messages stay on
 * one line each, so they can be found with grep. */
static int check_key(const char *path, const char *key, const char *text,
                     const char *english, struct dk_error *err)
{
    const char *name;
    size_t len;

    if (placeholder_not_in(text, english, &name, &len))
        return dk_error_set(err, DK_EINPUT,
            "message catalog %s: \"%s\" has {%.*s}, which the English text does not",
            path, key, (int)len, name);
    if (placeholder_not_in(english, text, &name, &len))
        return dk_error_set(err, DK_EINPUT,
            "message catalog %s: \"%s\" lacks {%.*s}, which the English text has",
            path, key, (int)len, name);
    return 0;
}

/* A translation whose {placeholders} differ from English's would print or
 * mail a "{bogus}" as written, or silently drop a value the English text
 * gives (a count, a receipt id), so it is refused at load, naming the
 * file, the key and the placeholder.  Keys English lacks are not judged
 * here: no program asks for them. */
static int check_placeholders(const char *dir, const struct dk_catalog *c,
                              struct dk_error *err)
{
    char path[DK_PATH_MAX + 32];
    const char *key;
    json_t *value;
    int rc = catalog_path(dir, c->lang, path, sizeof(path), err);

    if (rc != 0)
        return rc;
    json_object_foreach(c->texts, key, value) {
        const char *english = json_string_value(json_object_get(c->fallback, key));

        rc = english != NULL ? check_key(path, key, json_string_value(value), english, err)
                             : 0;
        if (rc != 0)
            break;
    }
    return rc;
}

/* i18n_load; note says whether a translation's missing texts are logged
 * (not when i18n_available only asks whether it would load). */
static int load(const char *dir, const char *lang, bool note, struct dk_catalog **out,
                struct dk_error *err)
{
    struct dk_catalog *c = NULL;
    int rc;

    *out = NULL;
    if (!lang_ok(lang))
        return dk_error_set(err, DK_EINPUT,
                            "cannot load message catalog: \"%s\" is not a language code "
                            "such as en, es or pt-BR",
                            lang != NULL ? lang : "");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return dk_error_set(err, -ENOMEM, "cannot load message catalog: out of memory");
    pthread_mutex_init(&c->lock, NULL);
    snprintf(c->lang, sizeof(c->lang), "%s", lang);
    c->warned = json_object();
    rc = c->warned != NULL ? 0 : dk_error_set(err, -ENOMEM, "cannot load message catalog: "
                                                           "out of memory");
    if (rc == 0)
        rc = load_file(dir, lang, &c->texts, err);
    if (rc == 0 && strcmp(lang, I18N_FALLBACK) != 0)
        rc = load_file(dir, I18N_FALLBACK, &c->fallback, err);
    if (rc == 0 && c->fallback != NULL)
        rc = check_placeholders(dir, c, err);
    if (rc != 0)
        goto out;
    if (note && c->fallback != NULL)
        note_missing(c);
    *out = c;
    c = NULL;
out:
    i18n_free(c);
    return rc;
}

int i18n_load(const char *dir, const char *lang, struct dk_catalog **out,
              struct dk_error *err)
{
    return load(dir, lang, true, out, err);
}

/* Loads it whole: a file that is there but broken must not be offered
 * (the kiosk would take "ES" and then fail to switch).  A few kilobytes of
 * JSON, read when a person picks a language or a receipt is worded. */
bool i18n_available(const char *dir, const char *lang)
{
    struct dk_catalog *c = NULL;
    struct dk_error err = {{0}};
    int rc;

    if (!lang_ok(lang))
        return false;
    rc = load(dir, lang, false, &c, &err);
    i18n_free(c);
    if (rc != 0 && rc != -ENOENT)
        log_warn("language %s is not offered: %s", lang, err.msg);
    return rc == 0;
}

/* LANG.json names only: a file whose name is not a language code can never
 * be loaded (lang_ok refuses it), so it is not a catalog. */
static int catalog_file(const struct dirent *e)
{
    size_t len = strlen(e->d_name);
    char lang[16];

    if (len <= 5 || len - 5 >= sizeof(lang) || strcmp(e->d_name + len - 5, ".json") != 0)
        return 0;
    memcpy(lang, e->d_name, len - 5);
    lang[len - 5] = '\0';
    return lang_ok(lang) && strcmp(lang, I18N_FALLBACK) != 0;
}

void i18n_free_all(struct dk_catalog **cats, size_t n)
{
    for (size_t i = 0; cats != NULL && i < n; i++)
        i18n_free(cats[i]);
    free(cats);
}

int i18n_load_all(const char *dir, struct dk_catalog ***out, size_t *n_out,
                  struct dk_error *err)
{
    struct dk_catalog **cats = NULL;
    struct dirent **names = NULL;
    size_t n_cats = 0;
    int n, rc;

    *out = NULL;
    *n_out = 0;
    n = scandir(dir, &names, catalog_file, alphasort);
    if (n < 0) {
        rc = -errno;
        return dk_error_set(err, rc, "cannot read message catalog folder %s: %s", dir,
                            strerror(-rc));
    }
    cats = calloc((size_t)n + 1, sizeof(*cats));
    /* English first: every other catalog is loaded with it behind. */
    rc = cats == NULL ? dk_error_set(err, -ENOMEM, "out of memory")
                      : load(dir, I18N_FALLBACK, false, &cats[n_cats], err);
    if (rc == 0)
        n_cats++;
    for (int i = 0; i < n; i++) {
        char lang[16];

        if (rc == 0) {
            snprintf(lang, sizeof(lang), "%.*s", (int)(strlen(names[i]->d_name) - 5),
                     names[i]->d_name);
            rc = load(dir, lang, false, &cats[n_cats], err);
            if (rc == 0)
                n_cats++;
        }
        free(names[i]);
    }
    free(names);
    if (rc != 0) {
        i18n_free_all(cats, n_cats);
        return rc;
    }
    *out = cats;
    *n_out = n_cats;
    return 0;
}

int i18n_check_dir(const char *dir, struct dk_error *err)
{
    struct dk_catalog **cats = NULL;
    size_t n = 0;
    int rc = i18n_load_all(dir, &cats, &n, err);

    i18n_free_all(cats, n);
    return rc;
}

const char *i18n_lang(const struct dk_catalog *c)
{
    return c->lang;
}

static void warn_once(const struct dk_catalog *c, const char *key)
{
    bool first;

    pthread_mutex_lock((pthread_mutex_t *)&c->lock);
    first = json_object_get(c->warned, key) == NULL;
    if (first)
        json_object_set_new(c->warned, key, json_true());
    pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
    if (first && c->fallback != NULL)
        log_warn("no text for \"%s\" in message catalog %s.json or %s.json; the key is shown",
                 key, c->lang, I18N_FALLBACK);
    else if (first)
        log_warn("no text for \"%s\" in message catalog %s.json; the key is shown", key,
                 c->lang);
}

const char *i18n_text(const struct dk_catalog *c, const char *key)
{
    const char *text = json_string_value(json_object_get(c->texts, key));

    if (text == NULL && c->fallback != NULL)
        text = json_string_value(json_object_get(c->fallback, key));
    if (text != NULL)
        return text;
    warn_once(c, key);
    return key;
}

struct fill_args {
    const char *name[I18N_MAX_ARGS];
    const char *value[I18N_MAX_ARGS];
    size_t n;
};

/* The value given for the placeholder name (len bytes), or NULL. */
static const char *arg_value(const struct fill_args *a, const char *name, size_t len)
{
    for (size_t i = 0; i < a->n; i++) {
        if (strlen(a->name[i]) == len && memcmp(a->name[i], name, len) == 0)
            return a->value[i] != NULL ? a->value[i] : "";
    }
    return NULL;
}

/* Copy text to f with each known {NAME} replaced.  One pass: a value that
 * itself holds "{...}" (a scanned label can) is written as it is, never
 * filled again. */
static void fill(FILE *f, const char *text, const struct fill_args *a)
{
    const char *p = text;
    size_t len;

    for (const char *open = next_placeholder(p, &len); open != NULL;
         open = next_placeholder(p, &len)) {
        const char *value = arg_value(a, open + 1, len);

        /* A placeholder with no value given is left as written. */
        fwrite(p, 1, (size_t)(open - p) + (value != NULL ? 0 : len + 2), f);
        if (value != NULL)
            fputs(value, f);
        p = open + len + 2;
    }
    fputs(p, f);
}

char *i18n_format(const struct dk_catalog *c, const char *key, ...)
{
    struct fill_args a = {.n = 0};
    const char *name;
    char *buf = NULL;
    size_t size = 0;
    FILE *f;
    va_list ap;

    va_start(ap, key);
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);

        if (a.n == I18N_MAX_ARGS) {
            log_warn("i18n_format(\"%s\"): more than %d placeholders given; \"%s\" ignored",
                     key, I18N_MAX_ARGS, name);
            continue;
        }
        a.name[a.n] = name;
        a.value[a.n++] = value;
    }
    va_end(ap);

    f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    fill(f, i18n_text(c, key), &a);
    /* open_memstream sets buf only once the stream is flushed or closed. */
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void i18n_free(struct dk_catalog *c)
{
    if (c == NULL)
        return;
    json_decref(c->texts);
    json_decref(c->fallback);
    json_decref(c->warned);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
