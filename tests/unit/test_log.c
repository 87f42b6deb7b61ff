/* The log's lines, and their syslog priority prefix when stderr is the
 * journal (JOURNAL_STREAM names fd 2's device and inode); whether stdout
 * is the journal too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static char other[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dk-log-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/stderr", dir);
    snprintf(other, sizeof(other), "%s/other", dir);
    log_set_level(DK_LOG_DEBUG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    log_init();
    log_set_level(DK_LOG_INFO);
    unlink(path);
    unlink(other);
    return rmdir(dir);
}

/* "DEV:INODE" of the file at p, as systemd writes JOURNAL_STREAM. */
static void stream_of(const char *p, char *out, size_t size)
{
    struct stat st;
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    snprintf(out, size, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
}

/* Run log_init with JOURNAL_STREAM set to journal (NULL: unset) and fd 2
 * on the file at path, write one line at each level, and return what fd 2
 * got. */
static void capture(const char *journal, char *got, size_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int saved = dup(2);
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    if (journal != NULL)
        setenv("JOURNAL_STREAM", journal, 1);
    else
        unsetenv("JOURNAL_STREAM");
    fflush(stderr);
    assert_int_equal(dup2(fd, 2), 2);
    log_init();
    log_error("cannot open scanner %s: %s", "/dev/ttyACM0", "Permission denied");
    log_warn("printer out of paper");
    log_info("scanner lobby ready");
    log_debug("applied schema migration %d", 4);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    n = pread(fd, got, size - 1, 0);
    assert_true(n >= 0);
    got[n] = '\0';
    close(fd);
}

#define PLAIN                                                                \
    "dropkiosk error: cannot open scanner /dev/ttyACM0: Permission denied\n"  \
    "dropkiosk warning: printer out of paper\n"                              \
    "dropkiosk info: scanner lobby ready\n"                                  \
    "dropkiosk debug: applied schema migration 4\n"

static void test_journal_stream_of_stderr_prefixes_syslog_priority(void **state)
{
    char stream[64];
    char got[1024];

    (void)state;
    stream_of(path, stream, sizeof(stream));
    capture(stream, got, sizeof(got));
    assert_string_equal(got,
                        "<3>dropkiosk error: cannot open scanner /dev/ttyACM0: Permission denied\n"
                        "<4>dropkiosk warning: printer out of paper\n"
                        "<6>dropkiosk info: scanner lobby ready\n"
                        "<7>dropkiosk debug: applied schema migration 4\n");
}

static void test_without_journal_stream_lines_are_plain(void **state)
{
    char got[1024];

    (void)state;
    capture(NULL, got, sizeof(got));
    assert_string_equal(got, PLAIN);
}

/* A child inherits JOURNAL_STREAM even when its stderr goes elsewhere. */
static void test_journal_stream_of_another_file_lines_are_plain(void **state)
{
    char stream[64];
    char got[1024];

    (void)state;
    stream_of(other, stream, sizeof(stream));
    capture(stream, got, sizeof(got));
    assert_string_equal(got, PLAIN);
}

static void test_malformed_journal_stream_lines_are_plain(void **state)
{
    static const char *const bad[] = {"", ":", "12", "12:", ":34", "x:y", "1:2:3"};
    /* fd 2's own device and inode, but not written as systemd does:
     * text before the device, after the colon, after the inode. */
    static const char *const near[][3] = {
        {"", "", "x"}, {"", " ", ""}, {"+", "", ""}, {" ", "", ""}, {"", "-", ""},
    };
    struct stat st;
    char stream[64];
    char got[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        capture(bad[i], got, sizeof(got));
        assert_string_equal(got, PLAIN);
    }
    stream_of(path, stream, sizeof(stream));
    assert_int_equal(stat(path, &st), 0);
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        snprintf(stream, sizeof(stream), "%s%llu:%s%llu%s", near[i][0],
                 (unsigned long long)st.st_dev, near[i][1], (unsigned long long)st.st_ino,
                 near[i][2]);
        capture(stream, got, sizeof(got));
        assert_string_equal(got, PLAIN);
    }
}

/* log_init with JOURNAL_STREAM set to journal (NULL: unset) and fd 1 on
 * the file at path: whether stdout is then the journal. */
static bool stdout_journal_with(const char *journal)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int saved = dup(1);
    bool is;

    assert_true(fd >= 0 && saved >= 0);
    if (journal != NULL)
        setenv("JOURNAL_STREAM", journal, 1);
    else
        unsetenv("JOURNAL_STREAM");
    fflush(stdout);
    assert_int_equal(dup2(fd, 1), 1);
    log_init();
    is = log_stdout_is_journal();
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    close(fd);
    return is;
}

static void test_stdout_is_the_journal_only_when_journal_stream_names_it(void **state)
{
    char stream[64];

    (void)state;
    stream_of(path, stream, sizeof(stream));
    assert_true(stdout_journal_with(stream));
    assert_false(stdout_journal_with(NULL));
    stream_of(other, stream, sizeof(stream));
    assert_false(stdout_journal_with(stream));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_journal_stream_of_stderr_prefixes_syslog_priority,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_journal_stream_lines_are_plain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal_stream_of_another_file_lines_are_plain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_journal_stream_lines_are_plain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_stdout_is_the_journal_only_when_journal_stream_names_it, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
