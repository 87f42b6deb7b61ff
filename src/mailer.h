/* The daemon's mail worker: a thread with its own database connection that
 * delivers due outbox messages, so a slow or absent mail server never holds
 * up the kiosk screen. */
#ifndef DK_MAILER_H
#define DK_MAILER_H

#include "config.h"

struct dk_mailer;

/* Start the worker for cfg (which must outlive it).  0, or -errno / DK_EDB
 * with the reason in err. */
int mailer_start(const struct dk_config *cfg, struct dk_mailer **out, struct dk_error *err);

/* Ask for a delivery round now (after queueing mail).  Thread-safe. */
void mailer_wake(void *mailer);

/* Finish the attempt in progress, stop and free; accepts NULL. */
void mailer_stop(struct dk_mailer *m);

#endif
