/* Private to the scanner back ends: turning a keyboard-wedge scanner's key
 * events (struct input_event, see the kernel's input-event-codes.h) into the
 * text it meant, in UTF-8.  Pure: no I/O, no clock, no host keymap.
 *
 * A wedge scanner "types" each character with the keys that produce it on
 * the keyboard layout it was configured for, so the same key codes mean
 * different text on a US and a French scanner.  The layout is the
 * scanner's, named in its config, never the host's.  Layouts: us (default),
 * uk, de (QWERTZ) and fr (AZERTY), each as Windows' keyboard of that name
 * types it, since wedge scanners are set up for Windows hosts.
 *
 * What is understood:
 * - EV_KEY presses (value 1) and releases (0); autorepeat (2) adds nothing,
 *   since a scanner never means a held key.  EV_SYN, EV_MSC and every other
 *   type are ignored.
 * - Shift (either), Caps Lock (a toggle that affects letters only, as on a
 *   PC), AltGr (KEY_RIGHTALT) on uk, de and fr, Ctrl+Alt as AltGr (as
 *   Windows does), the layouts' dead keys (de ^ ´ `, fr ^ ¨ and AltGr ~ `).
 * - Ctrl + a key typing @, A-Z, [, \, ], ^ or _ gives the ASCII control
 *   character (Ctrl+] = GS, 0x1D), the "control + ASCII" mode scanners use
 *   for GS1 separators.
 * - The numeric keypad types digits whatever the NumLock state, since a
 *   scanner sending keypad keys always means digits.
 * - Left Alt held with keypad digits, then Alt released, types one
 *   character as Windows does: with a leading 0 the number (mod 256) is a
 *   Windows-1252 code, otherwise a CP437 (IBM PC) code; 1..31 are the ASCII
 *   control characters in both (Alt+029 = GS).  On the us layout Right Alt
 *   is Alt too.
 * - Enter and keypad Enter type "\r", Tab types "\t": the back end decides
 *   whether they end a scan.
 *
 * A key the layout cannot type (F1, Esc, an undefined Windows-1252 code,
 * Alt+letter, ...) types nothing and is counted in skipped; nothing is
 * guessed. */
#ifndef DK_EVDEV_DECODE_H
#define DK_EVDEV_DECODE_H

#include <linux/input.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room evdev_decode needs in out: a dead key that does not combine with the
 * next character types both, at most 3 UTF-8 bytes each. */
#define DK_EVDEV_OUT_MAX 8

struct dk_evdev_layout;

struct dk_evdev_decoder {
    const struct dk_evdev_layout *layout;
    bool lshift, rshift;
    bool lctrl, rctrl;
    bool lalt;  /* Left Alt, or Right Alt on a layout without AltGr */
    bool altgr; /* Right Alt on a layout with AltGr */
    bool caps;  /* Caps Lock toggled on */
    uint16_t dead; /* the spacing form of a pending dead key, or 0 */
    bool alt_digits;  /* keypad digits typed while Alt is held */
    bool alt_ansi;    /* ... with a leading 0: Windows-1252, else CP437 */
    unsigned alt_value; /* ... their number mod 256 */
    size_t skipped; /* presses that typed nothing the layout defines */
};

/* Set d up for a scanner with the named layout ("us", "uk", "de", "fr";
 * NULL or "" means us).  Returns false, leaving d on us, for any other
 * name. */
bool evdev_decoder_init(struct dk_evdev_decoder *d, const char *layout);

/* The name of the layout d decodes with, e.g. "de". */
const char *evdev_decoder_layout_name(const struct dk_evdev_decoder *d);

/* Decode one event.  Writes the UTF-8 text it types to out (room for
 * DK_EVDEV_OUT_MAX bytes, not NUL-terminated) and returns its length,
 * usually 0 or 1. */
size_t evdev_decode(struct dk_evdev_decoder *d, const struct input_event *ev, char *out);

/* Take one event of the state delta libevdev replays after a SYN_DROPPED
 * (LIBEVDEV_READ_FLAG_SYNC): it updates which modifiers are held but types
 * nothing, since those presses happened while events were being lost. */
void evdev_decode_resync(struct dk_evdev_decoder *d, const struct input_event *ev);

/* The Unicode code point for byte b in Windows-1252 (ansi) or CP437, or 0
 * where that code page defines nothing (0, and 0x81 0x8D 0x8F 0x90 0x9D in
 * Windows-1252).  0x01-0x1F and 0x7F are the ASCII controls in both, as
 * Windows types them for Alt codes. */
uint32_t evdev_codepage_char(unsigned b, bool ansi);

#endif
