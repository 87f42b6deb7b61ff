/* dropkioskctl printer and reprint. */
#include "ctl.h"

#include <stdio.h>

int ctl_printer(struct dk_ctl *c)
{
    (void)c;
    fputs("dropkioskctl: printer: not built yet\n", stderr);
    return 3;
}

int ctl_reprint(struct dk_ctl *c)
{
    (void)c;
    fputs("dropkioskctl: reprint: not built yet\n", stderr);
    return 3;
}
