#include "kiosk_api.h"

#include "i18n.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define QUEUE_MAX 32 /* inputs a person could not give faster than the kiosk reads */

struct dk_kiosk_api {
    const struct dk_config *cfg;
    struct dk_catalog *const *catalogs; /* the daemon's, loaded at start */
    size_t n_catalogs;
    int efd;
    pthread_mutex_t lock;
    struct dk_screen_input queue[QUEUE_MAX];
    size_t head, count;
    json_t *state;
    struct dk_kiosk_health health;
    bool have_health;
};

static const char *const answers[] = {"yes", "no", "done", "skip", "cancel"};

static bool push(struct dk_kiosk_api *api, const struct dk_screen_input *in)
{
    uint64_t one = 1;
    bool ok;

    pthread_mutex_lock(&api->lock);
    ok = api->count < QUEUE_MAX;
    if (ok) {
        api->queue[(api->head + api->count) % QUEUE_MAX] = *in;
        api->count++;
    }
    pthread_mutex_unlock(&api->lock);
    if (ok && write(api->efd, &one, sizeof(one)) != sizeof(one))
        log_warn("cannot wake the kiosk for a screen input: %s", strerror(errno));
    return ok;
}

bool kiosk_api_next(struct dk_kiosk_api *api, struct dk_screen_input *in)
{
    uint64_t n;
    bool found;

    pthread_mutex_lock(&api->lock);
    found = api->count > 0;
    if (found) {
        *in = api->queue[api->head];
        api->head = (api->head + 1) % QUEUE_MAX;
        api->count--;
    }
    if (api->count == 0 && read(api->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_warn("cannot read the screen's input counter: %s", strerror(errno));
    pthread_mutex_unlock(&api->lock);
    return found;
}

/* {"answer": WORD} | {"text": TEXT} | {"language": CODE}: exactly one. */
/* Whether the daemon has a catalog for code. */
static bool offered(const struct dk_kiosk_api *api, const char *code)
{
    for (size_t i = 0; i < api->n_catalogs; i++) {
        if (strcmp(i18n_lang(api->catalogs[i]), code) == 0)
            return true;
    }
    return false;
}

static int parse_input(const struct dk_kiosk_api *api, const json_t *body,
                       struct dk_screen_input *in, char *why, size_t size)
{
    const char *answer = json_string_value(json_object_get(body, "answer"));
    const char *text = json_string_value(json_object_get(body, "text"));
    const char *lang = json_string_value(json_object_get(body, "language"));
    bool here = json_is_true(json_object_get(body, "still_here"));

    memset(in, 0, sizeof(*in));
    if (body == NULL || json_object_size(body) != 1 || (!answer && !text && !lang && !here)) {
        snprintf(why, size, "give one of \"answer\", \"text\" or \"language\", as a string, "
                            "or \"still_here\": true");
        return -1;
    }
    if (here) {
        in->still_here = true;
        return 0;
    }
    if (answer != NULL) {
        for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
            if (strcmp(answer, answers[i]) == 0) {
                snprintf(in->text, sizeof(in->text), "%s", answer);
                return 0;
            }
        }
        snprintf(why, size, "\"answer\" must be yes, no, done, skip or cancel");
        return -1;
    }
    if (text != NULL) {
        size_t n = strlen(text);

        if (n == 0 || n > DK_SCREEN_TEXT_MAX) {
            snprintf(why, size, "\"text\" must be 1 to %d bytes", DK_SCREEN_TEXT_MAX);
            return -1;
        }
        memcpy(in->text, text, n + 1);
        return 0;
    }
    if (strlen(lang) >= sizeof(in->language)) {
        snprintf(why, size, "\"language\" is not a language code");
        return -1;
    }
    /* Refused here, with a reason, rather than dropped by the kiosk. */
    if (!offered(api, lang)) {
        snprintf(why, size, "no message catalog for \"language\" %.15s", lang);
        return -1;
    }
    snprintf(in->language, sizeof(in->language), "%s", lang);
    return 0;
}

static void post_input(void *user, const struct dk_http_request *req,
                       struct dk_http_reply *rep)
{
    struct dk_kiosk_api *api = user;
    struct dk_screen_input in;
    char why[128];

    if (parse_input(api, req->body, &in, why, sizeof(why)) != 0) {
        http_reply_error(rep, 400, "%s", why);
        return;
    }
    if (!push(api, &in)) {
        http_reply_error(rep, 503, "the kiosk is busy; try again");
        return;
    }
    http_reply_json(rep, 202, json_pack("{s:b}", "queued", 1));
}

static void get_state(void *user, const struct dk_http_request *req, struct dk_http_reply *rep)
{
    struct dk_kiosk_api *api = user;
    json_t *copy;

    (void)req;
    pthread_mutex_lock(&api->lock);
    copy = api->state != NULL ? json_deep_copy(api->state) : json_pack("{s:s}", "screen",
                                                                         "start");
    pthread_mutex_unlock(&api->lock);
    http_reply_json(rep, 200, copy);
}

static json_t *health_json(const struct dk_kiosk_health *hl)
{
    return json_pack("{s:b, s:s, s:i, s:b}", "scanner", hl->scanner, "printer",
                     !hl->has_printer ? "none" : hl->printer ? "ready" : "out of service",
                     "mail_queue", hl->mail_queue, "database", hl->database);
}

static void get_health(void *user, const struct dk_http_request *req,
                       struct dk_http_reply *rep)
{
    struct dk_kiosk_api *api = user;
    struct dk_kiosk_health hl;

    (void)req;
    pthread_mutex_lock(&api->lock);
    hl = api->health;
    pthread_mutex_unlock(&api->lock);
    http_reply_json(rep, 200, health_json(&hl));
}

/* Every catalog the daemon loaded, with its language's own name. */
static void get_languages(void *user, const struct dk_http_request *req,
                          struct dk_http_reply *rep)
{
    struct dk_kiosk_api *api = user;
    json_t *list = json_array();

    (void)req;
    for (size_t i = 0; list != NULL && i < api->n_catalogs; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "code",
                                              i18n_lang(api->catalogs[i]), "name",
                                              i18n_text(api->catalogs[i], "language.name")));
    http_reply_json(rep, 200, list);
}

static const struct dk_http_route routes[] = {
    {"POST", "/api/input", post_input, NULL},
    {"GET", "/api/state", get_state, NULL},
    {"GET", "/api/health", get_health, NULL},
    {"GET", "/api/languages", get_languages, NULL},
};

int kiosk_api_new(const struct dk_config *cfg, struct dk_catalog *const *catalogs,
                  size_t n_catalogs, struct dk_kiosk_api **out, struct dk_error *err)
{
    struct dk_kiosk_api *api = calloc(1, sizeof(*api));

    *out = NULL;
    if (api == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    api->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (api->efd < 0) {
        int rc = -errno;

        free(api);
        return dk_error_set(err, rc, "cannot make the screen's input queue: %s",
                            strerror(-rc));
    }
    pthread_mutex_init(&api->lock, NULL);
    api->cfg = cfg;
    api->catalogs = catalogs;
    api->n_catalogs = n_catalogs;
    *out = api;
    return 0;
}

void kiosk_api_free(struct dk_kiosk_api *api)
{
    if (api == NULL)
        return;
    close(api->efd);
    json_decref(api->state);
    pthread_mutex_destroy(&api->lock);
    free(api);
}

int kiosk_api_routes(struct dk_kiosk_api *api, struct dk_http_config *hc)
{
    return http_add_routes(hc, routes, sizeof(routes) / sizeof(routes[0]), api);
}

int kiosk_api_fd(const struct dk_kiosk_api *api)
{
    return api->efd;
}

void kiosk_api_set_state(struct dk_kiosk_api *api, struct dk_http *h, json_t *view)
{
    if (view == NULL)
        return;
    http_publish(h, "state", view);
    pthread_mutex_lock(&api->lock);
    json_decref(api->state);
    api->state = view;
    pthread_mutex_unlock(&api->lock);
}

void kiosk_api_set_health(struct dk_kiosk_api *api, struct dk_http *h,
                          const struct dk_kiosk_health *health)
{
    bool changed;

    pthread_mutex_lock(&api->lock);
    changed = !api->have_health || api->health.scanner != health->scanner ||
              api->health.printer != health->printer ||
              api->health.has_printer != health->has_printer ||
              api->health.mail_queue != health->mail_queue ||
              api->health.database != health->database;
    api->health = *health;
    api->have_health = true;
    pthread_mutex_unlock(&api->lock);
    if (changed) {
        json_t *j = health_json(health);

        http_publish(h, "health", j);
        json_decref(j);
    }
}
