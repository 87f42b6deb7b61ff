/* The file "printer": a folder standing in for a receipt printer, for
 * trying a site's slips without paper and for tests.  Each slip becomes
 *
 *     RECEIPT-ID.escpos   the ESC/POS bytes, exactly as a printer of the
 *                         configured width and QR mode would get them
 *     RECEIPT-ID.png      a picture of the slip (slip_image_png)
 *
 * each written to a temporary name, synced and renamed into place, so a
 * reader never sees half a file and a reprint replaces the old pair. */
#include "printer_backend.h"

#include "fileio.h"
#include "log.h"
#include "receipt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_query(struct dk_printer *p, enum dk_printer_state *state)
{
    struct stat st;

    if (stat(p->cfg->device, &st) != 0) {
        log_warn("printer %s is offline: %s", p->label, strerror(errno));
        *state = DK_PRINTER_OFFLINE;
    } else if (!S_ISDIR(st.st_mode)) {
        log_warn("printer %s is offline: not a folder", p->label);
        *state = DK_PRINTER_OFFLINE;
    } else if (access(p->cfg->device, W_OK | X_OK) != 0) {
        log_warn("printer %s is offline: cannot write there: %s", p->label, strerror(errno));
        *state = DK_PRINTER_OFFLINE;
    } else {
        *state = DK_PRINTER_READY;
    }
    return 0;
}

/* Write data to DIR/NAME through a temporary file in DIR. */
static int write_replace(const char *dir, const char *name, const void *data, size_t len,
                         struct dk_error *err, const char *label)
{
    char tmp[DK_PATH_MAX + 64], path[DK_PATH_MAX + 64];
    int fd = -1, rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
        return dk_error_set(err, -ENAMETOOLONG, "cannot print on printer %s: path too long",
                            label);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return dk_error_set(err, -errno, "cannot print on printer %s: cannot create %s: %s",
                            label, tmp, strerror(errno));
    rc = file_write_all(fd, data, len);
    if (rc == 0 && fchmod(fd, 0644) != 0)
        rc = -errno;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc == 0)
        rc = file_sync_dir(dir);
    if (rc != 0) {
        unlink(tmp);
        return dk_error_set(err, rc, "cannot print on printer %s: cannot write %s: %s", label,
                            path, strerror(-rc));
    }
    return 0;
}

static int file_print(struct dk_printer *p, const struct dk_slip *slip, struct dk_error *err)
{
    unsigned char *bytes = NULL, *png = NULL;
    size_t n_bytes = 0, n_png = 0;
    char name[DK_RECEIPT_ID_SIZE + 16];
    int rc;

    /* The id names the files: only a well-formed one can, so a slip can
     * never write outside the folder. */
    if (slip->receipt_id == NULL || !receipt_id_valid(slip->receipt_id))
        return dk_error_set(err, DK_EINPUT, "cannot print on printer %s: bad receipt id",
                            p->label);
    rc = printer_escpos_render(p, slip, &bytes, &n_bytes, err);
    if (rc == 0)
        rc = printer_slip_png(p, slip, &png, &n_png, err);
    if (rc == 0) {
        snprintf(name, sizeof(name), "%s.escpos", slip->receipt_id);
        rc = write_replace(p->cfg->device, name, bytes, n_bytes, err, p->label);
    }
    if (rc == 0) {
        snprintf(name, sizeof(name), "%s.png", slip->receipt_id);
        rc = write_replace(p->cfg->device, name, png, n_png, err, p->label);
    }
    if (rc == 0)
        log_debug("printer %s: wrote %s.escpos (%zu bytes) and %s.png", p->label,
                  slip->receipt_id, n_bytes, slip->receipt_id);
    free(bytes);
    free(png);
    return rc;
}

static void file_close(struct dk_printer *p)
{
    (void)p;
}

static const struct dk_printer_ops file_ops = {
    .query = file_query,
    .print = file_print,
    .close = file_close,
};

int printer_file_open(struct dk_printer *p, struct dk_error *err)
{
    (void)err;
    /* Nothing to hold: the folder is looked at when asked, like a printer
     * that is plugged in but may be out of paper. */
    p->ops = &file_ops;
    p->impl = NULL;
    return 0;
}
