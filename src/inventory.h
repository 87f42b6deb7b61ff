/* Looking up assets and staff in the store. */
#ifndef DK_INVENTORY_H
#define DK_INVENTORY_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* Text fields hold up to 255 bytes, the most an import accepts, so nothing
 * read back from the store is ever cut. */
struct dk_asset {
    char tag[256]; /* as long as any scan the kiosk accepts */
    char serial[256];
    char type[16]; /* laptop, chromebook, tablet, phone, hotspot, desktop, other */
    char make[256];
    char model[256];
    char assignee[256]; /* staff id, email or name as imported; "" if none */
    bool charger_expected;
};

struct dk_staff {
    char id[256];
    char name[256];
    char email[256];
    char department[256];
    char leader_email[256];
};

enum dk_asset_key {
    DK_ASSET_BY_TAG,
    DK_ASSET_BY_SERIAL, /* ignoring case */
    DK_ASSET_BY_IMEI,
};

/* Find one asset.  0 with *a filled, DK_ENOTFOUND, or DK_EDB. */
int inventory_find_asset(struct dk_store *store, enum dk_asset_key by, const char *key,
                         struct dk_asset *a, struct dk_error *err);

/* Find a staff member by id (exact) or email (ignoring case).  0,
 * DK_ENOTFOUND, DK_EINPUT when an email belongs to more than one staff
 * member (the person must use a badge or id), or DK_EDB. */
int inventory_find_staff(struct dk_store *store, const char *key, struct dk_staff *s,
                         struct dk_error *err);

/* true when the asset's recorded assignee is this staff member (by id,
 * email or name, ignoring case). */
bool inventory_is_assignee(const struct dk_asset *a, const struct dk_staff *s);

enum dk_open_return {
    DK_RETURN_NONE = 0,     /* every return of the tag is dispositioned */
    DK_RETURN_DROPPED = 1,  /* waiting for a technician */
    DK_RETURN_RECEIVED = 2, /* with OIIT: received, not yet dispositioned */
};

/* Whether tag has a return not yet dispositioned.  DK_RETURN_RECEIVED with
 * its received time (UTC) in when when one is 'received' (it wins over a
 * 'dropped' one: the device is with OIIT), else DK_RETURN_DROPPED with its
 * drop time, else DK_RETURN_NONE; DK_EDB.  when holds at least 32 bytes. */
int inventory_open_return(struct dk_store *store, const char *tag, char *when, size_t size,
                          struct dk_error *err);

/* Whether the device tagged tag was recycled: its asset status is
 * 'recycled', or one of its returns is on an e-waste manifest (which also
 * covers a tag the inventory lacks, and an import that later rewrote the
 * status).  1 with the newest such manifest's id in *manifest (0 when none
 * is on record), 0 when not recycled, DK_EDB. */
int inventory_recycled(struct dk_store *store, const char *tag, int64_t *manifest,
                       struct dk_error *err);

/* Make sure the site and kiosk rows exist and carry the configured names.
 * Call inside a transaction or alone; 0 or DK_EDB. */
int inventory_register_kiosk(struct dk_store *store, const char *site_id,
                             const char *site_name, const char *kiosk_id,
                             struct dk_error *err);

#endif
