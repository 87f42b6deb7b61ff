/* drivers/evdev_decode.h: key events to text for keyboard-wedge scanners.
 *
 * Authorities: key codes are the kernel's include/uapi/linux/
 * input-event-codes.h (KEY_A is the key at the US "A" position whatever it
 * is labelled); the layout tables are Windows' US, United Kingdom, German
 * and French keyboards (kbdus, kbduk, kbdgr, kbdfr), the ones a scanner's
 * "keyboard country" setting copies; the code page tables are Unicode's
 * mappings of Windows-1252 (cp1252.txt) and CP437 (cp437.txt). */
#include "evdev_decode.h"

#include <string.h>

/* Shift levels: plain, Shift, AltGr, Shift+AltGr. */
enum { LVL_PLAIN, LVL_SHIFT, LVL_ALTGR, LVL_SHIFT_ALTGR, LVL_COUNT };

struct key_syms {
    uint16_t sym[LVL_COUNT]; /* Unicode code point at each level; 0 none */
    uint8_t dead;            /* bit n set: sym[n] is a dead key */
};

/* The main block ends at KEY_102ND, the ISO key left of Z. */
#define KEYMAP_SIZE (KEY_102ND + 1)

struct dk_evdev_layout {
    const char *name;
    const struct key_syms *keys;
    bool has_altgr;      /* Right Alt is AltGr, not a second Alt */
    uint16_t kp_decimal; /* what the keypad's decimal key types */
};

#define K(p, s) {{(p), (s), 0, 0}, 0}
#define K3(p, s, a) {{(p), (s), (a), 0}, 0}
#define K4(p, s, a, sa) {{(p), (s), (a), (sa)}, 0}
#define LETTER(c) K((c), (c) - 0x20)
/* A dead key at the plain and Shift levels (mask 0x3) or AltGr (0x4). */
#define DEAD(p, s, a, mask) {{(p), (s), (a), 0}, (mask)}

static const struct key_syms us_keys[KEYMAP_SIZE] = {
    [KEY_1] = K('1', '!'), [KEY_2] = K('2', '@'), [KEY_3] = K('3', '#'),
    [KEY_4] = K('4', '$'), [KEY_5] = K('5', '%'), [KEY_6] = K('6', '^'),
    [KEY_7] = K('7', '&'), [KEY_8] = K('8', '*'), [KEY_9] = K('9', '('),
    [KEY_0] = K('0', ')'), [KEY_MINUS] = K('-', '_'), [KEY_EQUAL] = K('=', '+'),
    [KEY_Q] = LETTER('q'), [KEY_W] = LETTER('w'), [KEY_E] = LETTER('e'),
    [KEY_R] = LETTER('r'), [KEY_T] = LETTER('t'), [KEY_Y] = LETTER('y'),
    [KEY_U] = LETTER('u'), [KEY_I] = LETTER('i'), [KEY_O] = LETTER('o'),
    [KEY_P] = LETTER('p'), [KEY_LEFTBRACE] = K('[', '{'), [KEY_RIGHTBRACE] = K(']', '}'),
    [KEY_A] = LETTER('a'), [KEY_S] = LETTER('s'), [KEY_D] = LETTER('d'),
    [KEY_F] = LETTER('f'), [KEY_G] = LETTER('g'), [KEY_H] = LETTER('h'),
    [KEY_J] = LETTER('j'), [KEY_K] = LETTER('k'), [KEY_L] = LETTER('l'),
    [KEY_SEMICOLON] = K(';', ':'), [KEY_APOSTROPHE] = K('\'', '"'), [KEY_GRAVE] = K('`', '~'),
    [KEY_BACKSLASH] = K('\\', '|'), [KEY_Z] = LETTER('z'), [KEY_X] = LETTER('x'),
    [KEY_C] = LETTER('c'), [KEY_V] = LETTER('v'), [KEY_B] = LETTER('b'),
    [KEY_N] = LETTER('n'), [KEY_M] = LETTER('m'), [KEY_COMMA] = K(',', '<'),
    [KEY_DOT] = K('.', '>'), [KEY_SLASH] = K('/', '?'), [KEY_SPACE] = K(' ', ' '),
    [KEY_102ND] = K('\\', '|'),
};

/* kbduk: AltGr+4 is the euro sign, AltGr+` the broken bar, AltGr+vowel
 * the acute vowels; the ISO key by Enter (KEY_BACKSLASH) is # ~. */
static const struct key_syms uk_keys[KEYMAP_SIZE] = {
    [KEY_1] = K('1', '!'), [KEY_2] = K('2', '"'), [KEY_3] = K('3', 0x00A3),
    [KEY_4] = K3('4', '$', 0x20AC), [KEY_5] = K('5', '%'), [KEY_6] = K('6', '^'),
    [KEY_7] = K('7', '&'), [KEY_8] = K('8', '*'), [KEY_9] = K('9', '('),
    [KEY_0] = K('0', ')'), [KEY_MINUS] = K('-', '_'), [KEY_EQUAL] = K('=', '+'),
    [KEY_Q] = LETTER('q'), [KEY_W] = LETTER('w'), [KEY_E] = K4('e', 'E', 0x00E9, 0x00C9),
    [KEY_R] = LETTER('r'), [KEY_T] = LETTER('t'), [KEY_Y] = LETTER('y'),
    [KEY_U] = K4('u', 'U', 0x00FA, 0x00DA), [KEY_I] = K4('i', 'I', 0x00ED, 0x00CD),
    [KEY_O] = K4('o', 'O', 0x00F3, 0x00D3), [KEY_P] = LETTER('p'),
    [KEY_LEFTBRACE] = K('[', '{'), [KEY_RIGHTBRACE] = K(']', '}'),
    [KEY_A] = K4('a', 'A', 0x00E1, 0x00C1), [KEY_S] = LETTER('s'), [KEY_D] = LETTER('d'),
    [KEY_F] = LETTER('f'), [KEY_G] = LETTER('g'), [KEY_H] = LETTER('h'),
    [KEY_J] = LETTER('j'), [KEY_K] = LETTER('k'), [KEY_L] = LETTER('l'),
    [KEY_SEMICOLON] = K(';', ':'), [KEY_APOSTROPHE] = K('\'', '@'),
    [KEY_GRAVE] = K3('`', 0x00AC, 0x00A6), [KEY_BACKSLASH] = K('#', '~'),
    [KEY_Z] = LETTER('z'), [KEY_X] = LETTER('x'), [KEY_C] = LETTER('c'),
    [KEY_V] = LETTER('v'), [KEY_B] = LETTER('b'), [KEY_N] = LETTER('n'),
    [KEY_M] = LETTER('m'), [KEY_COMMA] = K(',', '<'), [KEY_DOT] = K('.', '>'),
    [KEY_SLASH] = K('/', '?'), [KEY_SPACE] = K(' ', ' '), [KEY_102ND] = K('\\', '|'),
};

/* kbdgr (QWERTZ): Y and Z swapped, umlauts on the US punctuation keys,
 * brackets and @ \ ~ | on AltGr, ^ ´ ` dead. */
static const struct key_syms de_keys[KEYMAP_SIZE] = {
    [KEY_1] = K('1', '!'), [KEY_2] = K3('2', '"', 0x00B2), [KEY_3] = K3('3', 0x00A7, 0x00B3),
    [KEY_4] = K('4', '$'), [KEY_5] = K('5', '%'), [KEY_6] = K('6', '&'),
    [KEY_7] = K3('7', '/', '{'), [KEY_8] = K3('8', '(', '['), [KEY_9] = K3('9', ')', ']'),
    [KEY_0] = K3('0', '=', '}'), [KEY_MINUS] = K3(0x00DF, '?', '\\'),
    [KEY_EQUAL] = DEAD(0x00B4, '`', 0, 0x3),
    [KEY_Q] = K3('q', 'Q', '@'), [KEY_W] = LETTER('w'), [KEY_E] = K3('e', 'E', 0x20AC),
    [KEY_R] = LETTER('r'), [KEY_T] = LETTER('t'), [KEY_Y] = LETTER('z'),
    [KEY_U] = LETTER('u'), [KEY_I] = LETTER('i'), [KEY_O] = LETTER('o'),
    [KEY_P] = LETTER('p'), [KEY_LEFTBRACE] = K(0x00FC, 0x00DC),
    [KEY_RIGHTBRACE] = K3('+', '*', '~'),
    [KEY_A] = LETTER('a'), [KEY_S] = LETTER('s'), [KEY_D] = LETTER('d'),
    [KEY_F] = LETTER('f'), [KEY_G] = LETTER('g'), [KEY_H] = LETTER('h'),
    [KEY_J] = LETTER('j'), [KEY_K] = LETTER('k'), [KEY_L] = LETTER('l'),
    [KEY_SEMICOLON] = K(0x00F6, 0x00D6), [KEY_APOSTROPHE] = K(0x00E4, 0x00C4),
    [KEY_GRAVE] = DEAD('^', 0x00B0, 0, 0x1), [KEY_BACKSLASH] = K('#', '\''),
    [KEY_Z] = LETTER('y'), [KEY_X] = LETTER('x'), [KEY_C] = LETTER('c'),
    [KEY_V] = LETTER('v'), [KEY_B] = LETTER('b'), [KEY_N] = LETTER('n'),
    [KEY_M] = K3('m', 'M', 0x00B5), [KEY_COMMA] = K(',', ';'), [KEY_DOT] = K('.', ':'),
    [KEY_SLASH] = K('-', '_'), [KEY_SPACE] = K(' ', ' '), [KEY_102ND] = K3('<', '>', '|'),
};

/* kbdfr (AZERTY): A/Q and Z/W swapped, M where US has ';', the digits
 * need Shift, AltGr+2 (~) and AltGr+7 (`) dead as well as ^ and ¨. */
static const struct key_syms fr_keys[KEYMAP_SIZE] = {
    [KEY_GRAVE] = K(0x00B2, 0), [KEY_1] = K('&', '1'), [KEY_2] = DEAD(0x00E9, '2', '~', 0x4),
    [KEY_3] = K3('"', '3', '#'), [KEY_4] = K3('\'', '4', '{'), [KEY_5] = K3('(', '5', '['),
    [KEY_6] = K3('-', '6', '|'), [KEY_7] = DEAD(0x00E8, '7', '`', 0x4),
    [KEY_8] = K3('_', '8', '\\'), [KEY_9] = K3(0x00E7, '9', '^'), [KEY_0] = K3(0x00E0, '0', '@'),
    [KEY_MINUS] = K3(')', 0x00B0, ']'), [KEY_EQUAL] = K3('=', '+', '}'),
    [KEY_Q] = LETTER('a'), [KEY_W] = LETTER('z'), [KEY_E] = K3('e', 'E', 0x20AC),
    [KEY_R] = LETTER('r'), [KEY_T] = LETTER('t'), [KEY_Y] = LETTER('y'),
    [KEY_U] = LETTER('u'), [KEY_I] = LETTER('i'), [KEY_O] = LETTER('o'),
    [KEY_P] = LETTER('p'), [KEY_LEFTBRACE] = DEAD('^', 0x00A8, 0, 0x3),
    [KEY_RIGHTBRACE] = K3('$', 0x00A3, 0x00A4),
    [KEY_A] = LETTER('q'), [KEY_S] = LETTER('s'), [KEY_D] = LETTER('d'),
    [KEY_F] = LETTER('f'), [KEY_G] = LETTER('g'), [KEY_H] = LETTER('h'),
    [KEY_J] = LETTER('j'), [KEY_K] = LETTER('k'), [KEY_L] = LETTER('l'),
    [KEY_SEMICOLON] = LETTER('m'), [KEY_APOSTROPHE] = K(0x00F9, '%'),
    [KEY_BACKSLASH] = K('*', 0x00B5), [KEY_Z] = LETTER('w'), [KEY_X] = LETTER('x'),
    [KEY_C] = LETTER('c'), [KEY_V] = LETTER('v'), [KEY_B] = LETTER('b'),
    [KEY_N] = LETTER('n'), [KEY_M] = K(',', '?'), [KEY_COMMA] = K(';', '.'),
    [KEY_DOT] = K(':', '/'), [KEY_SLASH] = K('!', 0x00A7), [KEY_SPACE] = K(' ', ' '),
    [KEY_102ND] = K('<', '>'),
};

static const struct dk_evdev_layout layouts[] = {
    {"us", us_keys, false, '.'},
    {"uk", uk_keys, true, '.'},
    /* The German keypad's decimal key is labelled and types a comma. */
    {"de", de_keys, true, ','},
    {"fr", fr_keys, true, '.'},
};

/* Windows-1252 0x80-0x9F (0xA0-0xFF are Latin-1, the same code points);
 * 0 where cp1252.txt leaves the byte undefined. */
static const uint16_t cp1252_80[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* CP437 0x80-0xFF: accented letters, box drawing, Greek and maths. */
static const uint16_t cp437_80[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

/* What a dead key followed by a letter types (the Latin-1 precomposed
 * letters, plus Ÿ); a dead key then Space types the accent alone. */
static const struct {
    uint16_t accent;
    const char *bases;
    uint16_t composed[12];
} compositions[] = {
    {0x00B4, "aeiouyAEIOUY",
     {0xE1, 0xE9, 0xED, 0xF3, 0xFA, 0xFD, 0xC1, 0xC9, 0xCD, 0xD3, 0xDA, 0xDD}},
    {'`', "aeiouAEIOU", {0xE0, 0xE8, 0xEC, 0xF2, 0xF9, 0xC0, 0xC8, 0xCC, 0xD2, 0xD9}},
    {'^', "aeiouAEIOU", {0xE2, 0xEA, 0xEE, 0xF4, 0xFB, 0xC2, 0xCA, 0xCE, 0xD4, 0xDB}},
    {0x00A8, "aeiouyAEIOUY",
     {0xE4, 0xEB, 0xEF, 0xF6, 0xFC, 0xFF, 0xC4, 0xCB, 0xCF, 0xD6, 0xDC, 0x178}},
    {'~', "anoANO", {0xE3, 0xF1, 0xF5, 0xC3, 0xD1, 0xD5}},
};

uint32_t evdev_codepage_char(unsigned b, bool ansi)
{
    b &= 0xFF;
    if (b < 0x80)
        return b;
    if (!ansi)
        return cp437_80[b - 0x80];
    return b >= 0xA0 ? b : cp1252_80[b - 0x80];
}

bool evdev_decoder_init(struct dk_evdev_decoder *d, const char *layout)
{
    memset(d, 0, sizeof(*d));
    d->layout = &layouts[0];
    if (layout == NULL || layout[0] == '\0')
        return true;
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        if (strcmp(layout, layouts[i].name) == 0) {
            d->layout = &layouts[i];
            return true;
        }
    }
    return false;
}

const char *evdev_decoder_layout_name(const struct dk_evdev_decoder *d)
{
    return d->layout->name;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static uint32_t compose(uint16_t accent, uint32_t base)
{
    for (size_t i = 0; i < sizeof(compositions) / sizeof(compositions[0]); i++) {
        const char *at;

        if (compositions[i].accent != accent)
            continue;
        if (base == 0 || base > 0x7F)
            return 0;
        at = strchr(compositions[i].bases, (int)base);
        return at != NULL ? compositions[i].composed[at - compositions[i].bases] : 0;
    }
    return 0;
}

/* Type cp, combining it with a pending dead key.  Windows types the accent
 * alone before Space, and the accent then the character when the two do
 * not combine. */
static size_t emit(struct dk_evdev_decoder *d, uint32_t cp, char *out)
{
    uint16_t accent = d->dead;
    uint32_t both;
    size_t n = 0;

    d->dead = 0;
    if (accent == 0)
        return utf8_put(cp, out);
    if (cp == ' ')
        return utf8_put(accent, out);
    both = compose(accent, cp);
    if (both != 0)
        return utf8_put(both, out);
    n = utf8_put(accent, out);
    return n + utf8_put(cp, out + n);
}

/* Track a modifier; false when code is no modifier. */
static bool set_modifier(struct dk_evdev_decoder *d, unsigned code, bool down)
{
    switch (code) {
    case KEY_LEFTSHIFT:
        d->lshift = down;
        return true;
    case KEY_RIGHTSHIFT:
        d->rshift = down;
        return true;
    case KEY_LEFTCTRL:
        d->lctrl = down;
        return true;
    case KEY_RIGHTCTRL:
        d->rctrl = down;
        return true;
    case KEY_LEFTALT:
        d->lalt = down;
        return true;
    case KEY_RIGHTALT:
        if (d->layout->has_altgr)
            d->altgr = down;
        else
            d->lalt = down;
        return true;
    case KEY_LEFTMETA:
    case KEY_RIGHTMETA:
    case KEY_NUMLOCK:
    case KEY_SCROLLLOCK:
        return true;
    }
    return false;
}

/* The digit a keypad key stands for, or -1. */
static int keypad_digit(unsigned code)
{
    static const unsigned short kp[10] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                          KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9};

    for (int i = 0; i < 10; i++) {
        if (kp[i] == code)
            return i;
    }
    return -1;
}

/* Keys that type the same on every layout; 0 for any other. */
static uint32_t fixed_key(const struct dk_evdev_decoder *d, unsigned code)
{
    int digit = keypad_digit(code);

    if (digit >= 0)
        return (uint32_t)('0' + digit);
    switch (code) {
    case KEY_ENTER:
    case KEY_KPENTER:
        return '\r';
    case KEY_TAB:
        return '\t';
    case KEY_KPSLASH:
        return '/';
    case KEY_KPASTERISK:
        return '*';
    case KEY_KPMINUS:
        return '-';
    case KEY_KPPLUS:
        return '+';
    case KEY_KPEQUAL:
        return '=';
    case KEY_KPDOT:
        return d->layout->kp_decimal;
    }
    return 0;
}

static bool is_lower(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7);
}

/* The level a key is read at.  Caps Lock inverts Shift on letter keys only:
 * keys whose Shift level is the capital of their plain level. */
static int level_of(const struct dk_evdev_decoder *d, const struct key_syms *k, bool altgr)
{
    int base = altgr ? LVL_ALTGR : LVL_PLAIN;
    bool shift = d->lshift || d->rshift;

    if (d->caps && is_lower(k->sym[base]) && k->sym[base + 1] == k->sym[base] - 0x20)
        shift = !shift;
    return base + (shift ? 1 : 0);
}

/* Ctrl with a key typing @ A-Z [ \ ] ^ _ (either case) types the control
 * character 64 below it, as terminals and Windows do; NUL is never text. */
static uint32_t control_char(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 0x60;
    if (c > '@' && c <= '_')
        return c - 0x40;
    return 0;
}

/* A key typed with Left Alt held: keypad digits build a code, the rest are
 * shortcuts and type nothing. */
static size_t alt_press(struct dk_evdev_decoder *d, unsigned code)
{
    int digit = keypad_digit(code);

    if (digit < 0) {
        d->skipped++;
        d->alt_digits = false;
        return 0;
    }
    if (!d->alt_digits) {
        d->alt_digits = true;
        d->alt_ansi = digit == 0;
        d->alt_value = 0;
    }
    d->alt_value = (d->alt_value * 10 + (unsigned)digit) % 256;
    return 0;
}

/* Alt released: type the character its keypad digits named, if any. */
static size_t alt_release(struct dk_evdev_decoder *d, char *out)
{
    uint32_t cp;

    if (!d->alt_digits)
        return 0;
    d->alt_digits = false;
    cp = evdev_codepage_char(d->alt_value, d->alt_ansi);
    if (cp == 0) {
        d->skipped++;
        return 0;
    }
    return emit(d, cp, out);
}

static size_t press(struct dk_evdev_decoder *d, unsigned code, char *out)
{
    bool ctrl = d->lctrl || d->rctrl;
    bool altgr = d->altgr || (ctrl && d->lalt);
    const struct key_syms *k;
    uint32_t c = fixed_key(d, code);
    int level;

    if (d->lalt && !ctrl)
        return alt_press(d, code);
    if (c != 0)
        return emit(d, c, out);
    k = code < KEYMAP_SIZE ? &d->layout->keys[code] : NULL;
    level = k != NULL ? level_of(d, k, altgr) : 0;
    c = k != NULL ? k->sym[level] : 0;
    if (c != 0 && ctrl && !altgr)
        c = control_char(c);
    else if (c != 0 && (k->dead & (1u << level)) != 0) {
        size_t n = d->dead != 0 ? emit(d, c, out) : 0;

        /* Two dead keys in a row type both accents. */
        if (n == 0)
            d->dead = (uint16_t)c;
        return n;
    }
    if (c == 0) {
        d->skipped++;
        return 0;
    }
    return emit(d, c, out);
}

size_t evdev_decode(struct dk_evdev_decoder *d, const struct input_event *ev, char *out)
{
    bool alt_was_held = d->lalt;

    /* Autorepeat (2) is the kernel's, not the scanner's: never text. */
    if (ev->type != EV_KEY || ev->value == 2)
        return 0;
    if (set_modifier(d, ev->code, ev->value == 1)) {
        if (alt_was_held && !d->lalt)
            return alt_release(d, out);
        if (!alt_was_held && d->lalt)
            d->alt_digits = false;
        return 0;
    }
    if (ev->value != 1)
        return 0;
    if (ev->code == KEY_CAPSLOCK) {
        d->caps = !d->caps;
        return 0;
    }
    return press(d, ev->code, out);
}

void evdev_decode_resync(struct dk_evdev_decoder *d, const struct input_event *ev)
{
    /* Whatever was half typed when events were lost is lost with them. */
    d->dead = 0;
    d->alt_digits = false;
    if (ev->type == EV_KEY && ev->value != 2)
        set_modifier(d, ev->code, ev->value == 1);
}
