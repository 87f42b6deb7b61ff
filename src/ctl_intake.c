/* dropkioskctl's intake verbs (being written; they refuse until then). */
#include "ctl.h"

#include <stdio.h>

int ctl_tech(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}

int ctl_receive(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}

int ctl_cleanout(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}

int ctl_discrepancies(struct dk_ctl *c)
{
    fprintf(stderr, "dropkioskctl: %s is not available yet\n", c->args[0]);
    return 2;
}
