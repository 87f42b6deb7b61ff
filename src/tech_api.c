#include "tech_api.h"

#include <errno.h>
#include <stdlib.h>

/* TODO(console): the technician console's routes; until then /tech serves
 * only its page and every /api/tech/ request gets 404. */
struct dk_tech_api {
    const struct dk_config *cfg;
};

int tech_api_new(const struct dk_config *cfg, struct dk_tech_api **out, struct dk_error *err)
{
    struct dk_tech_api *api = calloc(1, sizeof(*api));

    *out = NULL;
    if (api == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    api->cfg = cfg;
    *out = api;
    return 0;
}

void tech_api_free(struct dk_tech_api *api)
{
    free(api);
}

int tech_api_routes(struct dk_tech_api *api, struct dk_http_config *hc)
{
    (void)api;
    (void)hc;
    return 0;
}
