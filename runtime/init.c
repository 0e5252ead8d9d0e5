// The run sandbox's init from the moment it execs itself (/opt/pyth-on/pyth-on-init, a static executable): pid 1 of
// the run's pid namespace, with the descriptors spawn.c placed (common.h, INIT_*_FD), the program's process already
// forked and waiting for its job, and of its capabilities only CAP_SYS_ADMIN over the run's namespaces. It reads the
// job frame, binds the job's package stores, decrypts zero-knowledge code in a separate interpreter, hands the program
// its job, drops its own privileges, forwards the agent's signals and reports the program's exit status. C instead of
// a copy of the zygote's interpreter: a run's init no longer costs a copy of its page tables (README, "Init in C").
// Protocol (runtime/README.md, "Job frame"): init reads "1 ZK_LENGTH STORE...\n", ZK_LENGTH bytes of the
// zero-knowledge request (JSON for zk_decrypt.py), then the program's job JSON until end-of-file; the program reads
// "-\n" (or "CODE_LENGTH\n" and the decrypted code) followed by that JSON.
//   pyth-on-init PROGRAM_PID packages|- PYTHON ZK_DECRYPT   (environment: the run's base environment)
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_HEADER 4096
#define MAX_STORES 64
#define STORE_ID_LENGTH 43
#define MAX_PAYLOAD (32 << 20) // the frame protocol's limit: no part of a job is larger
#define CHUNK (64 << 10)
#define MAX_FILTER (4096 * sizeof(struct sock_filter)) // BPF_MAXINSNS

extern char **environ;

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

// The run's inner seccomp filter, as the zygote compiled it (INIT_FILTER_FD).
static struct sock_filter filter_code[MAX_FILTER / sizeof(struct sock_filter)];
static struct sock_fprog filter;

static void read_filter(void) {
    ssize_t n = pread(INIT_FILTER_FD, filter_code, sizeof filter_code, 0);
    if (n <= 0 || n % (ssize_t)sizeof(struct sock_filter) != 0) fail_plain("the seccomp filter is unreadable");
    close(INIT_FILTER_FD);
    filter.len = (unsigned short)(n / (ssize_t)sizeof(struct sock_filter));
    filter.filter = filter_code;
}

__attribute__((noreturn)) static void serve_run(pid_t program, int packages_fd, const char *python,
                                                const char *zk_decrypt) {
    int ready_fd = INIT_READY_FD, job_fd = INIT_JOB_FD, program_job_fd = INIT_PROGRAM_JOB_FD;
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
        if (pyth_on_drop_privileges(&filter) != 0) fail("drop privileges");
        dropped = 1;
        code = decrypt_zk(python, zk_decrypt, environ, request, zk_length, &code_length);
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
    if (!dropped && pyth_on_drop_privileges(&filter) != 0) fail("drop privileges");
    supervise(program, INIT_CONTROL_FD, sigchld_fd);
}

int main(int argc, char **argv) {
    status_fd = INIT_STATUS_FD;
    // First: the program's process (same uid, no capabilities) can neither open this process's memory and
    // descriptors nor ptrace it; until here its lack of init's CAP_SYS_ADMIN kept it out.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail("prctl PR_SET_DUMPABLE");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("prctl PR_SET_PDEATHSIG");
    if (argc != 5) fail_plain("usage: pyth-on-init PROGRAM_PID packages|- PYTHON ZK_DECRYPT");
    char *end;
    errno = 0;
    long program = strtol(argv[1], &end, 10);
    if (errno != 0 || *end != '\0' || program < 2) fail_plain("invalid program pid");
    read_filter();
    serve_run((pid_t)program, strcmp(argv[2], "packages") == 0 ? INIT_PACKAGES_FD : -1, argv[3], argv[4]);
}
