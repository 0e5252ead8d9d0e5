// The zygote of a JavaScript slot from its exec on, built into the static executable /opt/pyth-on/pyth-on-zygote with
// spawn.c and common.c. The Python zygote (zygote.py, sandbox.zygote) sets the slot up — the run's seccomp filter
// compiled by libseccomp, the limits, the environment and node's command line, all defined in sandbox.py — and, in a
// JavaScript slot, where no run needs the interpreter, execs this with those values on its command line: the slot
// then keeps no Python process (11 MiB of RSS, 4.6 MiB of it its own), and each run's init forks node's process from
// this small process instead of from a loaded interpreter.
//
// argv: SOCKET FILTER_FD UID GID TMP_MB WORK_MB SHM_MB INODES LAST_CAP INIT PYTHON ZK_DECRYPT AGENT_SOCKET|"" N ENV...
// (N strings) PROGRAM_ARGV... — written by sandbox.py's _exec_c_zygote.
#define _GNU_SOURCE
#include "common.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ARG_SOCKET = 1, ARG_FILTER_FD, ARG_UID, ARG_GID, ARG_TMP_MB, ARG_WORK_MB, ARG_SHM_MB, ARG_INODES, ARG_LAST_CAP,
       ARG_INIT, ARG_PYTHON, ARG_ZK_DECRYPT, ARG_AGENT_SOCKET, ARG_ENV_COUNT, ARG_ENV };

__attribute__((noreturn)) static void refuse(const char *what, const char *value) {
    dprintf(2, "pyth-on-zygote: %s: %s\n", what, value);
    _exit(SETUP_FAILED_EXIT);
}

static int number(char **argv, int index) {
    char *end;
    errno = 0;
    long value = strtol(argv[index], &end, 10);
    if (errno != 0 || end == argv[index] || *end != '\0' || value < 0 || value > INT_MAX)
        refuse("not a number where one was expected", argv[index]);
    return (int)value;
}

int main(int argc, char **argv) {
    if (argc <= ARG_ENV_COUNT) refuse("usage", "pyth-on-zygote SOCKET FILTER_FD ... (started by zygote.py only)");
    int env_count = number(argv, ARG_ENV_COUNT);
    if (env_count > argc - ARG_ENV - 1) refuse("no program command line after the environment", argv[ARG_ENV_COUNT]);
    int sock = number(argv, ARG_SOCKET), filter_fd = number(argv, ARG_FILTER_FD);

    // The filter as the exec'd init gets it (the sealed memfd) and as the program's process loads it (in memory).
    struct stat st;
    if (fstat(filter_fd, &st) != 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
        st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter)))
        refuse("no seccomp filter at descriptor", argv[ARG_FILTER_FD]);
    struct sock_filter *code = malloc((size_t)st.st_size);
    if (code == NULL || pread(filter_fd, code, (size_t)st.st_size, 0) != st.st_size)
        refuse("cannot read the seccomp filter at descriptor", argv[ARG_FILTER_FD]);
    struct sock_fprog filter = {.len = (unsigned short)(st.st_size / sizeof(struct sock_filter)), .filter = code};

    char **environment = calloc((size_t)env_count + 1, sizeof(char *));
    if (environment == NULL) refuse("out of memory", "environment");
    for (int i = 0; i < env_count; i++) environment[i] = argv[ARG_ENV + i];

    struct pyth_on_run_sandbox run = {
        .uid = number(argv, ARG_UID), .gid = number(argv, ARG_GID),
        .tmp_mb = number(argv, ARG_TMP_MB), .work_mb = number(argv, ARG_WORK_MB), .shm_mb = number(argv, ARG_SHM_MB),
        .inodes = number(argv, ARG_INODES), .last_cap = number(argv, ARG_LAST_CAP),
        .agent_socket = argv[ARG_AGENT_SOCKET][0] ? argv[ARG_AGENT_SOCKET] : NULL,
        .filter = &filter, .filter_fd = filter_fd,
        .init = argv[ARG_INIT], .python = argv[ARG_PYTHON], .zk_decrypt = argv[ARG_ZK_DECRYPT],
        .environment = environment, .program_argv = argv + ARG_ENV + env_count,
    };
    // Inherited across the exec on purpose; no process this one starts gets them by accident.
    if (fcntl(sock, F_SETFD, FD_CLOEXEC) != 0 || fcntl(filter_fd, F_SETFD, FD_CLOEXEC) != 0)
        refuse("the inherited descriptors", argv[ARG_SOCKET]);
    // Until here an error reached the slot's diagnostics (stderr); no run sandbox may inherit that stream.
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) refuse("cannot open", "/dev/null");
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(devnull, fd) != fd) refuse("cannot put stdio on", "/dev/null");
    if (devnull > 2) close(devnull);
    pyth_on_serve(&run, sock); // returns only in a Python program's process, which this zygote never starts
    _exit(SETUP_FAILED_EXIT);
}
