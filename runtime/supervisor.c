// Pyth-On slot supervisor, built into the static executable /opt/pyth-on/pyth-on-supervisor. Runs as
// `pyth-on-supervisor LANGUAGE` under docker-init in a long-lived hardened container (a "slot") and serves runs one
// at a time, each in a fresh run sandbox that the slot's zygote (zygote.py) starts. Trusted code: the program never
// sees this process, its pid or its memory. Protocol and process tree: runtime/README.md; the reasons behind each
// step: docs/architecture.md ("The run sandbox").
// One file on purpose: it is one event loop whose frame handling, output flow control and end-of-run detection share
// one state. C (it was Python until 2026-12-04) because it runs for every frame of every run: an interpreter here
// cost ~1.2 ms of CPU per run and 11 MiB of RSS per slot (README, "The supervisor in C").
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZYGOTE "/opt/pyth-on/zygote.py"
#define PYTHON "/usr/bin/python3"
#define ZYGOTE_SOCKET_FD 3 // the zygote's end of the request socket, at this number in the zygote
#define FATAL_EXIT 70

// One frame: type (1 byte), run sequence number (4), payload length (4), payload. Both directions.
#define FRAME_HEADER 9
#define MAX_FRAME (32u << 20)
// agent -> supervisor
#define JOB 'J'
#define STDIN 'I'
#define STDIN_EOF 'E'
#define SIGNAL 'S'
// supervisor -> agent
#define READY 'R'
#define STDOUT 'O'
#define STDERR 'e'
#define ZK 'Z'
#define ACK 'A'
#define EXIT 'X'
#define FATAL 'F'

#define READ_CHUNK (64 * 1024)
#define AGENT_READ (1 << 20)
// Program output is read only while less than this waits to go to the agent: a slow agent slows the program (its
// pipe fills), it never makes this process buffer without bound.
#define OUT_HIGH_WATER (1 << 20)
#define STATUS_LINE_MAX 4096
#define KEEP_BUFFER (256 * 1024) // an empty buffer larger than this is freed

// A growable byte buffer with a consumed head (a queue).
struct buffer {
    unsigned char *data;
    size_t head, length, capacity;
};

enum { PIPE_JOB, PIPE_STDIN, PIPE_STDOUT, PIPE_STDERR, PIPE_CONTROL, PIPE_STATUS, SANDBOX_PIPES };
enum { ZK_NONE, ZK_OK, ZK_FAILED };

// One run sandbox: the parent ends of its pipes, its init's pid, and what is known of its end.
struct run {
    int fd[SANDBOX_PIPES]; // -1 once closed
    pid_t init_pid;
    int has_job;
    uint32_t seq;
    uint64_t max_output;
    uint64_t sent[2]; // stdout, stderr
    int truncated, capped, killed, ready, zk;
    int exit_status; // -1 until known
    long oom_before;
    char status_line[STATUS_LINE_MAX];
    size_t status_length;
    struct buffer job_pending;   // zeroed as it is written: it holds code, env (secrets), the zk password
    struct buffer stdin_pending; // zeroed as it is written
    uint64_t stdin_written;
    int stdin_eof;
};

static int agent = -1;  // the agent's connection (non-blocking)
static int zygote = -1; // the request socket to the zygote (blocking)
static pid_t zygote_pid;
static struct buffer inbox, outbox;
static struct run *run; // the current run sandbox, NULL between one's end and the next one's hand-over
static struct run the_run;
static unsigned long generation; // counts run sandboxes: a descriptor number polled for one may be the next one's

__attribute__((noreturn, format(printf, 1, 2))) static void fatal(const char *format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof message) n = sizeof message - 1;
    if (agent < 0) {
        dprintf(2, "pyth-on supervisor: %s\n", message);
    } else {
        unsigned char header[FRAME_HEADER] = {FATAL, 0, 0, 0, 0,
                                              (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                              (unsigned char)(n >> 8), (unsigned char)n};
        int flags = fcntl(agent, F_GETFL);
        if (flags >= 0) fcntl(agent, F_SETFL, flags & ~O_NONBLOCK);
        // What was queued first (the run's last output), then the reason.
        if (outbox.length > 0) (void)!write(agent, outbox.data + outbox.head, outbox.length);
        (void)!write(agent, header, sizeof header);
        (void)!write(agent, message, (size_t)n);
    }
    _exit(FATAL_EXIT);
}

// --- buffers ----------------------------------------------------------------------------------------------------

static void put(struct buffer *b, const void *data, size_t length) {
    if (b->head > 0 && b->head + b->length + length > b->capacity) {
        memmove(b->data, b->data + b->head, b->length);
        explicit_bzero(b->data + b->length, b->head);
        b->head = 0;
    }
    if (b->length + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->length + length) capacity *= 2;
        // Not realloc: the old block may hold a job's secrets, so it is zeroed before it is freed.
        unsigned char *bigger = malloc(capacity);
        if (bigger == NULL) fatal("out of memory");
        if (b->length) memcpy(bigger, b->data + b->head, b->length);
        if (b->data) {
            explicit_bzero(b->data, b->capacity);
            free(b->data);
        }
        b->data = bigger;
        b->capacity = capacity;
        b->head = 0;
    }
    memcpy(b->data + b->head + b->length, data, length);
    b->length += length;
}

static void release(struct buffer *b) {
    if (b->data) {
        explicit_bzero(b->data, b->capacity);
        free(b->data);
    }
    memset(b, 0, sizeof *b);
}

static void consume(struct buffer *b, size_t length) {
    explicit_bzero(b->data + b->head, length);
    b->head += length;
    b->length -= length;
    if (b->length > 0) return;
    b->head = 0;
    // Emptied after a large frame: its memory goes back, it counts against the slot's limit, so the next runs'.
    if (b->capacity > KEEP_BUFFER) release(b);
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// --- frames to the agent -----------------------------------------------------------------------------------------

static void flush(void) {
    while (outbox.length > 0) {
        ssize_t n = write(agent, outbox.data + outbox.head, outbox.length);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            _exit(0); // the agent is gone: the slot is about to be removed
        }
        consume(&outbox, (size_t)n);
    }
}

static void send_frame(unsigned char kind, uint32_t seq, const void *payload, size_t length) {
    unsigned char header[FRAME_HEADER] = {kind,
                                          (unsigned char)(seq >> 24), (unsigned char)(seq >> 16),
                                          (unsigned char)(seq >> 8), (unsigned char)seq,
                                          (unsigned char)(length >> 24), (unsigned char)(length >> 16),
                                          (unsigned char)(length >> 8), (unsigned char)length};
    put(&outbox, header, sizeof header);
    if (length) put(&outbox, payload, length);
    flush();
}

// --- the slot ------------------------------------------------------------------------------------------------------

// The slot's OOM kill counter (cgroup v1 memory.oom_control, or v2 memory.events), read twice per run through a
// descriptor opened once.
static long oom_kills(void) {
    static const char *const paths[] = {"/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"};
    static int counter = -1;
    for (size_t i = 0; counter < 0 && i < sizeof paths / sizeof paths[0]; i++)
        counter = open(paths[i], O_RDONLY | O_CLOEXEC);
    if (counter < 0) return 0;
    char text[4096];
    ssize_t n = pread(counter, text, sizeof text - 1, 0);
    if (n <= 0) return 0;
    text[n] = '\0';
    for (char *line = text; line != NULL; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, "oom_kill ", 9) == 0) return strtol(line + 9, NULL, 10);
    }
    return 0;
}

// Starts the zygote: Python's `zygote.py LANGUAGE`, its end of the request socket at fd 3. It is started before
// this process reads any job and never reads one itself: every run sandbox comes from it, so no run can inherit
// another run's job from memory.
static void start_zygote(const char *language) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) fatal("socketpair: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) fatal("fork of the zygote: %s", strerror(errno));
    if (pid == 0) {
        if (dup2(pair[1], ZYGOTE_SOCKET_FD) < 0) _exit(FATAL_EXIT); // dup2 clears close-on-exec
        close_range(ZYGOTE_SOCKET_FD + 1, ~0u, 0);
        signal(SIGPIPE, SIG_DFL);
        execl(PYTHON, PYTHON, "-u", ZYGOTE, language, (char *)NULL);
        dprintf(2, "pyth-on supervisor: exec %s: %s\n", ZYGOTE, strerror(errno));
        _exit(FATAL_EXIT);
    }
    close(pair[1]);
    zygote = pair[0];
    zygote_pid = pid;
}

// The agent's socket for this slot (bound read-only into the container, hidden from every run sandbox): all
// frames of the slot's life go over this one connection (runtime/README.md, "Frame protocol"). Connected only after
// the zygote's start, so no run sandbox can inherit it.
static void connect_agent(void) {
    const char *path = getenv("PYTH_ON_AGENT_SOCKET");
    if (path == NULL || !*path) fatal("PYTH_ON_AGENT_SOCKET is not set");
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) fatal("PYTH_ON_AGENT_SOCKET is too long");
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fatal("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0)
        fatal("cannot connect to the agent at %s: %s", path, strerror(errno));
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fatal("fcntl: %s", strerror(errno));
    agent = fd;
}

// --- the run sandbox ---------------------------------------------------------------------------------------------

static void close_pipe(int which) {
    if (run->fd[which] >= 0) {
        close(run->fd[which]);
        run->fd[which] = -1;
    }
}

static void kill_run(void) {
    if (!run->killed && run->init_pid > 0) {
        run->killed = 1;
        kill(run->init_pid, SIGKILL); // its pid namespace dies with it
    }
}

// The zygote closed its socket, so it is exiting: how it ended (its own message went to stderr just before).
__attribute__((noreturn)) static void zygote_gone(void) {
    int status;
    pid_t reaped;
    do reaped = waitpid(zygote_pid, &status, 0);
    while (reaped < 0 && errno == EINTR);
    if (reaped == zygote_pid && WIFEXITED(status)) fatal("the zygote exited with status %d", WEXITSTATUS(status));
    if (reaped == zygote_pid && WIFSIGNALED(status)) fatal("the zygote was killed by signal %d", WTERMSIG(status));
    fatal("the zygote is gone");
}

// Asks the zygote for the next run sandbox; it reports ready on its status pipe.
static void prepare(void) {
    char request = 's';
    while (write(zygote, &request, 1) < 0) {
        if (errno != EINTR) zygote_gone();
    }
    char message[64];
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int) * SANDBOX_PIPES)];
    } control;
    struct iovec iov = {.iov_base = message, .iov_len = sizeof message};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    ssize_t n;
    do n = recvmsg(zygote, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    int count = 0;
    int fds[SANDBOX_PIPES];
    if (n > 0 && c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)(count < SANDBOX_PIPES ? count : SANDBOX_PIPES));
    }
    if (n <= 0) zygote_gone();
    if (count != SANDBOX_PIPES || (msg.msg_flags & MSG_CTRUNC)) fatal("the zygote handed over %d descriptors", count);
    memset(&the_run, 0, sizeof the_run);
    run = &the_run;
    generation++;
    for (int i = 0; i < SANDBOX_PIPES; i++) {
        run->fd[i] = fds[i];
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
    run->exit_status = -1;
}

static void finish_if_over(void);

static void on_status_line(char *line) {
    char *value = strchr(line, ' ');
    if (value) *value++ = '\0';
    if (strcmp(line, "pid") == 0 && value) {
        run->init_pid = (pid_t)strtol(value, NULL, 10);
    } else if (strcmp(line, "ready") == 0) {
        run->ready = 1;
        // Off the run's clock; an OOM kill from here on (a lowered memory limit before the job, the job itself)
        // is this sandbox's run's.
        run->oom_before = oom_kills();
        send_frame(READY, 0, NULL, 0);
    } else if (strcmp(line, "zk") == 0 && value) {
        run->zk = strcmp(value, "ok") == 0 ? ZK_OK : ZK_FAILED;
        send_frame(ZK, run->seq, value, strlen(value));
    } else if (strcmp(line, "exit") == 0 && value && run->exit_status < 0) {
        // From init as soon as it reaped the program, or from the zygote once init is gone (killed).
        run->exit_status = (int)strtol(value, NULL, 10);
    } else if (strcmp(line, "error") == 0) {
        dprintf(2, "pyth-on supervisor: run sandbox: %s\n", value ? value : "");
    }
}

static void on_status(void) {
    char *buffer = run->status_line;
    ssize_t n = read(run->fd[PIPE_STATUS], buffer + run->status_length, STATUS_LINE_MAX - 1 - run->status_length);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        n = 0;
    }
    if (n == 0) {
        close_pipe(PIPE_STATUS);
        if (!run->ready) fatal("a run sandbox failed to start"); // its error line went to stderr just before
        if (run->exit_status < 0) run->exit_status = 128 + SIGKILL;
        finish_if_over();
        return;
    }
    run->status_length += (size_t)n;
    char *end;
    while ((end = memchr(buffer, '\n', run->status_length)) != NULL) {
        *end = '\0';
        size_t used = (size_t)(end - buffer) + 1;
        on_status_line(buffer);
        memmove(buffer, buffer + used, run->status_length - used);
        run->status_length -= used;
    }
    if (run->status_length == STATUS_LINE_MAX - 1) fatal("a status line too long from the run sandbox");
    finish_if_over();
}

static void write_job(void) {
    struct buffer *job = &run->job_pending;
    while (job->length > 0) {
        ssize_t n = write(run->fd[PIPE_JOB], job->data + job->head, job->length);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return; // polled for room
            break;                       // EPIPE: the sandbox is gone; its exit tells the rest
        }
        consume(job, (size_t)n);
    }
    release(job);
    close_pipe(PIPE_JOB); // end-of-file: the job is complete
}

static void start_job(uint32_t seq, const unsigned char *payload, size_t length) {
    if (run == NULL || !run->ready || run->has_job) fatal("job while no run sandbox was ready");
    if (length < 8) fatal("a job frame without its parameters");
    uint64_t max_output = (uint64_t)be32(payload) << 32 | be32(payload + 4);
    run->has_job = 1;
    run->seq = seq;
    run->max_output = max_output;
    put(&run->job_pending, payload + 8, length - 8);
    write_job(); // at once: the pipe is empty, and a job under its size needs no round of the loop
}

static void close_stdin(void) {
    close_pipe(PIPE_STDIN);
    release(&run->stdin_pending);
}

static void write_stdin(void) {
    if (run->fd[PIPE_STDIN] < 0) return;
    struct buffer *pending = &run->stdin_pending;
    while (pending->length > 0) {
        ssize_t n = write(run->fd[PIPE_STDIN], pending->data + pending->head, pending->length);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            // The program closed its stdin: what it did not read is dropped, and acknowledged so the agent does
            // not wait for room.
            n = (ssize_t)pending->length;
            run->stdin_eof = 1;
        }
        consume(pending, (size_t)n);
        run->stdin_written += (uint64_t)n;
        unsigned char ack[8];
        for (int i = 0; i < 8; i++) ack[i] = (unsigned char)(run->stdin_written >> (56 - 8 * i));
        send_frame(ACK, run->seq, ack, sizeof ack);
        if (run->stdin_eof) break;
    }
    if (run->stdin_eof && pending->length == 0) close_stdin(); // the end the agent sent, or the program's
}

static void on_signal_frame(const unsigned char *payload, size_t length) {
    int sig = length ? payload[0] : SIGKILL;
    if (sig == SIGKILL) {
        kill_run();
    } else if (run->fd[PIPE_CONTROL] >= 0) {
        unsigned char byte = (unsigned char)sig;
        (void)!write(run->fd[PIPE_CONTROL], &byte, 1);
    }
}

static void on_output(int which) {
    static unsigned char data[READ_CHUNK];
    int stream = which == PIPE_STDOUT ? 0 : 1;
    ssize_t n = read(run->fd[which], data, sizeof data);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        n = 0;
    }
    if (n == 0) {
        close_pipe(which);
        finish_if_over();
        return;
    }
    uint64_t room = run->max_output > run->sent[stream] ? run->max_output - run->sent[stream] : 0;
    size_t length = (size_t)n;
    if (length > room) {
        // Past the cap: forward what fits, stop the program (as at the timeout) and drain the rest here, inside the
        // slot's CPU quota, until its streams close.
        length = (size_t)room;
        run->truncated = 1;
        if (!run->capped) {
            run->capped = 1;
            kill_run();
        }
    }
    if (length) {
        run->sent[stream] += length;
        send_frame(stream == 0 ? STDOUT : STDERR, run->seq, data, length);
    }
}

// Sends the exit frame once the run has a job, both output streams are closed and its status is known; then asks
// for the next run sandbox.
static void finish_if_over(void) {
    if (run == NULL || !run->has_job || run->fd[PIPE_STDOUT] >= 0 || run->fd[PIPE_STDERR] >= 0 ||
        run->exit_status < 0)
        return;
    int status = run->exit_status;
    char result[256];
    int n = snprintf(result, sizeof result,
                     "{\"exit_code\":%d,\"truncated\":%s,\"output_capped\":%s,\"oom_killed\":%s,\"zk\":%s}", status,
                     run->truncated ? "true" : "false",
                     // Stopped by us only if the kill is what ended it: a program may finish on its own first.
                     run->capped && status == 128 + SIGKILL ? "true" : "false",
                     oom_kills() > run->oom_before ? "true" : "false",
                     run->zk == ZK_OK ? "\"ok\"" : run->zk == ZK_FAILED ? "\"failed\"" : "null");
    uint32_t seq = run->seq;
    for (int i = 0; i < SANDBOX_PIPES; i++) close_pipe(i);
    release(&run->job_pending);
    release(&run->stdin_pending);
    run = NULL;
    send_frame(EXIT, seq, result, (size_t)n);
    prepare();
}

// --- frames from the agent ---------------------------------------------------------------------------------------

static void on_agent(void) {
    unsigned char chunk[64 * 1024];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(agent, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            _exit(0); // reset: the slot is being removed
        }
        if (n == 0) _exit(0); // the agent closed the connection: the slot is being removed
        put(&inbox, chunk, (size_t)n);
        explicit_bzero(chunk, (size_t)n);
        total += (size_t)n;
        if ((size_t)n < sizeof chunk || total >= AGENT_READ) break;
    }
    while (inbox.length >= FRAME_HEADER) {
        const unsigned char *frame = inbox.data + inbox.head;
        unsigned char kind = frame[0];
        uint32_t seq = be32(frame + 1), length = be32(frame + 5);
        if (length > MAX_FRAME) fatal("frame too large");
        if (inbox.length < FRAME_HEADER + (size_t)length) break;
        const unsigned char *payload = frame + FRAME_HEADER;
        if (kind == JOB) {
            start_job(seq, payload, length);
        } else if (run != NULL && run->has_job && run->seq == seq) { // else a late frame of a run that has ended
            if (kind == STDIN) {
                if (!run->stdin_eof && run->fd[PIPE_STDIN] >= 0) {
                    put(&run->stdin_pending, payload, length);
                    write_stdin();
                }
            } else if (kind == STDIN_EOF) {
                run->stdin_eof = 1;
                write_stdin();
            } else if (kind == SIGNAL) {
                on_signal_frame(payload, length);
            }
        }
        consume(&inbox, FRAME_HEADER + (size_t)length); // zeroed: a job frame holds secrets
    }
}

// --- the loop ----------------------------------------------------------------------------------------------------

static void serve(void) {
    prepare();
    for (;;) {
        struct pollfd fds[1 + SANDBOX_PIPES];
        int which[1 + SANDBOX_PIPES];
        nfds_t count = 0;
        fds[count] = (struct pollfd){.fd = agent, .events = POLLIN | (outbox.length ? POLLOUT : 0)};
        which[count++] = -1;
        if (run != NULL) {
            struct {
                int pipe;
                short events;
                int wanted;
            } watches[] = {
                {PIPE_STATUS, POLLIN, 1},
                // Output waits while the agent's queue is full; reading resumes once it drained.
                {PIPE_STDOUT, POLLIN, run->has_job && outbox.length < OUT_HIGH_WATER},
                {PIPE_STDERR, POLLIN, run->has_job && outbox.length < OUT_HIGH_WATER},
                {PIPE_JOB, POLLOUT, run->job_pending.length > 0},
                {PIPE_STDIN, POLLOUT, run->stdin_pending.length > 0},
            };
            for (size_t i = 0; i < sizeof watches / sizeof watches[0]; i++) {
                if (!watches[i].wanted || run->fd[watches[i].pipe] < 0) continue;
                fds[count] = (struct pollfd){.fd = run->fd[watches[i].pipe], .events = watches[i].events};
                which[count++] = watches[i].pipe;
            }
        }
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR) continue;
            fatal("poll: %s", strerror(errno));
        }
        unsigned long polled = generation;
        for (nfds_t i = 0; i < count; i++) {
            if (!fds[i].revents) continue;
            if (which[i] < 0) {
                if (fds[i].revents & POLLOUT) flush();
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_agent();
                continue;
            }
            // The run ended (and the next sandbox came) while this round was handled: its descriptors are gone.
            if (run == NULL || generation != polled || run->fd[which[i]] != fds[i].fd) continue;
            switch (which[i]) {
            case PIPE_STATUS: on_status(); break;
            case PIPE_STDOUT:
            case PIPE_STDERR:
                if (outbox.length < OUT_HIGH_WATER) on_output(which[i]);
                break;
            case PIPE_JOB: write_job(); break;
            case PIPE_STDIN: write_stdin(); break;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 2) fatal("usage: pyth-on-supervisor LANGUAGE");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    start_zygote(argv[1]); // which checks the language against sandbox.LANGUAGES, the one list of them
    connect_agent();
    serve();
}
