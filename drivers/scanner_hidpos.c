/* The hidpos scanner back end (being written; refuses to open until then). */
#include "scanner_backend.h"

int scanner_hidpos_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                    struct dk_error *err)
{
    (void)s;
    return dk_error_set(err, DK_EINPUT, "scanner %s: type = hidpos is not available yet", cfg->name);
}
