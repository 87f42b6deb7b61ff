/* dropkioskctl: a technician's PIN, asked on the terminal with echo off
 * (and echo put back even after a Ctrl-C at the prompt) or read from
 * standard input with --pin-stdin, and the login it opens. */
#include "ctl.h"

#include "log.h"
#include "tech.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>


/* The terminal's settings while echo is off, so a signal can put them back:
 * a Ctrl-C at the PIN prompt must not leave the shell without echo. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(int sig)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* One line from fd into buf without its line end; false on end of input,
 * a read error or a line that does not fit. */
static bool read_line_fd(int fd, char *buf, size_t size)
{
    size_t n = 0;
    bool fits = true;
    char ch;

    for (;;) {
        ssize_t got = read(fd, &ch, 1);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        if (ch == '\n')
            break;
        if (n + 1 < size)
            buf[n++] = ch;
        else
            fits = false;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return fits;
}

int ctl_ask_pin(const char *prompt, char *pin, size_t size)
{
    struct sigaction sa = {.sa_handler = restore_tty}, old_int, old_term,
                     old_quit;
    struct termios quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    bool ok;

    if (fd < 0 || tcgetattr(fd, &saved_tty) != 0) {
        if (fd >= 0)
            close(fd);
        fprintf(
            stderr,
            "dropkioskctl: no terminal to ask the PIN on: use --pin-stdin\n");
        return 2;
    }
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGQUIT, &sa, &old_quit);
    tty_fd = fd;
    tcsetattr(fd, TCSAFLUSH, &quiet);
    if (write(fd, prompt, strlen(prompt)) < 0)
        log_debug("cannot write the PIN prompt: %s", strerror(errno));
    ok = read_line_fd(fd, pin, size);
    tcsetattr(fd, TCSAFLUSH, &saved_tty);
    tty_fd = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (write(fd, "\n", 1) < 0)
        log_debug("cannot end the PIN prompt: %s", strerror(errno));
    close(fd);
    if (!ok) {
        fprintf(stderr, "dropkioskctl: no PIN given\n");
        return 2;
    }
    return 0;
}

static int pin_from_stdin(char *pin, size_t size)
{
    if (!read_line_fd(STDIN_FILENO, pin, size)) {
        fprintf(stderr,
                "dropkioskctl: --pin-stdin: no PIN line on standard input\n");
        return 2;
    }
    return 0;
}

/* The PIN of a technician logging in. */
int ctl_read_pin(const struct dk_ctl *c, char *pin, size_t size)
{
    if (c->opt.pin_stdin)
        return pin_from_stdin(pin, size);
    return ctl_ask_pin("Technician PIN: ", pin, size);
}

/* A new PIN: asked twice on the terminal so a slip of the finger is not
 * what gets stored. */
int ctl_read_new_pin(const struct dk_ctl *c, char *pin, size_t size)
{
    char again[DK_CTL_PIN_MAX];
    int rc;

    if (c->opt.pin_stdin)
        return pin_from_stdin(pin, size);
    rc = ctl_ask_pin("New PIN (4-12 digits): ", pin, size);
    if (rc == 0)
        rc = ctl_ask_pin("Same PIN again: ", again, sizeof(again));
    if (rc == 0 && strcmp(pin, again) != 0) {
        fprintf(stderr, "dropkioskctl: the two PINs differ; nothing changed\n");
        rc = 2;
    }
    sodium_memzero(again, sizeof(again));
    return rc;
}

/* Log in as --tech with pin, which is wiped afterwards.  Exit status for a
 * refusal: a wrong, locked or disabled login is a clean "no" (1); a badge
 * or id nobody has is bad input (2). */
int ctl_login(struct dk_store *store, const struct dk_ctl *c, char *pin,
              struct dk_tech *tech)
{
    struct dk_error err = {{0}};
    int rc =
        tech_login(store, c->opt.tech, pin, "cli", time(NULL), tech, &err);

    sodium_memzero(pin, DK_CTL_PIN_MAX);
    if (rc == 0)
        return 0;
    fprintf(stderr, "dropkioskctl: %s\n", err.msg);
    if (rc == -EACCES || rc == DK_ETEMP || rc == DK_EPERM)
        return 1;
    return dk_exit_status(rc);
}

