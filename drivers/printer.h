/* Receipt printers: the one interface the core sees.
 *
 * Back ends (drivers/printer_*.c, chosen by [printer NAME] type =):
 *   usb    ESC/POS over libusb bulk transfers, found by vid/pid
 *   usblp  ESC/POS written to the kernel's /dev/usb/lp* node
 *   tcp    ESC/POS over a raw socket (port 9100)
 *   cups   the slip rendered as an image and queued through libcups
 *   file   a folder: the raw ESC/POS bytes and a PNG preview of the slip
 *
 * A printer is opened for one job (status query, then print) and closed,
 * so a technician's reprint from dropkioskctl and the kiosk never hold the
 * device at the same time for long. */
#ifndef DK_PRINTER_H
#define DK_PRINTER_H

#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* What the printer said when asked (ESC/POS DLE EOT, or the CUPS queue's
 * printer-state). */
enum dk_printer_state {
    DK_PRINTER_READY,
    DK_PRINTER_PAPER_OUT,
    DK_PRINTER_COVER_OPEN,
    DK_PRINTER_OFFLINE,   /* answered, but offline or in an error state */
    DK_PRINTER_NO_ANSWER, /* cannot be reached, or no answer in time */
};

struct dk_slip_device {
    const char *tag;
    const char *model; /* "" when the device is not in the inventory */
    bool charger;      /* declared in the bag */
};

/* The words printed on a slip, in the person's language (from the message
 * catalog).  All UTF-8. */
struct dk_slip_words {
    const char *title;    /* "Device return receipt" */
    const char *receipt;  /* "Receipt" (before the id) */
    const char *device;   /* "Asset" (before each tag) */
    const char *charger;  /* "Charger" */
    const char *yes;
    const char *no;
    const char *pending;  /* "Pending technician verification" */
    const char *scan_qr;  /* "Scan to check this receipt" */
};

/* One printed receipt.  Every pointer is borrowed for the call. */
struct dk_slip {
    const char *district;
    const char *site_name;
    const char *receipt_id;
    const char *when_local; /* local time text, as shown at the kiosk */
    const struct dk_slip_device *devices;
    size_t n_devices;
    const unsigned char *payload; /* the signed receipt payload, exactly as signed */
    size_t payload_len;
    struct dk_slip_words words;
};

struct dk_printer;

/* Open the printer pc describes (pc must outlive the handle).  0, or
 * -errno / DK_E... with the reason in err (naming the printer) when it
 * cannot be reached. */
int printer_open(const struct dk_printer_config *pc, struct dk_printer **out,
                 struct dk_error *err);

/* Ask the printer's state.  Always 0 with *state set (a printer that does
 * not answer is DK_PRINTER_NO_ANSWER), or -EINVAL for a NULL argument. */
int printer_query(struct dk_printer *p, enum dk_printer_state *state);

/* Print slip: header, devices, the pending note, the QR code (the
 * printer's own QR command or a raster image, by the config's qr mode),
 * then feed and cut.  0 when every byte was handed to the printer (or the
 * CUPS job was accepted); DK_EINPUT when the slip cannot be laid out
 * (payload too long for one QR code); -errno (-EPIPE, -ETIMEDOUT, ...) with
 * the reason in err when the connection failed, possibly mid-slip. */
int printer_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err);

/* Close and free; accepts NULL. */
void printer_close(struct dk_printer *p);

/* The config's name of a back end: "usb", "usblp", "tcp", "cups", "file". */
const char *printer_kind_name(enum dk_printer_kind kind);

/* "ready", "paper out", "cover open", "offline", "not answering". */
const char *printer_state_name(enum dk_printer_state state);

#endif
