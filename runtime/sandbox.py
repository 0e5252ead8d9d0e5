# The run sandbox of a Pyth-On slot: the zygote that starts one per run (and reports its init's exit status from
# outside the run's pid namespace), the run's seccomp filter, and the program's process up to its job. The run's init
# is C: spawn.c, which the zygote loads, clones it into the run's namespaces and forks the program's process; init.c
# (pyth-on-init), which init then execs, serves the run. Imported by zygote.py; see runtime/README.md and
# docs/architecture.md for the process tree and why each step is there.
import ctypes
import fcntl
import json
import os
import signal

LANGUAGES = ("python", "javascript")
NODE = "/usr/local/bin/node"
NODE_RUNNER = "/opt/pyth-on/runner.js"
PYTHON = "/usr/bin/python3"
ZK_DECRYPT = "/opt/pyth-on/zk_decrypt.py"
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/work"}

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
LAST_CAP = 63

_libc = ctypes.CDLL(None, use_errno=True)


class _RunSandbox(ctypes.Structure):
    """spawn.c's struct pyth_on_run_sandbox: what the zygote passes each run's init."""
    _fields_ = [(name, ctypes.c_int) for name in ("uid", "gid", "tmp_mb", "work_mb", "shm_mb", "inodes", "last_cap")] + [
        ("agent_socket", ctypes.c_char_p), ("filter", ctypes.c_void_p), ("filter_fd", ctypes.c_int),
        ("init", ctypes.c_char_p), ("python", ctypes.c_char_p), ("zk_decrypt", ctypes.c_char_p),
        ("environment", ctypes.POINTER(ctypes.c_char_p)), ("program_argv", ctypes.POINTER(ctypes.c_char_p))] + [
        (name, ctypes.c_int) for name in ("job_fd", "stdin_fd", "out_fd", "err_fd", "control_fd", "status_fd")] + [
        ("zygote_fds", ctypes.c_int * 7)]


def _strings(items):
    """A NULL-terminated char *[] for spawn.c (argv, envp)."""
    return (ctypes.c_char_p * (len(items) + 1))(*[i.encode() for i in items], None)


_HERE = os.path.dirname(os.path.abspath(__file__))
# The run's init from its exec on (init.c), built into the image next to this file.
INIT = os.path.join(_HERE, "pyth-on-init")
# A JavaScript slot's zygote once set up (zygote.c), built into the image next to this file.
C_ZYGOTE = os.path.join(_HERE, "pyth-on-zygote")
# spawn.c, built into the image next to this file; loaded here, in the zygote, so every run's processes have it mapped.
_native = ctypes.CDLL(os.path.join(_HERE, "libpyth-on-spawn.so"), use_errno=True)


class SetupError(Exception):
    pass


# Read once, at import in the zygote: a loop over caps the kernel does not have cost a
# forked process ~0.5 ms.
_LAST_CAP = min(LAST_CAP, int(open("/proc/sys/kernel/cap_last_cap").read()))
# The agent's socket for this slot's supervisor: each run covers its path with an empty file of its own (spawn.c).
_AGENT_SOCKET = os.environ.get("PYTH_ON_AGENT_SOCKET", "").encode() or None


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CompiledFilter:
    """A seccomp filter compiled to BPF once (in the zygote) and loaded as it is: libseccomp's own load() generates the
    same program again on every call, ~0.4 ms of CPU in each of a run's two processes. The program's process loads it
    from memory (`program`, a struct sock_fprog *); the exec'd init reads it from `fd`, a sealed memfd."""

    def __init__(self, syscall_filter):
        self.fd = os.memfd_create("pyth-on-seccomp", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        with os.fdopen(os.dup(self.fd), "wb") as f:
            syscall_filter.export_bpf(f)
        size = os.lseek(self.fd, 0, os.SEEK_END)
        program = os.pread(self.fd, size, 0)
        if not program or len(program) % 8:
            raise SetupError("seccomp: libseccomp exported no BPF program")
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS,
                    fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
        self._code = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.addressof(self._code))
        self.program = ctypes.addressof(self._fprog)  # a struct sock_fprog *, loaded with the same flags as libseccomp's: none


def inner_filter():
    """The run's own seccomp filter, on top of the slot's: no namespace, mount or keyring calls, other ABIs
    killed. Every argument compare is masked to 32 bits: the kernel reads `int` arguments as 32 bits."""
    import seccomp
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    eperm = seccomp.ERRNO(1)
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
                 "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "add_key", "request_key", "keyctl",
                 "bpf", "perf_event_open", "userfaultfd", "ptrace", "process_vm_readv", "process_vm_writev",
                 "kcmp", "pidfd_getfd", "io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(eperm, name)
    # clone with any namespace flag (each flag its own masked compare: a match on any one refuses the call).
    for flag in (CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET,
                 CLONE_NEWTIME):
        f.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(38), "clone3")  # ENOSYS: libc falls back to clone, whose flags are checked
    return f


# --- processes ------------------------------------------------------------------------------------------

def zygote(language, sock):
    """Starts one run sandbox per request of the supervisor and hands it the parent ends of the sandbox's pipes
    (spawn.c's pyth_on_serve, once everything here is loaded). Never reads a job. For Python it holds the loaded
    interpreter every program starts from."""
    _name("pyth-on-zygote")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # it reaps each run's init itself (waitpid → the exit status)
    # Python's table of dispositions is what each program's process inherits: a program's own interpreter has
    # SIGPIPE and SIGXFSZ at SIG_DFL (Python ignores them only at the kernel level, below). spawn.c puts the kernel's
    # dispositions back to match before the program's process runs any Python.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    # The zygote and init write to pipes the supervisor may have closed: EPIPE, not death.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        _libc.signal(sig, ctypes.c_void_p(1))  # SIG_IGN
    # The run's seccomp filter is compiled once here: each program's process loads it from its copy of this memory,
    # each run's init from the filter's memfd.
    seccomp_filter = CompiledFilter(inner_filter())
    if language == "python":
        import program
        program.warm_up()
    limits = json.loads(os.environ.get("PYTH_ON_LIMITS", "{}"))
    run = run_sandbox(language, {**DEFAULT_LIMITS, **limits}, seccomp_filter)
    if _PROGRAM_ARGV[language] is not None:
        _exec_c_zygote(language, run, sock)  # which puts its stdio on /dev/null once it has checked its arguments
    # Until here an error reached the slot's diagnostics (stderr); no run sandbox may inherit that stream.
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # spawn.c's loop: it serves the supervisor's requests until the supervisor is gone, and returns only in a Python
    # program's process.
    _native.pyth_on_serve(run, sock.fileno())
    _become_program(sock)


DEFAULT_LIMITS = {"tmp_mb": 64, "work_mb": 64, "shm_mb": 16, "inodes": 8192}


# The environment of every process a run's init starts (the decryptor, JavaScript's node); init's own.
_ENVIRONMENT = ["%s=%s" % kv for kv in BASE_ENV.items()]
# What a JavaScript program's process execs; a Python program's process returns to the interpreter instead.
_PROGRAM_ARGV = {"javascript": [NODE, NODE_RUNNER], "python": None}


def run_sandbox(language, limits, seccomp_filter):
    """What the zygote passes every run's init (spawn.c's struct pyth_on_run_sandbox), built once."""
    program_argv = _PROGRAM_ARGV[language]
    run = _RunSandbox(uid=os.getuid(), gid=os.getgid(), tmp_mb=limits["tmp_mb"], work_mb=limits["work_mb"],
                      shm_mb=limits["shm_mb"], inodes=limits["inodes"], last_cap=_LAST_CAP,
                      agent_socket=_AGENT_SOCKET, filter=seccomp_filter.program, filter_fd=seccomp_filter.fd,
                      init=INIT.encode(), python=PYTHON.encode(), zk_decrypt=ZK_DECRYPT.encode(),
                      environment=_strings(_ENVIRONMENT), program_argv=program_argv and _strings(program_argv))
    run.keep_alive = seccomp_filter  # the struct holds only the address of its compiled program
    return run


def _exec_c_zygote(language, run, sock):
    """A JavaScript slot's zygote goes on as pyth-on-zygote (zygote.c) with the same settings: no run of it needs the
    interpreter, and a slot without one keeps 11 MiB less and forks node's process from a small process. The
    command line's layout is zygote.c's (its header)."""
    for fd in (sock.fileno(), run.filter_fd):
        os.set_inheritable(fd, True)
    numbers = [sock.fileno(), run.filter_fd, run.uid, run.gid, run.tmp_mb, run.work_mb, run.shm_mb, run.inodes,
               run.last_cap]
    argv = ([C_ZYGOTE] + [str(n) for n in numbers] + [INIT, PYTHON, ZK_DECRYPT, (_AGENT_SOCKET or b"").decode()]
            + [str(len(_ENVIRONMENT))] + _ENVIRONMENT + _PROGRAM_ARGV[language])
    try:
        os.execv(C_ZYGOTE, argv)
    except OSError as e:
        raise SetupError("exec %s: %s" % (C_ZYGOTE, e.strerror)) from None


class _SandboxEnds(ctypes.Structure):
    """spawn.c's struct pyth_on_sandbox_ends: the parent ends of a run sandbox's six pipes and its status pipe's
    write end."""
    _fields_ = [("parent", ctypes.c_int * 6), ("status_w", ctypes.c_int)]


_native.pyth_on_spawn.argtypes = [ctypes.POINTER(_RunSandbox), ctypes.c_int, ctypes.POINTER(_SandboxEnds)]
_native.pyth_on_serve.argtypes = [ctypes.POINTER(_RunSandbox), ctypes.c_int]


def spawn(run, sock=None):
    """One run sandbox: its six pipes and its init, cloned into new namespaces (spawn.c), which forks the program's
    process and execs itself (init.c). Returns init's pid (-errno if the kernel refused), the pipes' parent ends (job,
    stdin, stdout, stderr, control, status) and the status pipe's write end. The zygote's own loop is spawn.c's
    (pyth_on_serve); this is how scripts/lib/sandbox-steps.py and the job frame tests drive one sandbox. In the Python
    program's process it never returns: that process waits for its job and becomes the program."""
    ends = _SandboxEnds()
    pid = _native.pyth_on_spawn(run, sock.fileno() if sock is not None else -1, ctypes.byref(ends))
    if pid == 0:
        _become_program(sock)
    if ends.status_w < 0:
        raise OSError(-pid, "run sandbox pipes: %s" % os.strerror(-pid))
    return pid, tuple(ends.parent), ends.status_w


def _become_program(sock):
    """The Python program's process (pid 2 of the run), just back from spawn.c: without privileges, its job on fd 3
    and its ready byte on fd 4, every other descriptor closed (start_program), the zygote's socket too."""
    try:
        if sock is not None:
            sock.detach()
        _await_job()
    finally:
        os._exit(70)


def drive(run, frame):
    """One run sandbox driven the way the zygote and the supervisor drive it, for scripts/lib/sandbox-steps.py and
    tests/PythOn.Sandbox.Tests/JobFrameTests.cs: spawns it, hands it `frame` (runtime/README.md, "Job frame") once it
    is ready, and returns the program's stdout, the status lines and init's exit code."""
    pid, (job_w, stdin_w, out_r, err_r, ctl_w, status_r), status_w = spawn(run)
    if pid < 0:
        raise SetupError("clone: %s" % os.strerror(-pid))
    os.close(status_w)
    status = b""
    while b"ready\n" not in status:
        chunk = os.read(status_r, 4096)
        if not chunk:
            break
        status += chunk
    try:
        os.write(job_w, frame)
    except BrokenPipeError:
        pass  # init refused the frame before reading all of it
    for fd in (job_w, stdin_w):
        os.close(fd)
    stdout = _read_all(out_r)
    status += _read_all(status_r)
    _, wait_status = os.waitpid(pid, 0)
    for fd in (err_r, ctl_w):
        os.close(fd)
    return bytes(stdout), status.decode("utf-8", "replace").splitlines(), os.waitstatus_to_exitcode(wait_status)


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return bytearray(b"".join(chunks))


def parse_program_job(data):
    """The program's job as init passes it on (init.c): "-" or the length of the decrypted code on the first line,
    that code, then the job JSON."""
    line_end = data.index(b"\n")
    head = bytes(data[:line_end])
    if head == b"-":
        return json.loads(data[line_end + 1:])
    code_end = line_end + 1 + int(head)
    job = json.loads(data[code_end:])
    job["code"] = data[line_end + 1:code_end].decode("utf-8")
    return job


# What the program's process rehearses before its job (program.rehearse): a job as init passes it on, with code and
# an environment variable, so that each step of the real job has run once.
_REHEARSAL_JOB = b'-\n{"code": "pass", "args": [], "env": {"PYTH_ON_REHEARSAL": "1"}, "package_stores": []}'


def _await_job():
    """The Python program's process, set up by spawn.c (start_program): reports ready, reads its job and becomes the
    program."""
    import program
    _name("pyth-on-ready")  # waiting for its job: ps and tests tell it from a running program
    program.rehearse(parse_program_job(bytearray(_REHEARSAL_JOB)))
    os.write(4, b"r")
    os.close(4)
    job = parse_program_job(_read_all(3))
    _name("python3")  # the user's program, as a bare interpreter would be named
    program.run(job)


def _name(comm):
    """Names this process for ps, top and perf (its command line stays python3's); at most 15 bytes. Through
    /proc/self/comm rather than prctl over ctypes: in a program's process the file I/O is the program's own path (it
    writes /work/main.py), where a fork's first ctypes call would copy pages it shares with the zygote."""
    with open("/proc/self/comm", "w") as f:
        f.write(comm)
