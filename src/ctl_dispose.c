/* dropkioskctl's dispose verbs (being written; they refuse until then). */
#include "ctl.h"

#include <stdio.h>

int ctl_dispose(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}

int ctl_manifest(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}

int ctl_reserve(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}
