/* dropkioskctl digest. */
#include "ctl.h"

#include <stdio.h>

int ctl_digest(struct dk_ctl *c)
{
    (void)c;
    fputs("dropkioskctl: digest: not built yet\n", stderr);
    return 3;
}
