/* The USB receipt printer back end: ESC/POS over libusb-1.0 bulk
 * transfers, for printers the kernel's usblp driver does not serve (or
 * when the kiosk should not depend on its node names).
 *
 * Which device.  [printer NAME] vid and pid narrow the search; with
 * neither, every device is looked at.  The interface used is the first of
 * class 7 (USB Printer Class 1.1, section 4.3) with a bulk OUT endpoint;
 * failing that, the first vendor-specific one (class 0xff) with a bulk OUT
 * endpoint, which is how a number of ESC/POS printers present themselves.
 * Status replies (DLE EOT) come back on the interface's bulk IN endpoint;
 * a printer without one is "not answering".
 *
 * The kernel's usblp driver, when bound to the interface, is detached for
 * the job and attached again on close, so that /dev/usb/lp* comes back
 * for anything else that uses it.  Each job uses its own libusb context:
 * the printer is opened for one job and closed (printer.h), and nothing
 * here runs libusb events in the background. */
#include "printer_backend.h"
#include "usb_errno.h"

#include "log.h"

#include <libusb.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_CLASS_VENDOR 0xff
#define CHUNK 4096       /* bytes per bulk OUT transfer */
#define REPLY_MAX 512    /* a bulk IN read asks for a whole high-speed packet */
#define DRAIN_MS 10      /* how long to look for stale status bytes */

struct usb_printer {
    libusb_context *ctx;
    libusb_device_handle *handle;
    int iface;
    bool claimed;
    bool detached; /* the kernel's driver was detached and goes back on close */
    unsigned char ep_out;
    unsigned char ep_in; /* 0 when the interface has no bulk IN endpoint */
};

struct usb_match {
    libusb_device *dev;
    int iface;
    unsigned char ep_out;
    unsigned char ep_in;
};

/* The bulk endpoints of alt: true when it has a bulk OUT one. */
static bool bulk_endpoints(const struct libusb_interface_descriptor *alt, unsigned char *out,
                           unsigned char *in)
{
    *out = 0;
    *in = 0;
    for (int i = 0; i < alt->bNumEndpoints; i++) {
        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];

        if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
            continue;
        if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
            if (*in == 0)
                *in = ep->bEndpointAddress;
        } else if (*out == 0) {
            *out = ep->bEndpointAddress;
        }
    }
    return *out != 0;
}

/* The first interface of dev in class cls with a bulk OUT endpoint. */
static bool find_interface(libusb_device *dev, uint8_t cls, struct usb_match *m)
{
    struct libusb_config_descriptor *conf = NULL;
    bool found = false;

    if (libusb_get_active_config_descriptor(dev, &conf) != 0 &&
        libusb_get_config_descriptor(dev, 0, &conf) != 0)
        return false;
    for (int i = 0; !found && i < conf->bNumInterfaces; i++) {
        const struct libusb_interface *intf = &conf->interface[i];

        if (intf->num_altsetting < 1)
            continue;
        /* Alternate setting 0 is the one in use after claiming. */
        const struct libusb_interface_descriptor *alt = &intf->altsetting[0];

        if (alt->bInterfaceClass == cls && bulk_endpoints(alt, &m->ep_out, &m->ep_in)) {
            m->dev = dev;
            m->iface = alt->bInterfaceNumber;
            found = true;
        }
    }
    libusb_free_config_descriptor(conf);
    return found;
}

static bool wanted(const struct dk_printer_config *pc, libusb_device *dev)
{
    struct libusb_device_descriptor dd;

    if (libusb_get_device_descriptor(dev, &dd) != 0)
        return false;
    return (pc->vid < 0 || dd.idVendor == pc->vid) && (pc->pid < 0 || dd.idProduct == pc->pid);
}

/* A printer-class interface on any wanted device beats a vendor-specific
 * one, so that a stray vendor-specific device never shadows the printer. */
static bool find_printer(const struct dk_printer_config *pc, libusb_device **list,
                         ssize_t n, struct usb_match *m, bool *device_seen)
{
    static const uint8_t classes[2] = {LIBUSB_CLASS_PRINTER, USB_CLASS_VENDOR};

    *device_seen = false;
    for (int c = 0; c < 2; c++) {
        for (ssize_t i = 0; i < n; i++) {
            if (!wanted(pc, list[i]))
                continue;
            *device_seen = true;
            if (find_interface(list[i], classes[c], m))
                return true;
        }
    }
    return false;
}

static int not_found(const struct dk_printer *p, bool device_seen, struct dk_error *err)
{
    const struct dk_printer_config *pc = p->cfg;
    char id[24];

    if (pc->vid < 0 && pc->pid < 0)
        return dk_error_set(err, -ENODEV,
                            "cannot open printer %s: no USB printer is plugged in (no device "
                            "has a printer-class or vendor-specific interface with a bulk OUT "
                            "endpoint)",
                            p->label);
    if (pc->pid < 0)
        snprintf(id, sizeof(id), "%04x:any", (unsigned)pc->vid);
    else if (pc->vid < 0)
        snprintf(id, sizeof(id), "any:%04x", (unsigned)pc->pid);
    else
        snprintf(id, sizeof(id), "%04x:%04x", (unsigned)pc->vid, (unsigned)pc->pid);
    if (device_seen)
        return dk_error_set(err, -ENODEV,
                            "cannot open printer %s: USB device %s has no printer interface "
                            "with a bulk OUT endpoint",
                            p->label, id);
    return dk_error_set(err, -ENODEV, "cannot open printer %s: no USB device %s is plugged in",
                        p->label, id);
}

/* Open the device, take the interface from the kernel if it holds it, and
 * claim it. */
static int take(struct dk_printer *p, struct usb_printer *u, const struct usb_match *m,
                struct dk_error *err)
{
    int rc = libusb_open(m->dev, &u->handle);

    if (rc != 0) {
        u->handle = NULL;
        if (rc == LIBUSB_ERROR_ACCESS)
            return dk_error_set(err, -EACCES,
                                "cannot open printer %s: %s (a udev rule must give the "
                                "dropkiosk user the device)",
                                p->label, libusb_strerror(rc));
        return dk_error_set(err, usb_errno(rc), "cannot open printer %s: %s", p->label,
                            libusb_strerror(rc));
    }
    u->iface = m->iface;
    u->ep_out = m->ep_out;
    u->ep_in = m->ep_in;
    if (libusb_kernel_driver_active(u->handle, u->iface) == 1) {
        rc = libusb_detach_kernel_driver(u->handle, u->iface);
        if (rc != 0)
            return dk_error_set(err, usb_errno(rc),
                                "cannot open printer %s: cannot take interface %d from the "
                                "kernel's driver: %s",
                                p->label, u->iface, libusb_strerror(rc));
        u->detached = true;
    }
    rc = libusb_claim_interface(u->handle, u->iface);
    if (rc != 0)
        return dk_error_set(err, usb_errno(rc),
                            "cannot open printer %s: cannot claim interface %d: %s", p->label,
                            u->iface, libusb_strerror(rc));
    u->claimed = true;
    return 0;
}

static int usb_find_and_take(struct dk_printer *p, struct usb_printer *u, struct dk_error *err)
{
    libusb_device **list = NULL;
    struct usb_match m = {0};
    bool seen = false;
    ssize_t n = libusb_get_device_list(u->ctx, &list);
    int rc;

    if (n < 0)
        return dk_error_set(err, usb_errno((int)n), "cannot open printer %s: cannot list USB "
                            "devices: %s", p->label, libusb_strerror((int)n));
    if (!find_printer(p->cfg, list, n, &m, &seen))
        rc = not_found(p, seen, err);
    else
        rc = take(p, u, &m, err);
    libusb_free_device_list(list, 1);
    return rc;
}

static void usb_release(struct usb_printer *u)
{
    if (u->claimed)
        libusb_release_interface(u->handle, u->iface);
    if (u->detached) {
        int rc = libusb_attach_kernel_driver(u->handle, u->iface);

        if (rc != 0)
            log_warn("cannot give USB interface %d back to the kernel's driver: %s", u->iface,
                     libusb_strerror(rc));
    }
    if (u->handle != NULL)
        libusb_close(u->handle);
    if (u->ctx != NULL)
        libusb_exit(u->ctx);
    free(u);
}

static void drain(struct usb_printer *u)
{
    unsigned char junk[REPLY_MAX];
    int got = 0;

    while (libusb_bulk_transfer(u->handle, u->ep_in, junk, sizeof(junk), &got, DRAIN_MS) == 0 &&
           got > 0)
        ;
}

static int usb_ask(struct dk_printer *p, const unsigned char q[3])
{
    struct usb_printer *u = p->impl;
    unsigned char query[3], reply[REPLY_MAX];
    int got = 0;
    int rc;

    if (u->ep_in == 0)
        return -EOPNOTSUPP;
    drain(u);
    memcpy(query, q, sizeof(query));
    rc = libusb_bulk_transfer(u->handle, u->ep_out, query, sizeof(query), &got,
                              (unsigned)p->cfg->timeout_ms);
    if (rc != 0)
        return usb_errno(rc);
    /* Ask for a whole packet: a device sending more than was asked for
     * makes an overflow error rather than a short read. */
    do {
        rc = libusb_bulk_transfer(u->handle, u->ep_in, reply, sizeof(reply), &got,
                                  (unsigned)p->cfg->timeout_ms);
    } while (rc == 0 && got == 0);
    if (rc != 0)
        return usb_errno(rc);
    return reply[0];
}

static int usb_query(struct dk_printer *p, enum dk_printer_state *state)
{
    *state = printer_escpos_state(p, usb_ask);
    return 0;
}

static int usb_send(struct dk_printer *p, unsigned char *buf, size_t len, size_t *done)
{
    struct usb_printer *u = p->impl;

    *done = 0;
    while (*done < len) {
        int chunk = len - *done < CHUNK ? (int)(len - *done) : CHUNK;
        int sent = 0;
        int rc = libusb_bulk_transfer(u->handle, u->ep_out, buf + *done, chunk, &sent,
                                      (unsigned)p->cfg->timeout_ms);

        /* A timed-out transfer may still have moved part of its bytes. */
        *done += (size_t)sent;
        if (rc != 0)
            return usb_errno(rc);
    }
    return 0;
}

static int usb_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0, done = 0;
    int rc = printer_escpos_render(p, slip, &buf, &len, err);

    if (rc != 0)
        return rc;
    rc = usb_send(p, buf, len, &done);
    if (rc == -ETIMEDOUT)
        dk_error_set(err, rc,
                     "printer %s stopped taking data after %zu of %zu bytes "
                     "(nothing taken for %d ms)",
                     p->label, done, len, p->cfg->timeout_ms);
    else if (rc == -ENODEV)
        dk_error_set(err, rc, "printer %s was unplugged after %zu of %zu bytes", p->label, done,
                     len);
    else if (rc != 0)
        dk_error_set(err, rc, "cannot print on printer %s after %zu of %zu bytes: %s", p->label,
                     done, len, strerror(-rc));
    else
        log_debug("printer %s: sent %zu bytes", p->label, len);
    free(buf);
    return rc;
}

static void usb_close(struct dk_printer *p)
{
    if (p->impl != NULL)
        usb_release(p->impl);
    p->impl = NULL;
}

static const struct dk_printer_ops usb_ops = {
    .query = usb_query,
    .print = usb_print,
    .close = usb_close,
};

int printer_usb_open(struct dk_printer *p, struct dk_error *err)
{
    struct usb_printer *u = calloc(1, sizeof(*u));
    int rc;

    if (u == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    rc = libusb_init(&u->ctx);
    if (rc != 0) {
        u->ctx = NULL;
        rc = dk_error_set(err, usb_errno(rc), "cannot open printer %s: USB is not available: %s",
                          p->label, libusb_strerror(rc));
    }
    if (rc == 0)
        rc = usb_find_and_take(p, u, err);
    if (rc != 0) {
        usb_release(u);
        return rc;
    }
    p->ops = &usb_ops;
    p->impl = u;
    return 0;
}
