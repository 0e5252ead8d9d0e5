// The run sandbox's init: loaded by sandbox.py (ctypes) in the zygote and called by each run's init (pid 1 of the
// run) right after the zygote cloned it into the run's namespaces. It maps the slot's uid, builds the run's
// filesystems, empties the capability bounding set and forks the program's process, which returns to Python to
// wait for its job (a Python program's process is the loaded interpreter); init itself never returns. It reads the
// job frame, binds the job's package stores, decrypts zero-knowledge code in a separate interpreter, hands the
// program its job, drops its own privileges, forwards the agent's signals and reports the program's exit status.
// C instead of the forked interpreter: every Python call in a fork of the zygote writes to (and so copies) pages it
// shares with the zygote. Init's Python after the program's fork alone had cost 8.4 of a run sandbox's ~40 ms of CPU
// on a VM where a page fault costs 11 us; all of init in C halved the sandbox's CPU (README, "Init in C").
// Protocol (runtime/README.md, "Job frame"): init reads "1 ZK_LENGTH STORE...\n", ZK_LENGTH bytes of the
// zero-knowledge request (JSON for zk_decrypt.py), then the program's job JSON until end-of-file; the program reads
// "-\n" (or "CODE_LENGTH\n" and the decrypted code) followed by that JSON.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SETUP_FAILED_EXIT 70
#define ZK_FAILED_EXIT 3
#define MAX_HEADER 4096
#define MAX_STORES 64
#define STORE_ID_LENGTH 43
#define MAX_PAYLOAD (32 << 20) // the frame protocol's limit: no part of a job is larger
#define CHUNK (64 << 10)

static int status_fd = 2; // the run's status pipe once pyth_on_init runs; stderr for scripts/lib/sandbox-steps.py

// One status line to the supervisor (at most 512 bytes, as the zygote's).
static void report(const char *format, ...) {
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

__attribute__((noreturn)) static void fail(const char *what) {
    report("error SetupError: %s: %s", what, strerror(errno));
    _exit(SETUP_FAILED_EXIT);
}

__attribute__((noreturn)) static void fail_plain(const char *what) {
    report("error SetupError: %s", what);
    _exit(SETUP_FAILED_EXIT);
}

static int write_all(int fd, const char *data, size_t length) {
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

// The job pipe, read through one buffer: the header line, the zero-knowledge part, then the program's job.
static char buffer[CHUNK];
static size_t buffered, consumed;

static ssize_t fill(int fd) {
    if (consumed == buffered) consumed = buffered = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + buffered, sizeof buffer - buffered);
        if (n >= 0 || errno != EINTR) {
            if (n > 0) buffered += (size_t)n;
            return n;
        }
    }
}

// Reads exactly `length` bytes of the job pipe into `out`.
static int read_exactly(int fd, char *out, size_t length) {
    while (length > 0) {
        if (consumed == buffered && fill(fd) <= 0) return -1;
        size_t take = buffered - consumed < length ? buffered - consumed : length;
        memcpy(out, buffer + consumed, take);
        consumed += take;
        out += take;
        length -= take;
    }
    return 0;
}

static int valid_store_id(const char *id) {
    if (strlen(id) != STORE_ID_LENGTH || (strncmp(id, "py-", 3) != 0 && strncmp(id, "js-", 3) != 0)) return 0;
    for (const char *c = id + 3; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return 0;
    return 1;
}

// Flags a remount in a user namespace must keep: the kernel refuses to clear them on an inherited mount.
static unsigned long locked_flags(const char *path) {
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

// Only the job's stores appear under the run's own /packages, each read-only; then /packages itself turns read-only.
static void bind_stores(char **stores, int count, int packages_fd) {
    if (count > 0 && packages_fd < 0) fail_plain("the slot has no package stores");
    for (int i = 0; i < count; i++) {
        char source[80], target[64];
        snprintf(source, sizeof source, "/proc/self/fd/%d/%s", packages_fd, stores[i]);
        snprintf(target, sizeof target, "/packages/%s", stores[i]);
        if (mkdir(target, 0777) != 0) fail("mkdir package store");
        if (mount(source, target, NULL, MS_BIND, NULL) != 0) fail("mount package store");
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(target), NULL) != 0)
            fail("remount package store");
    }
    if (mount(NULL, "/packages", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        fail("mount /packages");
    if (packages_fd >= 0) close(packages_fd);
}

// No capabilities left in any set, no_new_privs, then the run's inner seccomp filter. The bounding and ambient
// sets are empty already (pyth_on_drop_bounding_set, before the program's process was forked).
int pyth_on_drop_privileges(const struct sock_fprog *filter) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2] = {{0, 0, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &header, none) != 0) return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter, 0, 0);
}

// Empties the capability bounding and ambient sets (0..last_cap).
int pyth_on_drop_bounding_set(int last_cap) {
    for (int cap = 0; cap <= last_cap; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return -1;
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

// Decrypts in a separate fresh interpreter (already without privileges, like init), so the master password and
// the key never enter the program's memory. Returns the code (malloc'd, *length set) or NULL when it failed.
static char *decrypt_zk(const char *python, const char *zk_decrypt, char *const *environment, char *request,
                        size_t request_length, size_t *length) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0) _exit(ZK_FAILED_EXIT);
        syscall(SYS_close_range, 3, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
        if (chdir("/") != 0) _exit(ZK_FAILED_EXIT);
        char *argv[] = {(char *)python, "-I", (char *)zk_decrypt, NULL};
        execve(python, argv, environment);
        _exit(ZK_FAILED_EXIT);
    }
    close(in[0]);
    close(out[1]);
    // The decryptor reads all of its input before it writes: writing everything first cannot deadlock.
    write_all(in[1], request, request_length);
    close(in[1]);
    size_t size = 0, capacity = CHUNK;
    char *code = malloc(capacity);
    int too_long = 0;
    for (;;) {
        if (code != NULL && size == capacity) {
            char *grown = capacity * 2 <= MAX_PAYLOAD ? malloc(capacity * 2) : NULL;
            if (grown != NULL) memcpy(grown, code, size);
            explicit_bzero(code, size);
            free(code);
            code = grown;
            capacity *= 2;
            too_long = grown == NULL;
        }
        char discard[4096];
        ssize_t n = code != NULL ? read(out[0], code + size, capacity - size) : read(out[0], discard, sizeof discard);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (code != NULL) size += (size_t)n;
    }
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (too_long || code == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (code != NULL) explicit_bzero(code, size);
        free(code);
        return NULL;
    }
    *length = size;
    return code;
}

// Forwards the agent's signal bytes to the program, reaps orphans, and reports the program's exit status as soon as
// it is reaped, before this process's exit tears the run's namespaces down.
__attribute__((noreturn)) static void supervise(pid_t program, int control_fd, int sigchld_fd) {
    int control_open = 1;
    for (;;) {
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid < 0 && errno == EINTR) continue;
            if (pid < 0) _exit(0);
            if (pid == 0) break;
            if (pid == program) {
                int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
                report("exit %d", code);
                _exit(code);
            }
        }
        struct pollfd fds[2] = {{sigchld_fd, POLLIN, 0}, {control_open ? control_fd : -1, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info[8];
            (void)!read(sigchld_fd, info, sizeof info);
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char signals[64];
            ssize_t n = read(control_fd, signals, sizeof signals);
            if (n <= 0) {
                if (n == 0 || errno != EINTR) control_open = 0;
                continue;
            }
            for (ssize_t i = 0; i < n; i++)
                if (signals[i] == SIGINT || signals[i] == SIGTERM || signals[i] == SIGHUP || signals[i] == SIGQUIT)
                    kill(program, signals[i]);
        }
    }
}

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
void pyth_on_enter(int uid, int gid) {
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
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

// The run's own filesystems. Returns an O_PATH descriptor of the slot's package store root (-1 without one): the
// job's stores are bound from it once the job names them (bind_stores), under an empty /packages of the run's own.
int pyth_on_build_filesystems(int tmp_mb, int work_mb, int shm_mb, int inodes, int uid, const char *agent_socket) {
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

// What the zygote passes a new run's init (sandbox.py keeps the same layout as a ctypes.Structure).
struct pyth_on_run_sandbox {
    int uid, gid, tmp_mb, work_mb, shm_mb, inodes;
    int last_cap; // the kernel's last capability (/proc/sys/kernel/cap_last_cap), read once by the zygote
    const char *agent_socket;
    const struct sock_fprog *filter;
    const char *python, *zk_decrypt;
    char *const *environment;  // of every process init starts: the decryptor and JavaScript's node
    char *const *program_argv; // JavaScript: the program's process execs it; NULL: Python, it returns to the interpreter
    int job_fd, stdin_fd, out_fd, err_fd, control_fd, status_fd; // the run's ends of its six pipes
    int zygote_fds[7];                                            // the zygote's ends and its socket: not the run's
};

// The interpreter's own SIGINT action (KeyboardInterrupt), put back in the program's process: init ignores SIGINT.
static struct sigaction interpreter_sigint;

__attribute__((noreturn)) static void serve_run(pid_t program, int ready_fd, int job_fd, int program_job_fd,
                                                const struct pyth_on_run_sandbox *run, int packages_fd);

// The program's process before its job: the run's pipes as its stdin, stdout and stderr, its job on fd 3 and its
// ready byte on fd 4, nothing else open, the signal dispositions of an interpreter the program started itself, and
// no privileges. JavaScript: execs node, whose runner reports ready once booted. Python: returns to the interpreter,
// which reports ready once it is back in Python and reads its job from fd 3 (sandbox.py). C rather than the forked
// interpreter's Python: a Python call in this process writes to (and so copies) pages it shares with the zygote.
static void start_program(const struct pyth_on_run_sandbox *run, int program_job_fd, int ready_fd) {
    // Every source moves above 5 first: one may sit on another's target (the zygote's pipes start at 3).
    int sources[5] = {run->stdin_fd, run->out_fd, run->err_fd, program_job_fd, ready_fd};
    int moved[5];
    for (int i = 0; i < 5; i++)
        if ((moved[i] = fcntl(sources[i], F_DUPFD, 6)) < 0) fail("move the program's descriptors");
    int status = fcntl(status_fd, F_DUPFD_CLOEXEC, 6);
    if (status < 0) fail("move the status descriptor");
    for (int i = 0; i < 5; i++)
        if (dup2(moved[i], i) != i) fail("the program's descriptors");
    if (dup3(status, 5, O_CLOEXEC) != 5) fail("the status descriptor");
    status_fd = 5;
    if (syscall(SYS_close_range, 6, ~0U, 0) != 0) fail("close_range");
    // Python ignores SIGPIPE and SIGXFSZ at the kernel level in the zygote only (sandbox.py): its table already
    // says SIG_DFL, which is what a program's own interpreter has.
    static const int defaults[] = {SIGPIPE, SIGXFSZ, SIGCHLD, SIGTERM, SIGQUIT};
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    for (size_t i = 0; i < COUNT(defaults); i++)
        if (sigaction(defaults[i], &default_action, NULL) != 0) fail("sigaction");
    if (sigaction(SIGINT, &interpreter_sigint, NULL) != 0) fail("sigaction SIGINT");
    if (pyth_on_drop_privileges(run->filter) != 0) fail("drop privileges");
    if (run->program_argv != NULL) {
        execve(run->program_argv[0], run->program_argv, run->environment);
        fail(run->program_argv[0]);
    }
    // Dumpable again, as a program's own interpreter is (init's fork inherited its non-dumpable state): the program
    // may read its own /proc/self. Only its own run's processes could ever open it.
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fail("prctl PR_SET_DUMPABLE");
    close(5);
}

// Pid 1 of the run's pid namespace, just cloned by the zygote: when it exits, the kernel kills every process of the
// run. Returns only in a Python program's process (0), before its job exists and before it reported ready
// (start_program). Init never returns.
int pyth_on_init(struct pyth_on_run_sandbox *run) {
    for (size_t i = 0; i < COUNT(run->zygote_fds); i++)
        if (run->zygote_fds[i] >= 0) close(run->zygote_fds[i]);
    status_fd = run->status_fd;
    pyth_on_enter(run->uid, run->gid); // before PR_SET_DUMPABLE: a non-dumpable process's /proc/self is root's
    if (prctl(PR_SET_NAME, "pyth-on-init", 0, 0, 0) != 0) fail("prctl PR_SET_NAME");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("prctl PR_SET_PDEATHSIG");
    // The program (same uid) cannot open this process's memory or descriptors.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail("prctl PR_SET_DUMPABLE");
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    if (sigaction(SIGINT, &ignore, &interpreter_sigint) != 0) fail("sigaction SIGINT");
    int packages_fd = pyth_on_build_filesystems(run->tmp_mb, run->work_mb, run->shm_mb, run->inodes, run->uid,
                                                run->agent_socket);
    if (pyth_on_drop_bounding_set(run->last_cap) != 0) fail("drop the capability bounding set");
    if (chdir("/work") != 0) fail("chdir /work");
    // The program's process starts before its job exists, without privileges: it reports ready on fd 4 and reads
    // the job from fd 3. Python: forked from this loaded interpreter; JavaScript: node boots (~30 ms) meanwhile.
    // Everything up to here is off the run's clock: a job only has to reach the waiting process.
    int program_job[2], ready[2];
    if (pipe2(program_job, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) fail("pipe");
    pid_t program = fork();
    if (program < 0) fail("fork");
    if (program == 0) {
        start_program(run, program_job[0], ready[1]);
        return 0;
    }
    close(program_job[0]);
    close(ready[1]);
    close(run->stdin_fd);
    close(run->out_fd);
    close(run->err_fd);
    serve_run(program, ready[0], run->job_fd, program_job[1], run, packages_fd);
}

// Init after the program's process was forked and told of nothing yet.
__attribute__((noreturn)) static void serve_run(pid_t program, int ready_fd, int job_fd, int program_job_fd,
                                                const struct pyth_on_run_sandbox *run, int packages_fd) {
    // SIGCHLD is taken from a signalfd: blocked from here on, a child's end stays pending until it is read.
    sigset_t sigchld;
    sigemptyset(&sigchld);
    sigaddset(&sigchld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &sigchld, NULL) != 0) fail("sigprocmask");
    int sigchld_fd = signalfd(-1, &sigchld, SFD_CLOEXEC);
    if (sigchld_fd < 0) fail("signalfd");

    char ready;
    ssize_t got;
    while ((got = read(ready_fd, &ready, 1)) < 0 && errno == EINTR) {
    }
    if (got != 1) fail_plain("the program's process exited before it was ready");
    close(ready_fd);
    report("ready");

    // Header: "1 ZK_LENGTH STORE...\n".
    char header[MAX_HEADER + 1];
    size_t header_length = 0;
    for (;;) {
        if (consumed == buffered && fill(job_fd) <= 0) fail_plain("the job ended before its header");
        char *end = memchr(buffer + consumed, '\n', buffered - consumed);
        size_t take = (end != NULL ? (size_t)(end - (buffer + consumed)) + 1 : buffered - consumed);
        if (header_length + take > MAX_HEADER) fail_plain("the job's header is too long");
        memcpy(header + header_length, buffer + consumed, take);
        header_length += take;
        consumed += take;
        if (end != NULL) break;
    }
    header[header_length - 1] = '\0';
    char *stores[MAX_STORES];
    int store_count = 0;
    char *save = NULL;
    char *version = strtok_r(header, " ", &save);
    char *zk_field = strtok_r(NULL, " ", &save);
    if (version == NULL || strcmp(version, "1") != 0 || zk_field == NULL) fail_plain("unknown job header");
    char *zk_end;
    errno = 0;
    unsigned long zk_length = strtoul(zk_field, &zk_end, 10);
    if (errno != 0 || *zk_end != '\0' || zk_field[0] == '-' || zk_length > MAX_PAYLOAD)
        fail_plain("invalid zero-knowledge length");
    for (char *store; (store = strtok_r(NULL, " ", &save)) != NULL;) {
        if (store_count == MAX_STORES) fail_plain("too many package stores");
        if (!valid_store_id(store)) fail_plain("invalid package store id");
        stores[store_count++] = store;
    }
    bind_stores(stores, store_count, packages_fd);

    int dropped = 0;
    char *code = NULL;
    size_t code_length = 0;
    if (zk_length > 0) {
        char *request = malloc(zk_length);
        if (request == NULL || read_exactly(job_fd, request, zk_length) != 0) fail_plain("the job ended early");
        if (pyth_on_drop_privileges(run->filter) != 0) fail("drop privileges");
        dropped = 1;
        code = decrypt_zk(run->python, run->zk_decrypt, run->environment, request, zk_length, &code_length);
        explicit_bzero(request, zk_length);
        free(request);
        report(code != NULL ? "zk ok" : "zk failed");
        if (code == NULL) _exit(ZK_FAILED_EXIT);
    }

    // The program's job: a code line, the decrypted code if any, then the rest of the job pipe as it comes. A
    // program that is gone (killed meanwhile) is not an error of init's: its exit status tells.
    char line[32];
    int line_length = code != NULL ? snprintf(line, sizeof line, "%zu\n", code_length) : snprintf(line, sizeof line, "-\n");
    int program_gone = write_all(program_job_fd, line, (size_t)line_length) != 0;
    if (code != NULL) {
        program_gone = program_gone || write_all(program_job_fd, code, code_length) != 0;
        explicit_bzero(code, code_length);
        free(code);
    }
    for (;;) {
        if (consumed < buffered && !program_gone)
            program_gone = write_all(program_job_fd, buffer + consumed, buffered - consumed) != 0;
        explicit_bzero(buffer, buffered);
        consumed = buffered = 0;
        if (fill(job_fd) <= 0) break;
    }
    explicit_bzero(buffer, sizeof buffer);
    close(program_job_fd);
    close(job_fd);
    if (!dropped && pyth_on_drop_privileges(run->filter) != 0) fail("drop privileges");
    supervise(program, run->control_fd, sigchld_fd);
}
