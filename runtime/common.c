// Helpers of both halves of a run sandbox's C (common.h).
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int status_fd = 2;

// One status line to the supervisor (at most 512 bytes, as the zygote's).
void report(const char *format, ...) {
    char line[514];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, 513, format, args);
    va_end(args);
    if (n < 0) return;
    if (n > 512) n = 512;
    line[n++] = '\n';
    (void)!write(status_fd, line, (size_t)n);
}

__attribute__((noreturn)) void fail(const char *what) {
    report("error SetupError: %s: %s", what, strerror(errno));
    _exit(SETUP_FAILED_EXIT);
}

__attribute__((noreturn)) void fail_plain(const char *what) {
    report("error SetupError: %s", what);
    _exit(SETUP_FAILED_EXIT);
}

int write_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

// Flags a remount in a user namespace must keep: the kernel refuses to clear them on an inherited mount.
unsigned long locked_flags(const char *path) {
    struct statvfs s;
    if (statvfs(path, &s) != 0) fail("statvfs");
    unsigned long flags = 0;
    if (s.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (s.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (s.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

int pyth_on_drop_privileges(const struct sock_fprog *filter) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2] = {{0, 0, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &header, none) != 0) return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter, 0, 0);
}
