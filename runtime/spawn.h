// The zygote's half of a run sandbox (spawn.c): what the Python zygote calls through ctypes (sandbox.py keeps the
// same layouts as ctypes.Structure) and the JavaScript zygote (zygote.c) calls directly.
#ifndef PYTH_ON_SPAWN_H
#define PYTH_ON_SPAWN_H

#include <linux/filter.h>

// What the zygote passes a new run's init (sandbox.py keeps the same layout as a ctypes.Structure).
struct pyth_on_run_sandbox {
    int uid, gid, tmp_mb, work_mb, shm_mb, inodes;
    int last_cap; // the kernel's last capability (/proc/sys/kernel/cap_last_cap), read once by the zygote
    const char *agent_socket;
    const struct sock_fprog *filter; // the inner seccomp filter, compiled once by the zygote
    int filter_fd;                   // the same program in a sealed memfd, for the exec'd init
    const char *init, *python, *zk_decrypt; // init.c's executable; the decryptor's interpreter and script
    char *const *environment;  // of every process init starts: the decryptor and JavaScript's node; init's own
    char *const *program_argv; // JavaScript: the program's process execs it; NULL: Python, it returns to the interpreter
    int job_fd, stdin_fd, out_fd, err_fd, control_fd, status_fd; // the run's ends of its six pipes
    int zygote_fds[7];                                            // the zygote's ends and its socket: not the run's
};

// The parent ends of a run sandbox's six pipes in the order the supervisor takes them (job, stdin, stdout, stderr,
// control, status; runtime/README.md), and the status pipe's write end, which the zygote keeps to report init's exit.
struct pyth_on_sandbox_ends {
    int parent[6];
    int status_w;
};

// One run sandbox (its pipes' parent ends in `ends`): init's pid, -errno if the kernel refused; 0 in a Python
// program's process.
int pyth_on_spawn(struct pyth_on_run_sandbox *run, int sock, struct pyth_on_sandbox_ends *ends);
// The zygote's loop over the supervisor's requests on `sock`; returns only in a Python program's process (0).
int pyth_on_serve(struct pyth_on_run_sandbox *run, int sock);

#endif
