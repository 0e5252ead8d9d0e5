// What both halves of a run sandbox's C share: spawn.c (loaded by the zygote; each run's init until it execs itself,
// and the program's process up to its job) and init.c (the exec'd init, pid 1 of the run from the job on).
#ifndef PYTH_ON_COMMON_H
#define PYTH_ON_COMMON_H

#include <linux/filter.h>
#include <stddef.h>

#define SETUP_FAILED_EXIT 70
#define ZK_FAILED_EXIT 3
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

// The descriptors spawn.c hands the exec'd init (init.c), each at its fixed number; nothing else is open in init.
#define INIT_JOB_FD 3         // the job pipe from the supervisor
#define INIT_CONTROL_FD 4     // signals to forward, from the supervisor
#define INIT_STATUS_FD 5      // status lines to the supervisor
#define INIT_PROGRAM_JOB_FD 6 // the program's job pipe (write end)
#define INIT_READY_FD 7       // the program's ready byte (read end)
#define INIT_FILTER_FD 8      // the run's inner seccomp filter, BPF in a sealed memfd
#define INIT_PACKAGES_FD 9    // an O_PATH descriptor of the slot's package store root (closed if the slot has none)
#define INIT_DESCRIPTORS 10

// The run's status pipe (runtime/README.md, "status"): stderr until a run sandbox's process sets it.
extern int status_fd;

// One status line to the supervisor (at most 512 bytes, as the zygote's).
void report(const char *format, ...) __attribute__((format(printf, 1, 2)));
// "error SetupError: WHAT: strerror(errno)" (fail) or "error SetupError: WHAT" (fail_plain), then exit 70.
__attribute__((noreturn)) void fail(const char *what);
__attribute__((noreturn)) void fail_plain(const char *what);
int write_all(int fd, const char *data, size_t length);
// Flags a remount in a user namespace must keep: the kernel refuses to clear them on an inherited mount.
unsigned long locked_flags(const char *path);
// No capabilities left in any set, no_new_privs, then the run's inner seccomp filter.
int pyth_on_drop_privileges(const struct sock_fprog *filter);

#endif
