/* Message catalogs: the words the kiosk shows, prints and mails, in the
 * person's language.  One JSON file a language, LANG.json (a flat object
 * of "key": "text"), in the catalog folder: [kiosk] catalogs, else the
 * folder the programs were built with (DK_CATALOG_DIR).  The web UI reads
 * the same files.
 *
 * Texts may hold named placeholders, "{tag}", filled by i18n_format; a
 * catalog text is never used as a printf format. */
#ifndef DK_I18N_H
#define DK_I18N_H

#include "config.h"
#include "error.h"

#include <stdbool.h>

struct dk_catalog;

/* The catalog folder cfg names, or the built-in one. */
const char *i18n_dir(const struct dk_config *cfg);

/* Load LANG.json from dir, with en.json behind it for any key it lacks.
 * 0; DK_EINPUT naming the file (and line and column) when it is not a flat
 * JSON object of strings, or lang is not a plain language code, or (for a
 * language other than English) a text's set of {NAME} placeholders is not
 * the English text's of the same key, naming the key and the placeholder;
 * -errno when it cannot be read (en.json too).  A placeholder is what
 * i18n_format fills: "{", one or more of [A-Za-z0-9_], "}"; there is no
 * escape, so "{{count}}" holds {count}.  How often a placeholder appears
 * does not matter, nor do keys English lacks.  The caller frees with
 * i18n_free. */
int i18n_load(const char *dir, const char *lang, struct dk_catalog **out,
              struct dk_error *err);

/* true when i18n_load would load LANG.json from dir (lang checked as a
 * plain code first).  A file that is there but refused is logged as a
 * warning; a missing one is not. */
bool i18n_available(const char *dir, const char *lang);

/* Check a catalog folder as the programs will use it: en.json first, then
 * every LANG.json in dir (names that are not a language code, such as
 * es_ES.json or notes.json, are not catalogs and are passed over), in
 * name order, each by i18n_load's rules.  Loads nothing for later use and
 * logs nothing.  0 when all load; else the first failure, with err naming
 * the file: DK_EINPUT for a file that is there but refused, -errno for one
 * that cannot be read (-ENOENT when en.json is missing) or a folder that
 * cannot be listed. */
int i18n_check_dir(const char *dir, struct dk_error *err);

/* The language code the catalog was loaded for ("es"). */
const char *i18n_lang(const struct dk_catalog *c);

/* The text for key; the key itself when no catalog has it (and a warning
 * is logged once), so a missing text shows up but never crashes.  Never
 * NULL; owned by the catalog. */
const char *i18n_text(const struct dk_catalog *c, const char *key);

/* The text for key with each {NAME} replaced by its value: the arguments
 * after key are NAME, VALUE pairs ending with I18N_END.  A {NAME} with no
 * value given is left as written.  malloc'd (the caller frees); NULL when
 * memory runs out. */
/* Ends i18n_format's NAME, VALUE pairs: a NULL of the pairs' own type (a
 * bare NULL may be a plain 0 in a variadic call). */
#define I18N_END ((const char *)NULL)

char *i18n_format(const struct dk_catalog *c, const char *key, ...)
    __attribute__((sentinel));

/* Free; accepts NULL. */
void i18n_free(struct dk_catalog *c);

/* Load every catalog of dir as i18n_check_dir checks them: en.json first,
 * then each LANG.json in name order.  0 with *out a malloc'd array of *n
 * catalogs (free with i18n_free_all), or the first failure as
 * i18n_check_dir returns it (nothing kept). */
int i18n_load_all(const char *dir, struct dk_catalog ***out, size_t *n, struct dk_error *err);

/* Free what i18n_load_all gave; accepts NULL. */
void i18n_free_all(struct dk_catalog **cats, size_t n);

#endif
