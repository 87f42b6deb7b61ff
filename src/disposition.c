/* The disposition rules engine (being written; accepts no rules yet). */
#include "disposition.h"

int disposition_check_rules(const struct dk_config *cfg, struct dk_error *err)
{
    if (cfg->n_rules > 0)
        return dk_error_set(err, DK_EINPUT, "%s:%d: disposition rules are not available yet",
                            cfg->path, cfg->rule_lines[0]);
    return 0;
}
