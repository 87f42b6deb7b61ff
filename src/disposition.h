/* The disposition rules engine: which fate (reimage, reassign, recycle) a
 * received device is proposed, by the first matching rule of the config's
 * [disposition] section.  The technician decides. */
#ifndef DK_DISPOSITION_H
#define DK_DISPOSITION_H

#include "config.h"

/* Check every `rule =` line of cfg; DK_EINPUT with "FILE:LINE: ..." in err
 * naming the first that is not a rule.  Called by config_load. */
int disposition_check_rules(const struct dk_config *cfg, struct dk_error *err);

#endif
