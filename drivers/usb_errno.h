/* libusb's error codes as the negative errno values the rest of dropkiosk
 * returns; shared by the USB scanner and printer back ends. */
#ifndef DK_USB_ERRNO_H
#define DK_USB_ERRNO_H

/* -EACCES, -ENODEV, -ENOENT, -EBUSY, -ETIMEDOUT, -EPIPE, -ENOMEM or
 * -EOPNOTSUPP for the libusb error with that meaning; -EIO for any other. */
int usb_errno(int usb_rc);

#endif
