/* Durable file writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/dk-fileio-XXXXXX";
static char path[128];

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/receipt.key", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

static void test_file_write_new_sets_exact_mode_despite_umask(void **state)
{
    struct stat st;
    char buf[16] = {0};
    FILE *f;
    mode_t old = umask(0077);

    (void)state;
    unlink(path);
    assert_int_equal(file_write_new(path, 0644, "abc\n", 4), 0);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf), f), 4);
    fclose(f);
    assert_string_equal(buf, "abc\n");
}

static void test_file_write_new_never_replaces(void **state)
{
    struct stat st;

    (void)state;
    unlink(path);
    assert_int_equal(file_write_new(path, 0600, "first", 5), 0);
    assert_int_equal(file_write_new(path, 0600, "second!", 7), -EEXIST);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 5);
}

static void test_file_write_new_in_missing_folder_is_enoent(void **state)
{
    (void)state;
    assert_int_equal(file_write_new("/nonexistent/dir/x", 0600, "x", 1), -ENOENT);
}

static void test_file_sync_parent_of_bare_name_syncs_cwd(void **state)
{
    (void)state;
    assert_int_equal(file_sync_parent("just-a-name"), 0);
    assert_int_equal(file_sync_parent("/etc/hostname"), 0);
    assert_int_equal(file_sync_parent("/nonexistent/dir/x"), -ENOENT);
}

static void test_file_read_path_reads_whole_file_with_nul(void **state)
{
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    unlink(path);
    assert_int_equal(file_write_new(path, 0600, "one line\n", 9), 0);
    assert_int_equal(file_read_path(path, 9, &buf, &len), 0);
    assert_int_equal(len, 9);
    assert_string_equal(buf, "one line\n");
    free(buf);
}

static void test_file_read_path_refuses_more_than_max(void **state)
{
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    unlink(path);
    assert_int_equal(file_write_new(path, 0600, "one line\n", 9), 0);
    assert_int_equal(file_read_path(path, 8, &buf, &len), -EFBIG);
    assert_null(buf);
}

static void test_file_read_path_refuses_a_folder(void **state)
{
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(file_read_path("/tmp", 100, &buf, &len), -EINVAL);
    assert_int_equal(file_read_path("/nonexistent/x", 100, &buf, &len), -ENOENT);
}

static void test_file_read_fd_reads_a_pipe_past_one_buffer(void **state)
{
    static char big[200000];
    char *buf = NULL;
    size_t len = 0;
    int fds[2];
    pid_t pid;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(file_write_all(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(file_read_fd(fds[0], sizeof(big), &buf, &len), 0);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    assert_int_equal(len, sizeof(big));
    assert_int_equal(buf[len], '\0');
    assert_memory_equal(buf, big, sizeof(big));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_write_new_sets_exact_mode_despite_umask),
        cmocka_unit_test(test_file_write_new_never_replaces),
        cmocka_unit_test(test_file_write_new_in_missing_folder_is_enoent),
        cmocka_unit_test(test_file_sync_parent_of_bare_name_syncs_cwd),
        cmocka_unit_test(test_file_read_path_reads_whole_file_with_nul),
        cmocka_unit_test(test_file_read_path_refuses_more_than_max),
        cmocka_unit_test(test_file_read_path_refuses_a_folder),
        cmocka_unit_test(test_file_read_fd_reads_a_pipe_past_one_buffer),
    };

    return cmocka_run_group_tests_name("fileio", tests, setup, teardown);
}
