/* dropkioskctl's report verbs (being written; they refuse until then). */
#include "ctl.h"

#include <stdio.h>

int ctl_report(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}
