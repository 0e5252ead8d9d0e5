# Pyth-On slot supervisor. Runs as `/usr/bin/python3 -I -u /opt/pyth-on/supervisor.py LANGUAGE` under docker-init
# in a long-lived hardened container (a "slot") and serves runs one at a time, each in a fresh run sandbox.
# Trusted code: the program never sees this process, its pid or its memory. Protocol and process tree:
# runtime/README.md; the reasons behind each step: docs/architecture.md ("The run sandbox").
# One file on purpose, though over 300 lines: it is one event loop (class Supervisor) whose frame handling, output
# flow control and end-of-run detection share one state; split, a single state machine would span several files.
# The run sandbox it forks is sandbox.py.
import errno
import gc
import json
import os
import selectors
import signal
import socket
import struct
import sys

import sandbox

# One frame: type (1 byte), run sequence number (4), payload length (4), payload. Both directions.
FRAME = struct.Struct(">BII")
MAX_FRAME = 32 << 20
# agent -> supervisor
JOB, STDIN, STDIN_EOF, SIGNAL = b"J"[0], b"I"[0], b"E"[0], b"S"[0]
# supervisor -> agent
READY, STDOUT, STDERR, ZK, ACK, EXIT, FATAL = b"R"[0], b"O"[0], b"e"[0], b"Z"[0], b"A"[0], b"X"[0], b"F"[0]

READ_CHUNK = 64 * 1024
# Program output is read only while less than this waits to go to the agent: a slow agent slows the program
# (its pipe fills), it never makes this process buffer without bound.
OUT_HIGH_WATER = 1 << 20
STDIN_WINDOW = 1 << 20


_agent_out = None  # the agent's connection, once there is one (fatal frames go there, else to stderr)


def fatal(message):
    try:
        payload = message.encode("utf-8", "replace")
        if _agent_out is None:
            os.write(2, b"pyth-on supervisor: " + payload + b"\n")
        else:
            os.write(_agent_out, FRAME.pack(FATAL, 0, len(payload)) + payload)
    finally:
        os._exit(70)


def connect_agent():
    """The agent's socket for this slot (bound read-only into the container, hidden from every run sandbox): all
    frames of the slot's life go over this one connection (runtime/README.md, "Frame protocol")."""
    global _agent_out
    path = os.environ.get("PYTH_ON_AGENT_SOCKET")
    if not path:
        fatal("PYTH_ON_AGENT_SOCKET is not set")
    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        agent.connect(path)
    except OSError as e:
        fatal("cannot connect to the agent at %s: %s" % (path, e))
    _agent_out = agent.fileno()
    return agent


class Run:
    """One run sandbox: the parent ends of its pipes, its init's pid, and what is known of its end."""

    def __init__(self, fds, init_pid):
        self.job_w, self.stdin_w, self.out_r, self.err_r, self.ctl_w, self.status_r = fds
        self.init_pid = init_pid
        self.seq = None
        self.max_output = 0
        self.sent = {STDOUT: 0, STDERR: 0}
        self.truncated = False
        self.capped = False
        self.killed = False
        self.zk = None
        self.exit_status = None
        self.ready = False
        self.status_buf = b""
        self.job_pending = b""
        self.stdin_pending = bytearray()
        self.stdin_written = 0
        self.stdin_eof = False
        self.oom_before = 0
        self.open_streams = {self.out_r: STDOUT, self.err_r: STDERR}

    def kill(self):
        if not self.killed and self.init_pid:
            self.killed = True
            try:
                os.kill(self.init_pid, signal.SIGKILL)  # its pid namespace dies with it
            except ProcessLookupError:
                pass

    def close_all(self):
        for fd in (self.job_w, self.stdin_w, self.out_r, self.err_r, self.ctl_w, self.status_r):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


def oom_kills():
    """The slot's OOM kill counter (cgroup v1 memory.oom_control, or v2 memory.events)."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path, "rb") as f:
                for line in f:
                    if line.startswith(b"oom_kill "):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


class Supervisor:
    def __init__(self, language, zygote_sock, agent_sock):
        self.language = language
        self.zygote = zygote_sock
        self.agent = agent_sock  # held: the socket object closes its descriptor when it is collected
        # Two descriptors of the one connection: the selector watches reading and writing as separate keys.
        self.agent_in = agent_sock.fileno()
        self.agent_out = os.dup(self.agent_in)
        self.sel = selectors.DefaultSelector()
        self.inbuf = bytearray()
        self.outq = bytearray()
        self.run = None
        os.set_blocking(self.agent_in, False)  # and so agent_out: one open file
        self.sel.register(self.agent_in, selectors.EVENT_READ, "agent")

    # --- frames to the agent ----------------------------------------------------------------------
    def send(self, kind, seq, payload=b""):
        self.outq += FRAME.pack(kind, seq or 0, len(payload))
        self.outq += payload
        self.flush()

    def flush(self):
        while self.outq:
            try:
                n = os.write(self.agent_out, self.outq)
            except BlockingIOError:
                break
            except (BrokenPipeError, ConnectionResetError):
                os._exit(0)  # the agent is gone: the slot is about to be removed
            del self.outq[:n]
        self._watch(self.agent_out, selectors.EVENT_WRITE, "agent-out", bool(self.outq))

    def _watch(self, fd, events, tag, on):
        try:
            key = self.sel.get_key(fd)
        except KeyError:
            key = None
        if on and key is None:
            self.sel.register(fd, events, tag)
        elif not on and key is not None:
            self.sel.unregister(fd)

    # --- the run sandbox ----------------------------------------------------------------------------
    def prepare(self):
        """Asks the zygote for the next run sandbox; it reports ready on its status pipe."""
        self.zygote.sendall(b"s")
        msg, fds, _, _ = socket.recv_fds(self.zygote, 64, 6)
        if not msg or len(fds) != 6:
            fatal("the zygote is gone")
        for fd in fds:
            os.set_blocking(fd, False)
        run = Run(fds, 0)
        self.run = run
        self.sel.register(run.status_r, selectors.EVENT_READ, "status")

    def on_status(self):
        run = self.run
        try:
            data = os.read(run.status_r, 4096)
        except BlockingIOError:
            return
        if not data:
            self.sel.unregister(run.status_r)
            os.close(run.status_r)
            run.status_r = -1
            if not run.ready:
                fatal("a run sandbox failed to start")  # its error line went to stderr just before
            if run.exit_status is None:
                run.exit_status = 128 + signal.SIGKILL
            self.maybe_finish()
            return
        run.status_buf += data
        while b"\n" in run.status_buf:
            line, run.status_buf = run.status_buf.split(b"\n", 1)
            word, _, value = line.partition(b" ")
            if word == b"pid":
                run.init_pid = int(value)
            elif word == b"ready":
                run.ready = True
                # Off the run's clock; an OOM kill from here on (a lowered memory limit before the job, the job
                # itself) is this sandbox's run's.
                run.oom_before = oom_kills()
                self.send(READY, 0)
            elif word == b"zk":
                run.zk = value.decode("ascii")
                self.send(ZK, run.seq, value)
            elif word == b"exit" and run.exit_status is None:
                # From init as soon as it reaped the program, or from the zygote once init is gone (killed).
                run.exit_status = int(value)
            elif word == b"error":
                sys.stderr.write("pyth-on supervisor: run sandbox: %s\n" % value.decode("utf-8", "replace"))
        self.maybe_finish()

    def start_job(self, seq, payload):
        run = self.run
        if run is None or not run.ready or run.seq is not None:
            fatal("job while no run sandbox was ready")
        header_len = struct.unpack(">I", payload[:4])[0]
        params = json.loads(bytes(payload[4:4 + header_len]))
        run.seq = seq
        run.max_output = int(params["max_output"])
        run.job_pending = bytes(payload[4 + header_len:])
        for fd in run.open_streams:
            self.sel.register(fd, selectors.EVENT_READ, "output")
        self.write_job()  # at once: the pipe is empty, and a job under its size needs no round of the loop

    def write_job(self):
        run = self.run
        try:
            n = os.write(run.job_w, run.job_pending)
            run.job_pending = run.job_pending[n:]
        except BlockingIOError:
            pass
        except BrokenPipeError:
            run.job_pending = b""
        if run.job_pending:
            self._watch(run.job_w, selectors.EVENT_WRITE, "job", True)
            return
        self._watch(run.job_w, 0, "job", False)
        os.close(run.job_w)  # EOF: the job is complete
        run.job_w = -1

    def on_stdin_frame(self, payload):
        run = self.run
        if run.stdin_eof or run.stdin_w < 0:
            return
        run.stdin_pending += payload
        self.write_stdin()

    def write_stdin(self):
        run = self.run
        if run.stdin_w < 0:
            return
        while run.stdin_pending:
            try:
                n = os.write(run.stdin_w, run.stdin_pending)
            except BlockingIOError:
                break
            except BrokenPipeError:
                # The program closed its stdin: what it did not read is dropped, and acknowledged so the agent
                # does not wait for room.
                n = len(run.stdin_pending)
                run.stdin_eof = True
            del run.stdin_pending[:n]
            run.stdin_written += n
            self.send(ACK, run.seq, struct.pack(">Q", run.stdin_written))
            if run.stdin_eof:
                break
        self._watch(run.stdin_w, selectors.EVENT_WRITE, "stdin", bool(run.stdin_pending))
        if run.stdin_eof and not run.stdin_pending:
            self._close_stdin()

    def _close_stdin(self):
        run = self.run
        if run.stdin_w >= 0:
            self._watch(run.stdin_w, 0, "stdin", False)
            os.close(run.stdin_w)
            run.stdin_w = -1

    def on_signal_frame(self, payload):
        run = self.run
        sig = payload[0] if payload else signal.SIGKILL
        if sig == signal.SIGKILL:
            run.kill()
        elif run.ctl_w >= 0:
            try:
                os.write(run.ctl_w, bytes([sig]))
            except OSError:
                pass

    def on_output(self, fd):
        run = self.run
        kind = run.open_streams[fd]
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        if not data:
            self.sel.unregister(fd)
            os.close(fd)
            del run.open_streams[fd]
            self.maybe_finish()
            return
        room = max(0, run.max_output - run.sent[kind])
        if len(data) > room:
            # Past the cap: forward what fits, stop the program (as at the timeout) and drain the rest here,
            # inside the slot's CPU quota, until its streams close.
            data = data[:room]
            run.truncated = True
            if not run.capped:
                run.capped = True
                run.kill()
        if data:
            run.sent[kind] += len(data)
            self.send(kind, run.seq, data)

    def maybe_finish(self):
        run = self.run
        if run is None or run.seq is None or run.open_streams or run.exit_status is None:
            return
        status = run.exit_status
        result = {
            "exit_code": status,
            "truncated": run.truncated,
            # Stopped by us only if the kill is what ended it: a program may finish on its own first.
            "output_capped": run.capped and status == 128 + signal.SIGKILL,
            "oom_killed": oom_kills() > run.oom_before,
            "zk": run.zk,
        }
        seq = run.seq
        run.close_all()
        for fd in list(self.sel.get_map()):
            if fd not in (self.agent_in, self.agent_out):
                self.sel.unregister(fd)
        self.run = None
        self.send(EXIT, seq, json.dumps(result).encode("ascii"))
        self.prepare()

    # --- frames from the agent --------------------------------------------------------------------
    def on_agent(self):
        try:
            data = os.read(self.agent_in, 1 << 20)
        except BlockingIOError:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            os._exit(0)  # the agent closed the connection: the slot is being removed
        self.inbuf += data
        while len(self.inbuf) >= FRAME.size:
            kind, seq, length = FRAME.unpack_from(self.inbuf)
            if length > MAX_FRAME:
                fatal("frame too large")
            if len(self.inbuf) < FRAME.size + length:
                break
            payload = self.inbuf[FRAME.size:FRAME.size + length]
            del self.inbuf[:FRAME.size + length]
            if kind == JOB:
                self.start_job(seq, payload)
                payload[:] = bytes(len(payload))
                continue
            run = self.run
            if run is None or run.seq != seq:
                continue  # a late frame of a run that has ended
            if kind == STDIN:
                self.on_stdin_frame(payload)
            elif kind == STDIN_EOF:
                run.stdin_eof = True
                self.write_stdin()
            elif kind == SIGNAL:
                self.on_signal_frame(payload)

    def serve(self):
        self.prepare()
        while True:
            for key, _ in self.sel.select():
                tag = key.data
                if tag == "agent":
                    self.on_agent()
                elif tag == "agent-out":
                    self.flush()
                elif self.run is None:
                    continue
                elif tag == "status":
                    self.on_status()
                elif tag == "output":
                    if key.fd in self.run.open_streams and len(self.outq) < OUT_HIGH_WATER:
                        self.on_output(key.fd)
                elif tag == "job":
                    self.write_job()
                elif tag == "stdin":
                    self.write_stdin()
            # Output waits while the agent's queue is full; resume reading once it drained.
            if self.run is not None and self.run.seq is not None:
                want = len(self.outq) < OUT_HIGH_WATER
                for fd in list(self.run.open_streams):
                    self._watch(fd, selectors.EVENT_READ, "output", want)


def main():
    language = sys.argv[1]
    if language not in sandbox.LANGUAGES:
        fatal("unknown language %r" % language)
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # What both processes loaded stays shared between them (and every run sandbox forked later): out of the
    # collector's reach, no collection on either side writes to those objects and so copies their pages.
    gc.collect()
    gc.freeze()
    # The zygote is forked before this process reads any job, and never reads one itself: every run sandbox is
    # forked from it, so no run can inherit another run's job from memory.
    pid = os.fork()
    if pid == 0:
        parent_sock.close()
        os.closerange(3, child_sock.fileno())
        sandbox.zygote(language, child_sock)
        os._exit(0)
    child_sock.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # Connected only now, after the zygote's fork: no run sandbox can inherit the connection.
    agent = connect_agent()
    try:
        Supervisor(language, parent_sock, agent).serve()
    except Exception as e:  # noqa: BLE001 - the agent must hear why the slot ends
        fatal("supervisor failed: %s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
