/* The USB HID point-of-sale scanner back end, through libusb-1.0.
 *
 * A HID-POS scanner (usage page 0x8C, USB HID Point of Sale Usage Tables)
 * sends each barcode whole, with its AIM symbology identifier, in input
 * reports on its interrupt IN endpoint; drivers/hidpos.c turns those
 * reports into scans.  This file finds the scanner, takes its interface
 * from the kernel's usbhid driver, and reads it.
 *
 * Threads.  The kiosk loop polls one descriptor per scanner, but libusb
 * wants its events handled.  So each scanner owns a small thread that runs
 * libusb's event handling for a private libusb context; transfer and
 * hotplug callbacks run there, and finished scans go to the kiosk loop
 * through a bounded queue and an eventfd (the descriptor scanner_fd
 * returns).  Until the thread starts, the opening thread plays its part;
 * after it stops, the closing thread does.
 *
 * Which device.  [scanner NAME] vid and pid pick the device; with neither,
 * the first USB device with a non-boot HID interface whose report
 * descriptor declares usage page 0x8C is taken.  Either way the interface
 * used is the one whose report descriptor declares page 0x8C, since a
 * scanner may also offer a keyboard interface.
 *
 * A scanner not plugged in.  Where libusb can report hotplug events (Linux
 * with usbfs), opening succeeds and the back end waits: a matching scanner
 * plugged in later is opened within a second, and the daemon logs that it
 * is waiting.  An unattended kiosk booted with its scanner cable loose thus
 * starts working when someone plugs it in, with no restart.  Without
 * hotplug events, opening fails with -ENODEV.  Unplugging the scanner is
 * logged and reported as the scanner gone (-ENODEV from next), as the tty
 * back end does. */
#include "scanner_backend.h"
#include "usb_errno.h"

#include "hidpos.h"
#include "log.h"

#include <libusb.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

_Static_assert(DK_HIDPOS_SCAN_MAX == DK_SCAN_EVENT_MAX,
               "a HID-POS scan must fit a scan event whole");

#define QUEUE_MAX 16     /* scans finished but not yet taken by the kiosk loop */
#define ARRIVALS_MAX 8   /* plugged-in devices not yet looked at */
#define SLICE_MS 200     /* the event thread looks at arrivals and its stop flag this often */
#define ACCESS_TRIES 10  /* SLICE_MS apart: time for udev to set a new node's mode */
#define REPORT_GAP_MS 500 /* a continued barcode whose next report is this late is dropped */
#define CONTROL_TIMEOUT_MS 1000
#define CLOSE_WAIT_SLICES 20 /* of 100 ms: how long close waits for a cancelled transfer */
#define REPORT_DESC_MAX 4096
#define ERRORS_MAX 5     /* transfer errors in a row before the scanner counts as gone */

/* HID 1.11 section 4.2: subclass 1 is the boot interface (keyboards and
 * mice a BIOS can use); a HID-POS interface is never one. */
#define HID_SUBCLASS_BOOT 1
/* HID 1.11 section 7.1: class descriptor types. */
#define HID_DT_HID 0x21

struct arrival {
    libusb_device *dev; /* one reference held */
    int tries;
};

struct hidpos_scanner {
    /* Set by open, read only once the event thread runs. */
    char name[64];
    char label[40]; /* "usb 05e0:1200" or "usb HID-POS (any)" */
    int vid;        /* -1 for any */
    int pid;
    libusb_context *ctx;
    bool has_hotplug;
    bool hotplug_registered;
    libusb_hotplug_callback_handle hotplug;
    int efd;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;

    /* Touched only by the thread handling libusb events. */
    libusb_device *dev; /* the scanner in use, one reference held */
    libusb_device_handle *handle;
    int iface;
    struct libusb_transfer *xfer;
    bool in_flight;
    bool lost;    /* unplugged or failing; nothing more is read */
    bool stalled; /* the endpoint halted; cleared outside the callback */
    int errors;
    uint8_t report[DK_HIDPOS_REPORT_MAX];
    struct dk_hidpos_assembler assembler;
    uint64_t last_report_ns;
    struct arrival arrivals[ARRIVALS_MAX];
    size_t n_arrivals;
    bool rescan; /* look at every device (arrivals overflowed, or no hotplug) */

    /* Shared with the kiosk loop, under lock. */
    pthread_mutex_t lock;
    struct dk_scan_event queue[QUEUE_MAX];
    size_t head;
    size_t count;
    int gone; /* 0, or the -errno next returns */
    char gone_msg[DK_ERROR_MAX];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "BUS-PORT.PORT...", as Linux names the device under /sys/bus/usb. */
static void port_path(libusb_device *dev, char *buf, size_t size)
{
    uint8_t ports[8];
    int n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
    size_t used;

    snprintf(buf, size, "%u", libusb_get_bus_number(dev));
    for (int i = 0; i < n; i++) {
        used = strlen(buf);
        snprintf(buf + used, size - used, "%c%u", i == 0 ? '-' : '.', ports[i]);
    }
}

/* ---- handing results to the kiosk loop ---- */

static void wake_main(struct hidpos_scanner *h)
{
    uint64_t one = 1;
    ssize_t n = write(h->efd, &one, sizeof(one));

    /* Only a counter at its maximum refuses, and then it is readable. */
    (void)n;
}

static void push_scan(struct hidpos_scanner *h, const struct dk_scan_event *ev)
{
    bool full;

    pthread_mutex_lock(&h->lock);
    full = h->count == QUEUE_MAX;
    if (!full) {
        h->queue[(h->head + h->count) % QUEUE_MAX] = *ev;
        h->count++;
    }
    pthread_mutex_unlock(&h->lock);
    if (full)
        log_warn("scanner %s: %d scans waiting to be read; dropped a new one", h->name,
                 QUEUE_MAX);
    else
        wake_main(h);
}

/* Log once and tell the kiosk loop the scanner is gone. */
static void give_up(struct hidpos_scanner *h, int code, const char *why)
{
    if (h->lost)
        return;
    h->lost = true;
    log_warn("scanner %s: USB scanner %s %s", h->name, h->label, why);
    pthread_mutex_lock(&h->lock);
    h->gone = code;
    snprintf(h->gone_msg, sizeof(h->gone_msg), "scanner %s on %s is gone (%s)", h->name,
             h->label, why);
    pthread_mutex_unlock(&h->lock);
    wake_main(h);
}

/* ---- reading reports (event thread) ---- */

static void take_report(struct hidpos_scanner *h, const uint8_t *report, size_t n)
{
    struct dk_hidpos_scan scan;
    struct dk_scan_event ev;
    struct dk_error err = {{0}};
    uint64_t now = mono_ns();
    int rc;

    /* The reports of one barcode come one interrupt interval apart; a
     * continued barcode whose next report is this late lost it, and the
     * next report belongs to another barcode. */
    if (hidpos_assembler_busy(&h->assembler) &&
        now - h->last_report_ns > (uint64_t)REPORT_GAP_MS * 1000000u) {
        log_warn("scanner %s: the rest of a barcode never came; dropped its first part",
                 h->name);
        hidpos_assembler_reset(&h->assembler);
    }
    h->last_report_ns = now;
    rc = hidpos_feed(&h->assembler, report, n, &scan, &err);
    if (rc == 0)
        return;
    if (rc < 0 && rc != -EMSGSIZE) {
        log_warn("scanner %s: %s", h->name, err.msg);
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.mono_ns = now;
    /* An overlong barcode goes on as an overflow, so the person at the
     * kiosk is told, as with every other kind of scanner. */
    ev.overflow = rc == -EMSGSIZE;
    if (rc == 1) {
        memcpy(ev.text, scan.text, scan.len + 1);
        ev.len = scan.len;
        snprintf(ev.symbology, sizeof(ev.symbology), "%s", scan.symbology);
    }
    push_scan(h, &ev);
}

static void LIBUSB_CALL on_transfer(struct libusb_transfer *xfer)
{
    struct hidpos_scanner *h = xfer->user_data;
    int rc;

    switch (xfer->status) {
    case LIBUSB_TRANSFER_COMPLETED:
        h->errors = 0;
        take_report(h, xfer->buffer, (size_t)xfer->actual_length);
        break;
    case LIBUSB_TRANSFER_CANCELLED:
        h->in_flight = false;
        return;
    case LIBUSB_TRANSFER_NO_DEVICE:
        h->in_flight = false;
        give_up(h, -ENODEV, "unplugged");
        return;
    default:
        /* A stall or a garbled packet can pass; a run of them means the
         * device is not answering any more. */
        if (++h->errors == ERRORS_MAX) {
            h->in_flight = false;
            give_up(h, -EIO, "keeps failing to send reports");
            return;
        }
        /* A halted endpoint stalls every transfer until the host clears
         * the halt (USB 2.0 section 9.4.1, Clear Feature ENDPOINT_HALT), a
         * synchronous request libusb allows only outside callbacks. */
        if (xfer->status == LIBUSB_TRANSFER_STALL) {
            h->in_flight = false;
            h->stalled = true;
            return;
        }
        break;
    }
    if (atomic_load(&h->stop)) {
        h->in_flight = false;
        return;
    }
    rc = libusb_submit_transfer(xfer);
    if (rc != 0) {
        h->in_flight = false;
        give_up(h, rc == LIBUSB_ERROR_NO_DEVICE ? -ENODEV : usb_errno(rc),
                rc == LIBUSB_ERROR_NO_DEVICE ? "unplugged" : libusb_strerror(rc));
    }
}

/* ---- finding the scanner ---- */

static bool wanted(const struct hidpos_scanner *h, const struct libusb_device_descriptor *dd)
{
    return (h->vid < 0 || dd->idVendor == h->vid) && (h->pid < 0 || dd->idProduct == h->pid);
}

static int interrupt_in(const struct libusb_interface_descriptor *alt)
{
    for (int i = 0; i < alt->bNumEndpoints; i++) {
        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];

        if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN &&
            (ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) == LIBUSB_TRANSFER_TYPE_INTERRUPT)
            return ep->bEndpointAddress;
    }
    return -1;
}

/* Worth reading the report descriptor of: a HID interface with an
 * interrupt IN endpoint.  When searching without vid/pid, boot keyboards
 * and mice are left alone, since probing means taking the interface from
 * the kernel for a moment. */
static bool candidate(const struct hidpos_scanner *h, const struct libusb_interface_descriptor *alt)
{
    bool searching = h->vid < 0 && h->pid < 0;

    return alt->bInterfaceClass == LIBUSB_CLASS_HID && interrupt_in(alt) >= 0 &&
           !(searching && alt->bInterfaceSubClass == HID_SUBCLASS_BOOT);
}

/* The report descriptor's length from the HID descriptor that follows the
 * interface descriptor (HID 1.11 section 6.2.1: bLength, type 0x21, bcdHID,
 * country, number of class descriptors, then type and 16-bit length of
 * each); REPORT_DESC_MAX when it says nothing usable. */
static size_t report_desc_size(const struct libusb_interface_descriptor *alt)
{
    const unsigned char *p = alt->extra;
    int left = alt->extra_length;

    while (left >= 2 && p[0] >= 2 && p[0] <= left) {
        if (p[1] == HID_DT_HID && p[0] >= 9) {
            for (int k = 0; k < p[5] && 6 + 3 * k + 2 < p[0]; k++) {
                const unsigned char *d = p + 6 + 3 * k;
                size_t n = (size_t)d[1] | (size_t)d[2] << 8;

                if (d[0] == LIBUSB_DT_REPORT && n > 0)
                    return n < REPORT_DESC_MAX ? n : REPORT_DESC_MAX;
            }
        }
        left -= p[0];
        p += p[0];
    }
    return REPORT_DESC_MAX;
}

/* Claim interface alt on handle and read its report descriptor (HID 1.11
 * section 7.1.1, Get_Descriptor to the interface; Linux's usbfs passes a
 * request to an interface only once this process holds the interface).  1 when it
 * declares usage page 0x8C (the interface stays claimed), 0 when not (it
 * is released, and auto-detach gives it back to the kernel), or -errno. */
static int claim_if_pos(libusb_device_handle *handle, const struct libusb_interface_descriptor *alt,
                        struct dk_error *err)
{
    uint8_t desc[REPORT_DESC_MAX];
    int ifnum = alt->bInterfaceNumber;
    int rc = libusb_claim_interface(handle, ifnum);

    if (rc != 0)
        return dk_error_set(err, usb_errno(rc), "cannot claim interface %d: %s", ifnum,
                            libusb_strerror(rc));
    rc = libusb_control_transfer(
        handle, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_STANDARD | LIBUSB_RECIPIENT_INTERFACE,
        LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_REPORT << 8, (uint16_t)ifnum, desc,
        (uint16_t)report_desc_size(alt), CONTROL_TIMEOUT_MS);
    if (rc > 0 && hidpos_descriptor_is_pos(desc, (size_t)rc))
        return 1;
    libusb_release_interface(handle, ifnum);
    if (rc < 0)
        return dk_error_set(err, usb_errno(rc), "cannot read report descriptor %d: %s", ifnum,
                            libusb_strerror(rc));
    return 0;
}

/* Start reading the claimed interface alt of dev. */
static int start_reading(struct hidpos_scanner *h, libusb_device *dev,
                         libusb_device_handle *handle,
                         const struct libusb_interface_descriptor *alt, struct dk_error *err)
{
    char where[32];
    int rc;

    /* One report a transfer: the buffer is exactly one report long, so the
     * transfer ends when the report does even when the endpoint's packets
     * are smaller (an interrupt transfer ends on a full buffer or a short
     * packet, USB 2.0 section 5.7.3). */
    libusb_fill_interrupt_transfer(h->xfer, handle, (unsigned char)interrupt_in(alt), h->report,
                                   h->assembler.layout.report_size, on_transfer, h, 0);
    rc = libusb_submit_transfer(h->xfer);
    if (rc != 0)
        return dk_error_set(err, usb_errno(rc), "cannot read interface %d: %s",
                            alt->bInterfaceNumber, libusb_strerror(rc));
    h->in_flight = true;
    h->handle = handle;
    h->dev = libusb_ref_device(dev);
    h->iface = alt->bInterfaceNumber;
    hidpos_assembler_reset(&h->assembler);
    port_path(dev, where, sizeof(where));
    log_info("scanner %s: reading USB HID-POS scanner %s at port %s, interface %d", h->name,
             h->label, where, h->iface);
    return 0;
}

/* Use dev if it is the scanner.  1 when reading it, 0 when it is not the
 * scanner (err says why when that is worth telling), or -errno. */
static int try_device(struct hidpos_scanner *h, libusb_device *dev, struct dk_error *err)
{
    struct libusb_device_descriptor dd;
    struct libusb_config_descriptor *config = NULL;
    libusb_device_handle *handle = NULL;
    int rc = 0;

    if (libusb_get_device_descriptor(dev, &dd) != 0 || !wanted(h, &dd) ||
        libusb_get_active_config_descriptor(dev, &config) != 0)
        return 0;
    for (int i = 0; i < config->bNumInterfaces && rc == 0; i++) {
        const struct libusb_interface_descriptor *alt;

        if (config->interface[i].num_altsetting < 1)
            continue;
        alt = &config->interface[i].altsetting[0];
        if (!candidate(h, alt))
            continue;
        if (handle == NULL) {
            rc = libusb_open(dev, &handle);
            if (rc != 0) {
                rc = dk_error_set(err, usb_errno(rc), "cannot open USB device %04x:%04x: %s",
                                  dd.idVendor, dd.idProduct, libusb_strerror(rc));
                goto out;
            }
            /* Detached from usbhid on claim, given back on release. */
            libusb_set_auto_detach_kernel_driver(handle, 1);
        }
        rc = claim_if_pos(handle, alt, err);
        if (rc == 1) {
            rc = start_reading(h, dev, handle, alt, err);
            if (rc != 0) {
                libusb_release_interface(handle, alt->bInterfaceNumber);
                goto out;
            }
            handle = NULL;
            rc = 1;
        }
    }
    if (rc == 0 && (h->vid >= 0 || h->pid >= 0))
        dk_error_set(err, 0, "%04x:%04x has no HID-POS interface; set it to USB HID-POS mode",
                     dd.idVendor, dd.idProduct);
out:
    if (handle != NULL)
        libusb_close(handle);
    libusb_free_config_descriptor(config);
    return rc;
}

/* Look at every attached device.  1, 0 or the first -errno, as
 * try_device; err keeps the most useful reason. */
static int try_all(struct hidpos_scanner *h, struct dk_error *err)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(h->ctx, &list);
    int found = 0;

    if (n < 0)
        return dk_error_set(err, usb_errno((int)n), "cannot list USB devices: %s",
                            libusb_strerror((int)n));
    for (ssize_t i = 0; i < n && found != 1; i++) {
        int rc = try_device(h, list[i], err);

        if (rc == 1 || (rc < 0 && found == 0))
            found = rc;
    }
    libusb_free_device_list(list, 1);
    return found;
}

static void drop_arrival(struct hidpos_scanner *h, size_t i)
{
    libusb_unref_device(h->arrivals[i].dev);
    h->n_arrivals--;
    memmove(&h->arrivals[i], &h->arrivals[i + 1], (h->n_arrivals - i) * sizeof(h->arrivals[0]));
}

/* Look at devices plugged in since last time.  A device node just made
 * may not yet have the mode udev gives it, so with retry "access denied"
 * is tried again for a while before it is reported.  1, 0 or -errno as
 * try_device. */
static int try_arrivals(struct hidpos_scanner *h, bool retry, struct dk_error *err)
{
    int found = 0;
    size_t i = 0;

    if (h->rescan) {
        h->rescan = false;
        found = try_all(h, err);
    }
    while (i < h->n_arrivals && h->handle == NULL) {
        struct arrival *a = &h->arrivals[i];
        int rc = try_device(h, a->dev, err);

        if (retry && rc == -EACCES && ++a->tries < ACCESS_TRIES) {
            err->msg[0] = '\0';
            i++;
            continue;
        }
        if (rc == 1 || (rc < 0 && found == 0))
            found = rc;
        drop_arrival(h, i);
    }
    while (h->handle != NULL && h->n_arrivals > 0)
        drop_arrival(h, 0);
    return found;
}

static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev,
                                  libusb_hotplug_event event, void *user)
{
    struct hidpos_scanner *h = user;

    (void)ctx;
    /* libusb forbids device I/O in this callback (it runs inside event
     * handling), so arrivals are only noted here and opened afterwards. */
    if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT) {
        if (dev == h->dev)
            give_up(h, -ENODEV, "unplugged");
        return 0;
    }
    if (h->handle != NULL || h->lost)
        return 0;
    if (h->n_arrivals == ARRIVALS_MAX) {
        h->rescan = true;
        return 0;
    }
    h->arrivals[h->n_arrivals++] = (struct arrival){libusb_ref_device(dev), 0};
    return 0;
}

static void clear_stall(struct hidpos_scanner *h)
{
    int rc = libusb_clear_halt(h->handle, h->xfer->endpoint);

    h->stalled = false;
    if (rc == 0)
        rc = libusb_submit_transfer(h->xfer);
    if (rc == 0)
        h->in_flight = true;
    else
        give_up(h, usb_errno(rc), libusb_strerror(rc));
}

static void *event_thread(void *arg)
{
    struct hidpos_scanner *h = arg;

    while (!atomic_load(&h->stop)) {
        struct timeval tv = {0, SLICE_MS * 1000};
        struct dk_error err = {{0}};
        int rc = libusb_handle_events_timeout_completed(h->ctx, &tv, NULL);

        if (rc != 0 && rc != LIBUSB_ERROR_INTERRUPTED) {
            log_error("scanner %s: cannot handle USB events: %s", h->name, libusb_strerror(rc));
            nanosleep(&(struct timespec){0, SLICE_MS * 1000000L}, NULL);
        }
        if (h->stalled && !h->lost)
            clear_stall(h);
        if (h->handle != NULL || h->lost || (h->n_arrivals == 0 && !h->rescan))
            continue;
        if (try_arrivals(h, true, &err) < 0 || (h->handle == NULL && err.msg[0] != '\0'))
            log_warn("scanner %s: %s", h->name, err.msg);
    }
    return NULL;
}

/* ---- the ops ---- */

static int hidpos_fd(const struct dk_scanner *s)
{
    const struct hidpos_scanner *h = s->impl;

    return h->efd;
}

static int hidpos_next(struct dk_scanner *s, struct dk_scan_event *ev, struct dk_error *err)
{
    struct hidpos_scanner *h = s->impl;
    uint64_t count;
    ssize_t n = read(h->efd, &count, sizeof(count));
    int gone;

    /* Drained before the queue is looked at: a scan queued after this read
     * leaves the eventfd readable, so the loop comes back for it. */
    (void)n;
    pthread_mutex_lock(&h->lock);
    if (h->count > 0) {
        *ev = h->queue[h->head];
        h->head = (h->head + 1) % QUEUE_MAX;
        h->count--;
        pthread_mutex_unlock(&h->lock);
        return 1;
    }
    gone = h->gone;
    if (gone != 0)
        dk_error_set(err, gone, "%s", h->gone_msg);
    pthread_mutex_unlock(&h->lock);
    return gone;
}

/* Cancel the transfer and let its callback run, with no thread left to
 * handle events but this one. */
static void stop_reading(struct hidpos_scanner *h)
{
    if (h->in_flight && libusb_cancel_transfer(h->xfer) == LIBUSB_ERROR_NOT_FOUND)
        h->in_flight = false;
    for (int i = 0; i < CLOSE_WAIT_SLICES && h->in_flight; i++) {
        struct timeval tv = {0, 100000};

        libusb_handle_events_timeout_completed(h->ctx, &tv, NULL);
    }
    if (h->handle != NULL) {
        libusb_release_interface(h->handle, h->iface);
        libusb_close(h->handle);
        h->handle = NULL;
    }
    libusb_unref_device(h->dev);
    h->dev = NULL;
}

static void hidpos_close(struct dk_scanner *s)
{
    struct hidpos_scanner *h = s->impl;

    if (h == NULL)
        return;
    if (h->thread_started) {
        atomic_store(&h->stop, true);
        libusb_interrupt_event_handler(h->ctx);
        pthread_join(h->thread, NULL);
    }
    if (h->ctx != NULL) {
        stop_reading(h);
        while (h->n_arrivals > 0)
            drop_arrival(h, 0);
        if (h->hotplug_registered)
            libusb_hotplug_deregister_callback(h->ctx, h->hotplug);
    }
    /* A transfer still in flight after all that would be written to after
     * free; keeping it (and the context) is the lesser harm. */
    if (!h->in_flight) {
        libusb_free_transfer(h->xfer);
        if (h->ctx != NULL)
            libusb_exit(h->ctx);
    } else {
        log_error("scanner %s: USB transfer would not cancel; leaving it", h->name);
    }
    if (h->efd >= 0)
        close(h->efd);
    pthread_mutex_destroy(&h->lock);
    free(h);
    s->impl = NULL;
}

static const struct dk_scanner_ops hidpos_ops = {
    .fd = hidpos_fd,
    .next = hidpos_next,
    .wait_ms = NULL,
    .close = hidpos_close,
};

/* ---- opening ---- */

static struct hidpos_scanner *hidpos_new(struct dk_scanner *s, const struct dk_scanner_config *cfg)
{
    struct hidpos_scanner *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    h->efd = -1;
    h->vid = cfg->vid;
    h->pid = cfg->pid;
    atomic_init(&h->stop, false);
    pthread_mutex_init(&h->lock, NULL);
    snprintf(h->name, sizeof(h->name), "%s", cfg->name);
    if (h->vid < 0 && h->pid < 0)
        snprintf(h->label, sizeof(h->label), "usb HID-POS (any)");
    else if (h->pid < 0)
        snprintf(h->label, sizeof(h->label), "usb %04x:any", h->vid);
    else if (h->vid < 0)
        snprintf(h->label, sizeof(h->label), "usb any:%04x", h->pid);
    else
        snprintf(h->label, sizeof(h->label), "usb %04x:%04x", h->vid, h->pid);
    snprintf(s->device, sizeof(s->device), "%s", h->label);
    s->impl = h;
    s->ops = &hidpos_ops;
    return h;
}

/* Set up libusb, its hotplug callback and the eventfd. */
static int setup(struct hidpos_scanner *h, struct dk_error *err)
{
    int rc;

    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->efd < 0)
        return dk_error_set(err, -errno, "cannot open scanner %s: eventfd: %s", h->name,
                            strerror(errno));
    rc = libusb_init(&h->ctx);
    if (rc != 0) {
        h->ctx = NULL;
        return dk_error_set(err, usb_errno(rc), "cannot open scanner %s: USB is not available: %s",
                            h->name, libusb_strerror(rc));
    }
    h->xfer = libusb_alloc_transfer(0);
    if (h->xfer == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    h->has_hotplug = libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) != 0;
    if (!h->has_hotplug) {
        h->rescan = true;
        return 0;
    }
    /* LIBUSB_HOTPLUG_ENUMERATE reports the devices already there too, so
     * no device slips between a first look and the registration. */
    rc = libusb_hotplug_register_callback(
        h->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
        LIBUSB_HOTPLUG_ENUMERATE, h->vid < 0 ? LIBUSB_HOTPLUG_MATCH_ANY : h->vid,
        h->pid < 0 ? LIBUSB_HOTPLUG_MATCH_ANY : h->pid, LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, h,
        &h->hotplug);
    if (rc != 0)
        return dk_error_set(err, usb_errno(rc), "cannot open scanner %s: USB hotplug: %s",
                            h->name, libusb_strerror(rc));
    h->hotplug_registered = true;
    return 0;
}

/* The first look, before the event thread runs.  0 when reading or
 * waiting, -errno when the scanner cannot be used. */
static int first_look(struct hidpos_scanner *h, struct dk_error *err)
{
    struct dk_error why = {{0}};
    int rc = try_arrivals(h, false, &why);

    if (rc == 1)
        return 0;
    if (rc < 0)
        return dk_error_set(err, rc, "cannot open scanner %s on %s: %s", h->name, h->label,
                            why.msg);
    if (!h->has_hotplug)
        return dk_error_set(err, -ENODEV,
                            "cannot open scanner %s: %s is not plugged in (no USB hotplug here)",
                            h->name, h->label);
    if (why.msg[0] != '\0')
        log_warn("scanner %s: %s", h->name, why.msg);
    log_warn("scanner %s: nothing plugged in matches %s; waiting for it", h->name, h->label);
    return 0;
}

int scanner_hidpos_open(struct dk_scanner *s, const struct dk_scanner_config *cfg,
                        struct dk_error *err)
{
    struct hidpos_scanner *h = hidpos_new(s, cfg);
    int rc;

    if (h == NULL)
        return dk_error_set(err, -ENOMEM, "out of memory");
    /* TODO(hidpos): when a kiosk has two scanners of one model, match on
     * the USB port path ("1-1.4") given as device, because vid:pid cannot
     * tell them apart; config.c would need to keep that value as it is
     * rather than as a path under the config's folder. */
    if (cfg->device[0] != '\0')
        log_warn("scanner %s: device is ignored for type = hidpos; vid and pid find it",
                 h->name);
    rc = hidpos_assembler_init(&h->assembler, &dk_hidpos_default_layout, err);
    if (rc == 0)
        rc = setup(h, err);
    if (rc == 0)
        rc = first_look(h, err);
    if (rc != 0)
        return rc;
    rc = pthread_create(&h->thread, NULL, event_thread, h);
    if (rc != 0)
        return dk_error_set(err, -rc, "cannot open scanner %s: cannot start its thread: %s",
                            h->name, strerror(rc));
    h->thread_started = true;
    return 0;
}
