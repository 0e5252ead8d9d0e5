// The zygote's half of a run sandbox, loaded by sandbox.py (ctypes): the zygote's loop (pyth_on_serve), and
// pyth_on_spawn, which makes a run sandbox's pipes and clones its init straight
// into the run's new namespaces, sharing the zygote's memory (CLONE_VM | CLONE_VFORK, as posix_spawn does) until init
// execs itself as /opt/pyth-on/pyth-on-init (init.c). Before that exec, init maps the slot's uid, builds the run's
// filesystems, empties the capability bounding set and forks the program's process, the one copy of the loaded
// interpreter a run makes: a Python program's process returns from pyth_on_spawn (0) to wait for its job, JavaScript's
// execs node. Init's own copy of the interpreter, made and torn down for every run until 2026-12-04, is gone: 3–4 ms
// of a python run's machine CPU on the 2-core VM with both cores busy, and init's 7–8 MiB of idle RSS (README,
// "Init without a copy of the interpreter").
// C instead of Python: every Python call in a fork of the zygote writes to (and so copies) pages it shares with the
// zygote, and Python could not run beside the suspended zygote in its memory at all.
#define _GNU_SOURCE
#include "common.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define API __attribute__((visibility("default"))) // built with -fvisibility=hidden: only these are sandbox.py's

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, text, strlen(text)) != 0) fail(path);
    close(fd);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void mount_or_fail(const char *source, const char *target, const char *type, unsigned long flags,
                          const char *data) {
    if (mount(source, target, type, flags, data) != 0) {
        char what[96];
        snprintf(what, sizeof what, "mount %s", target);
        fail(what);
    }
}

static void bind_readonly(const char *source, const char *target, int recursive) {
    mount_or_fail(source, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
    mount_or_fail(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(target), NULL);
}

static void tmpfs(const char *target, int size_mb, int inodes, const char *mode, int owner) {
    char options[128];
    if (owner >= 0)
        snprintf(options, sizeof options, "size=%dm,nr_inodes=%d,mode=%s,uid=%d,gid=%d", size_mb, inodes, mode, owner,
                 owner);
    else
        snprintf(options, sizeof options, "size=%dm,nr_inodes=%d,mode=%s", size_mb, inodes, mode);
    mount_or_fail("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options);
}

// In the new init: maps the slot's uid and gid into its user namespace (nothing else is mapped).
static void enter_user_namespace(int uid, int gid) {
    char map[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%d %d 1", uid, uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%d %d 1", gid, gid);
    write_file("/proc/self/gid_map", map);
}

// Docker's default masks, put back on the run's own /proc (the slot's /proc is left unmasked so that a fresh procfs
// can be mounted in a user namespace at all).
static const char *const proc_masked_files[] = {"kcore", "keys", "latency_stats", "timer_list", "timer_stats",
                                                "sched_debug"};
static const char *const proc_masked_directories[] = {"acpi", "asound", "scsi"};
static const char *const proc_read_only[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
// Host files Docker binds into every container (the same inode in every slot): hidden from runs, so two runs cannot
// meet through them (flock, inotify). And the agent's socket for this slot's supervisor (agent_socket): a program
// that connects to its path reaches an empty file of its own run.
static const char *const hidden_host_files[] = {"/etc/resolv.conf", "/sbin/docker-init"};

// The run's own filesystems. Returns an O_PATH descriptor of the slot's package store root (-1 without one): the
// job's stores are bound from it once the job names them (bind_stores), under an empty /packages of the run's own.
static int build_filesystems(int tmp_mb, int work_mb, int shm_mb, int inodes, int uid, const char *agent_socket) {
    char path[96];
    mount_or_fail(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    int packages_fd = is_directory("/packages") ? open("/packages", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    write_file("/proc/sys/user/max_user_namespaces", "0"); // no nested user namespaces (the inner filter refuses them too)
    for (size_t i = 0; i < COUNT(proc_masked_files); i++) {
        snprintf(path, sizeof path, "/proc/%s", proc_masked_files[i]);
        if (exists(path)) mount_or_fail("/dev/null", path, NULL, MS_BIND, NULL);
    }
    for (size_t i = 0; i < COUNT(proc_masked_directories); i++) {
        snprintf(path, sizeof path, "/proc/%s", proc_masked_directories[i]);
        if (is_directory(path))
            mount_or_fail("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2");
    }
    for (size_t i = 0; i < COUNT(proc_read_only); i++) {
        snprintf(path, sizeof path, "/proc/%s", proc_read_only[i]);
        if (exists(path)) bind_readonly(path, path, 1);
    }
    bind_readonly("/dev", "/dev", 1);
    tmpfs("/dev/shm", shm_mb, inodes, "1777", -1);
    if (is_directory("/dev/mqueue")) mount_or_fail("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    tmpfs("/tmp", tmp_mb, inodes, "1777", -1);
    tmpfs("/work", work_mb, inodes, "0700", uid);
    // An empty regular file of this run's own (a device node would stay writable on a read-only mount), on a
    // scratch tmpfs that is unmounted again: only the binds keep it.
    tmpfs("/run", 1, 4, "0755", -1);
    int empty = open("/run/empty", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (empty < 0) fail("/run/empty");
    close(empty);
    for (size_t i = 0; i < COUNT(hidden_host_files); i++)
        if (exists(hidden_host_files[i])) bind_readonly("/run/empty", hidden_host_files[i], 0);
    if (agent_socket != NULL && agent_socket[0] != '\0' && exists(agent_socket)) bind_readonly("/run/empty", agent_socket, 0);
    if (umount2("/run", MNT_DETACH) != 0) fail("umount /run");
    tmpfs("/packages", 1, 64, "0755", -1);
    // The run's own loopback (its network namespace has nothing else): programs may talk to themselves.
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq lo;
    memset(&lo, 0, sizeof lo);
    strcpy(lo.ifr_name, "lo");
    lo.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (s < 0 || ioctl(s, SIOCSIFFLAGS, &lo) != 0) fail("loopback");

    close(s);
    return packages_fd;
}

// The interpreter's own SIGINT action (KeyboardInterrupt), put back in the program's process: init ignores SIGINT.
static struct sigaction interpreter_sigint;

// Moves each source descriptor to its target (its index in `sources`; -1 closes that target), without close-on-exec,
// and closes every descriptor above the targets. Every source moves above the targets first: one may sit on another's
// target.
static void arrange_descriptors(const int *sources, int count) {
    int moved[16];
    for (int i = 0; i < count; i++)
        if (sources[i] >= 0 && (moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, count)) < 0) fail("move a descriptor");
    for (int i = 0; i < count; i++) {
        if (sources[i] >= 0 ? dup2(moved[i], i) != i : close(i) != 0 && errno != EBADF) fail("place a descriptor");
    }
    if (syscall(SYS_close_range, count, ~0U, 0) != 0) fail("close_range");
}

// The program's process before its job: the run's pipes as its stdin, stdout and stderr, its job on fd 3 and its
// ready byte on fd 4, nothing else open, the signal dispositions of an interpreter the program started itself, and
// no privileges. JavaScript: execs node, whose runner reports ready once booted. Python: returns to the interpreter,
// which reports ready once it is back in Python and reads its job from fd 3 (sandbox.py).
static void start_program(const struct pyth_on_run_sandbox *run, int program_job_fd, int ready_fd) {
    // Errors go to the status pipe, at 5 while the program's process is set up (closed before any Python runs).
    int sources[6] = {run->stdin_fd, run->out_fd, run->err_fd, program_job_fd, ready_fd, status_fd};
    arrange_descriptors(sources, 6);
    if (fcntl(5, F_SETFD, FD_CLOEXEC) != 0) fail("the status descriptor");
    status_fd = 5;
    // Python ignores SIGPIPE and SIGXFSZ at the kernel level in the zygote only (sandbox.py): its table already
    // says SIG_DFL, which is what a program's own interpreter has.
    static const int defaults[] = {SIGPIPE, SIGXFSZ, SIGCHLD, SIGTERM, SIGQUIT};
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    for (size_t i = 0; i < COUNT(defaults); i++)
        if (sigaction(defaults[i], &default_action, NULL) != 0) fail("sigaction");
    if (sigaction(SIGINT, &interpreter_sigint, NULL) != 0) fail("sigaction SIGINT");
    // Init raised CAP_SYS_ADMIN into its ambient set to keep it across its own exec; not the program's.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) fail("clear the ambient capabilities");
    if (pyth_on_drop_privileges(run->filter) != 0) fail("drop privileges");
    if (run->program_argv != NULL) {
        execve(run->program_argv[0], run->program_argv, run->environment);
        fail(run->program_argv[0]);
    }
    close(5);
}

// Init keeps CAP_SYS_ADMIN over the run's namespaces across its exec (it binds the job's package stores once the job
// names them): an exec by a uid that is not 0 in its user namespace clears every capability but the ambient ones.
// The bounding and ambient sets are then emptied of everything else; the program's process inherits them so.
static void keep_mounting_across_exec(int last_cap) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct caps[2];
    if (syscall(SYS_capget, &header, caps) != 0) fail("capget");
    caps[0].inheritable = 1U << CAP_SYS_ADMIN;
    caps[1].inheritable = 0;
    if (syscall(SYS_capset, &header, caps) != 0) fail("capset");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) != 0) fail("raise CAP_SYS_ADMIN");
    for (int cap = 0; cap <= last_cap; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) fail("drop the capability bounding set");
}

// Where the program's process goes back to the zygote's stack (its own copy of it) and returns from pyth_on_spawn.
static jmp_buf program_returns;
// Init's stack until its exec, in the zygote's memory: the zygote is suspended meanwhile (CLONE_VFORK).
static char init_stack[64 << 10] __attribute__((aligned(16)));

// Pid 1 of the run's pid namespace until it execs init.c, in the zygote's memory: no Python, nothing that allocates,
// no signal handler (SIGINT is ignored here, every other signal has its default action).
static int init_before_exec(void *argument) {
    const struct pyth_on_run_sandbox *run = argument;
    for (size_t i = 0; i < COUNT(run->zygote_fds); i++)
        if (run->zygote_fds[i] >= 0) close(run->zygote_fds[i]);
    status_fd = run->status_fd;
    enter_user_namespace(run->uid, run->gid);
    if (prctl(PR_SET_NAME, "pyth-on-init", 0, 0, 0) != 0) fail("prctl PR_SET_NAME");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("prctl PR_SET_PDEATHSIG");
    // Not PR_SET_DUMPABLE here: it is a property of the memory, which is the zygote's until the exec (init.c sets it
    // first thing). Meanwhile the program's process cannot open or ptrace init: it lacks init's capabilities.
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    if (sigaction(SIGINT, &ignore, &interpreter_sigint) != 0) fail("sigaction SIGINT");
    int packages_fd = build_filesystems(run->tmp_mb, run->work_mb, run->shm_mb, run->inodes, run->uid,
                                          run->agent_socket);
    keep_mounting_across_exec(run->last_cap);
    if (chdir("/work") != 0) fail("chdir /work");
    // The program's process starts before its job exists, without privileges: it reports ready on fd 4 and reads
    // the job from fd 3. Python: a copy of the loaded interpreter; JavaScript: node boots (~30 ms) meanwhile.
    // Everything up to here is off the run's clock: a job only has to reach the waiting process.
    int program_job[2], ready[2];
    if (pipe2(program_job, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) fail("pipe");
    pid_t program = fork();
    if (program < 0) fail("fork");
    if (program == 0) {
        start_program(run, program_job[0], ready[1]);
        longjmp(program_returns, 1);
    }
    // The exec'd init's descriptors (common.h, INIT_*_FD); nothing else stays open.
    int sources[INIT_DESCRIPTORS] = {0, 1, 2}; // init's stdio: the zygote's /dev/null
    sources[INIT_JOB_FD] = run->job_fd;
    sources[INIT_CONTROL_FD] = run->control_fd;
    sources[INIT_STATUS_FD] = run->status_fd;
    sources[INIT_PROGRAM_JOB_FD] = program_job[1];
    sources[INIT_READY_FD] = ready[0];
    sources[INIT_FILTER_FD] = run->filter_fd;
    sources[INIT_PACKAGES_FD] = packages_fd;
    arrange_descriptors(sources, INIT_DESCRIPTORS);
    status_fd = INIT_STATUS_FD;
    char program_pid[16];
    snprintf(program_pid, sizeof program_pid, "%d", (int)program);
    char *argv[] = {(char *)run->init, program_pid, packages_fd >= 0 ? "packages" : "-", (char *)run->python,
                    (char *)run->zk_decrypt, NULL};
    execve(run->init, argv, run->environment);
    fail("exec init");
}

#define NAMESPACES \
    (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP)

// The run's init, cloned into the run's new namespaces (the slot's seccomp profile allows namespace flags only together
// with CLONE_NEWUSER). Returns init's pid once it exec'd itself (or died), -errno if the kernel refused, and 0 in the
// Python program's process.
__attribute__((noinline)) static int clone_init(struct pyth_on_run_sandbox *run) {
    if (setjmp(program_returns) != 0) return 0;
    pid_t pid = clone(init_before_exec, init_stack + sizeof init_stack, CLONE_VM | CLONE_VFORK | NAMESPACES | SIGCHLD,
                      run);
    return pid >= 0 ? pid : -errno;
}

// One run sandbox: its six pipes and its init. Returns init's pid (-errno if the kernel refused the clone, with the
// pipes made: the zygote reports the error on the status pipe), 0 in the Python program's process (without
// privileges, its job on fd 3 and its ready byte on fd 4, nothing else open), or -errno with ends->status_w -1 when
// the pipes could not be made. `sock`, the zygote's socket to the supervisor (-1: none), is closed in the run.
API int pyth_on_spawn(struct pyth_on_run_sandbox *run, int sock, struct pyth_on_sandbox_ends *ends) {
    int pipes[6][2];
    ends->status_w = -1;
    for (int i = 0; i < 6; i++) {
        if (pipe2(pipes[i], O_CLOEXEC) != 0) {
            int error = errno;
            for (int j = 0; j < i; j++) {
                close(pipes[j][0]);
                close(pipes[j][1]);
            }
            return -error;
        }
    }
    // Which end is the run's: the job, stdin and control pipes are read in the run, stdout, stderr and status written.
    static const int run_reads[6] = {1, 1, 0, 0, 1, 0};
    int run_ends[6];
    for (int i = 0; i < 6; i++) {
        run_ends[i] = pipes[i][run_reads[i] ? 0 : 1];
        ends->parent[i] = pipes[i][run_reads[i] ? 1 : 0];
        run->zygote_fds[i] = ends->parent[i];
    }
    run->zygote_fds[6] = sock;
    run->job_fd = run_ends[0], run->stdin_fd = run_ends[1], run->out_fd = run_ends[2];
    run->err_fd = run_ends[3], run->control_fd = run_ends[4], run->status_fd = run_ends[5];
    int pid = clone_init(run);
    if (pid == 0) return 0;
    for (int i = 0; i < 5; i++) close(run_ends[i]);
    ends->status_w = run_ends[5];
    return pid;
}

static int send_ends(int sock, int pid, const int *fds, int count) {
    char digits[16];
    int length = snprintf(digits, sizeof digits, "%d", pid > 0 ? pid : 0);
    struct iovec data = {digits, (size_t)length};
    union {
        char buffer[CMSG_SPACE(6 * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = CMSG_SPACE((size_t)count * sizeof(int))};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN((size_t)count * sizeof(int));
    memcpy(CMSG_DATA(header), fds, (size_t)count * sizeof(int));
    ssize_t sent;
    while ((sent = sendmsg(sock, &message, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return sent == length ? 0 : -1;
}

// The zygote's loop, in C so that the zygote runs no Python between runs: every page it writes after a program's
// process was forked from its memory is a copy-on-write fault, and Python writes many (reference counts). For each
// byte the supervisor sends on `sock`: a run sandbox, whose pipes' parent ends go back over the socket (SCM_RIGHTS,
// with init's pid as the message), then "pid N" and, from waitpid outside the run's pid namespace, "exit CODE" on its
// status pipe. Returns only in a Python program's process (0); the zygote exits when the supervisor is gone.
API int pyth_on_serve(struct pyth_on_run_sandbox *run, int sock) {
    for (;;) {
        char request;
        ssize_t got = recv(sock, &request, 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) _exit(0);
        struct pyth_on_sandbox_ends ends;
        int pid = pyth_on_spawn(run, sock, &ends);
        if (pid == 0) return 0;
        if (ends.status_w < 0) _exit(SETUP_FAILED_EXIT); // no pipes (the zygote is out of descriptors): the slot ends
        int sent = send_ends(sock, pid, ends.parent, 6);
        for (int i = 0; i < 6; i++) close(ends.parent[i]);
        if (sent != 0) _exit(0); // the supervisor is gone: the slot is being removed
        status_fd = ends.status_w;
        if (pid < 0) {
            report("error clone: %s", strerror(-pid));
        } else {
            report("pid %d", pid);
            int status;
            pid_t reaped;
            while ((reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
            }
            if (reaped == pid) report("exit %d", WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
        }
        close(ends.status_w);
    }
}
