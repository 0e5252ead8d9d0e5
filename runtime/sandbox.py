# The run sandbox of a Pyth-On slot: the zygote that clones one per run straight into its new namespaces (and
# reports its init's exit status from outside the run's pid namespace) and the sandbox's init (fresh filesystems,
# masks, capability drop, seccomp, then the program). Imported by supervisor.py; see runtime/README.md and
# docs/architecture.md for the process tree and why each step is there.
# One file on purpose: the steps that build one run sandbox, in the order they execute (zygote, init up to the
# program's fork), each a few system calls; a security boundary is reviewed top to bottom in one place. Init's part
# after that fork is init.c (the same boundary, in C: see there why).
import ctypes
import json
import os
import signal
import socket
import struct
import fcntl

LANGUAGES = ("python", "javascript")
NODE = "/usr/local/bin/node"
NODE_RUNNER = "/opt/pyth-on/runner.js"
PYTHON = "/usr/bin/python3"
ZK_DECRYPT = "/opt/pyth-on/zk_decrypt.py"
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/work"}

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 16384, 1 << 18, 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME = 1, 4, 15
LAST_CAP = 63

SYS_CLONE = 56  # x86_64; the slot's seccomp profile lets clone create namespaces only with a new user namespace
_libc = ctypes.CDLL(None, use_errno=True)
# init.c, built into the image next to this file; loaded here, in the zygote, so every run's processes have it mapped.
_native = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libpyth-on-init.so"), use_errno=True)
_native.pyth_on_drop_privileges.argtypes = [ctypes.c_void_p]
_native.pyth_on_drop_bounding_set.argtypes = [ctypes.c_int]
_native.pyth_on_serve_run.argtypes = [ctypes.c_int] * 7 + [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
_native.pyth_on_serve_run.restype = None
_PYTHON_PATH, _ZK_DECRYPT_PATH = PYTHON.encode(), ZK_DECRYPT.encode()
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SetupError(Exception):
    pass


def _check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise SetupError("%s: %s" % (what, os.strerror(e)))


def _b(s):
    return None if s is None else s.encode()


def mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), "mount %s" % target)


def prctl(option, arg=0):
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl %d" % option)


def _locked_flags(path):
    """Flags a remount in a user namespace must keep (the kernel refuses to clear them on an inherited mount)."""
    f = os.statvfs(path).f_flag
    flags = 0
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                   (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME)):
        if f & st:
            flags |= ms
    return flags


def bind_readonly(source, target, recursive=False):
    mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(target))


def tmpfs(target, size_mb, inodes, mode, uid=None, noexec=True):
    opts = "size=%dm,nr_inodes=%d,mode=%s" % (size_mb, inodes, mode)
    if uid is not None:
        opts += ",uid=%d,gid=%d" % (uid, uid)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | (MS_NOEXEC if noexec else 0), opts)


# Docker's default masks, put back on the run's own /proc (the slot's /proc is left unmasked so that a fresh
# procfs can be mounted in a user namespace at all).
_PROC_MASKED_FILES = ("kcore", "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug")
_PROC_MASKED_DIRS = ("acpi", "asound", "scsi")
_PROC_READONLY = ("bus", "fs", "irq", "sys", "sysrq-trigger")
# Host files Docker binds into every container (the same inode in every slot): hidden from runs, so two runs
# cannot meet through them (flock, inotify). And the agent's socket for this slot's supervisor: a program that
# connects to its path reaches an empty file of its own run.
_HIDDEN_HOST_FILES = ("/etc/resolv.conf", "/sbin/docker-init") + tuple(
    path for path in (os.environ.get("PYTH_ON_AGENT_SOCKET"),) if path)


def _write(path, text):
    # os.open/os.write, not open(): a forked init's first text-file object touches (and so copies) the io
    # machinery's pages, ~0.4 ms of every run sandbox's CPU.
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _lo_up():
    """Brings up the run's own loopback (its network namespace has nothing else): programs may talk to themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0x1 | 0x8 | 0x40)  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(s.fileno(), 0x8914, ifreq)  # SIOCSIFFLAGS


def build_filesystems(limits, uid):
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    packages = os.open("/packages", os.O_PATH | os.O_DIRECTORY) if os.path.isdir("/packages") else -1
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # No nested user namespaces (the inner seccomp filter refuses them too).
    _write("/proc/sys/user/max_user_namespaces", "0")
    for name in _PROC_MASKED_FILES:
        if os.path.exists("/proc/" + name):
            mount("/dev/null", "/proc/" + name, None, MS_BIND)
    for name in _PROC_MASKED_DIRS:
        if os.path.isdir("/proc/" + name):
            mount("tmpfs", "/proc/" + name, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2")
    for name in _PROC_READONLY:
        if os.path.exists("/proc/" + name):
            bind_readonly("/proc/" + name, "/proc/" + name, recursive=True)
    bind_readonly("/dev", "/dev", recursive=True)
    tmpfs("/dev/shm", limits["shm_mb"], limits["inodes"], "1777")
    if os.path.isdir("/dev/mqueue"):
        mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    tmpfs("/tmp", limits["tmp_mb"], limits["inodes"], "1777")
    tmpfs("/work", limits["work_mb"], limits["inodes"], "0700", uid=uid)
    # An empty regular file of this run's own (a device node would stay writable on a read-only mount), on a
    # scratch tmpfs that is unmounted again: only the binds keep it.
    tmpfs("/run", 1, 4, "0755")
    os.close(os.open("/run/empty", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    for path in _HIDDEN_HOST_FILES:
        if os.path.exists(path):
            bind_readonly("/run/empty", path)
    _check(_libc.umount2(b"/run", 2), "umount /run")  # MNT_DETACH
    # Only the job's stores will be bound in here (init.c, bind_stores): the program sees no other.
    tmpfs("/packages", 1, 64, "0755")
    _lo_up()
    return packages


# Read once, at import in the supervisor (so in the zygote): a loop over caps the kernel does not have cost a
# forked process ~0.5 ms.
_LAST_CAP = min(LAST_CAP, int(open("/proc/sys/kernel/cap_last_cap").read()))


def drop_bounding_set():
    """Empties the capability bounding and ambient sets. Init does it before it forks the program's process, which
    inherits both (one loop per run instead of two); init keeps its effective capabilities, which the job's store
    mounts still need, until it drops its privileges (init.c)."""
    _check(_native.pyth_on_drop_bounding_set(_LAST_CAP), "drop the capability bounding set")


def drop_privileges(seccomp_filter):
    """No capabilities left in any set, no_new_privs, then the inner filter (init.c, which init's own drop uses too).
    The caller's bounding and ambient sets are empty already (drop_bounding_set)."""
    _check(_native.pyth_on_drop_privileges(seccomp_filter.program), "drop privileges")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CompiledFilter:
    """A seccomp filter compiled to BPF once (in the zygote) and loaded as it is (drop_privileges): libseccomp's own
    load() generates the same program again on every call, ~0.4 ms of CPU in each of a run's two processes."""

    def __init__(self, syscall_filter):
        fd = os.memfd_create("pyth-on-seccomp", os.MFD_CLOEXEC)
        try:
            with os.fdopen(os.dup(fd), "wb") as f:
                syscall_filter.export_bpf(f)
            size = os.lseek(fd, 0, os.SEEK_END)
            program = os.pread(fd, size, 0)
        finally:
            os.close(fd)
        if not program or len(program) % 8:
            raise SetupError("seccomp: libseccomp exported no BPF program")
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
    """Forks one run sandbox per request of the supervisor and hands it the parent ends of the sandbox's pipes.
    Never reads a job. For Python it holds the loaded interpreter every program starts from."""
    _name("pyth-on-zygote")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # it reaps each run's init itself (waitpid → the exit status)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # The run's seccomp filter is compiled once here; each run sandbox inherits it through fork and loads it.
    seccomp_filter = CompiledFilter(inner_filter())
    if language == "python":
        import program
        program.warm_up()
    limits = json.loads(os.environ.get("PYTH_ON_LIMITS", "{}"))
    limits = {"tmp_mb": 64, "work_mb": 64, "shm_mb": 16, "inodes": 8192, **limits}
    uid, gid = os.getuid(), os.getgid()
    while True:
        if not sock.recv(1):
            os._exit(0)
        job_r, job_w = os.pipe()
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        status_r, status_w = os.pipe()
        pid = _clone_init()
        if pid == 0:
            try:
                for fd in (job_w, stdin_w, out_r, err_r, ctl_w, status_r):
                    os.close(fd)
                sock.close()
                _enter(uid, gid)
                _init(language, limits, uid, seccomp_filter, (job_r, stdin_r, out_w, err_w, ctl_r, status_w))
            except BaseException as e:  # noqa: BLE001
                try:
                    _report(status_w, "error %s: %s" % (type(e).__name__, e))
                finally:
                    os._exit(70)
            os._exit(70)
        socket.send_fds(sock, [b"%d" % max(pid, 0)], [job_w, stdin_w, out_r, err_r, ctl_w, status_r])
        for fd in (job_r, job_w, stdin_r, stdin_w, out_r, out_w, err_r, err_w, ctl_r, ctl_w, status_r):
            os.close(fd)
        _await_init(pid, status_w)


def _clone_init():
    """Forks the run's init straight into its new namespaces: pid 1 of a new pid namespace, in a new user namespace
    and the rest. clone(2) with the namespace flags instead of unshare + fork saves a whole fork of the loaded
    interpreter per run. Returns the child's pid (0 in the child), or -errno when the kernel refuses.
    The child is this single-threaded process's copy like a fork's, except that glibc's fork handlers do not run:
    nothing in init needs them (no threads, no locks held across the call, no cached pid in glibc or CPython)."""
    pid = _libc.syscall(SYS_CLONE, ctypes.c_ulong(NAMESPACES | signal.SIGCHLD), None, None, None, None)
    return pid if pid >= 0 else -ctypes.get_errno()


def _enter(uid, gid):
    """In the new init: map the slot's uid and gid into its user namespace (nothing else is mapped)."""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", "%d %d 1" % (uid, uid))
    _write("/proc/self/gid_map", "%d %d 1" % (gid, gid))


def _await_init(pid, status_w):
    """In the zygote: reports the run's init pid, then its exit status from waitpid, outside the run's pid namespace."""
    try:
        if pid < 0:
            _report(status_w, "error clone: %s" % os.strerror(-pid))
            return
        _report(status_w, "pid %d" % pid)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        _report(status_w, "exit %d" % (128 - code if code < 0 else code))
    except OSError:
        pass  # the supervisor is gone: the slot is being removed
    finally:
        os.close(status_w)


def _name(comm):
    """Names the process for ps, top and perf (its command line stays python3's); at most 15 bytes."""
    name = ctypes.create_string_buffer(comm.encode())
    prctl(PR_SET_NAME, ctypes.addressof(name))


def _report(status_w, line):
    os.write(status_w, line.encode("utf-8", "replace")[:512] + b"\n")


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return bytearray(b"".join(chunks))


def read_program_job(fd):
    """The program's job as init passes it on (init.c): "-" or the length of the decrypted code on the first line,
    that code, then the job JSON."""
    data = _read_all(fd)
    line_end = data.index(b"\n")
    head = bytes(data[:line_end])
    if head == b"-":
        return json.loads(data[line_end + 1:])
    code_end = line_end + 1 + int(head)
    job = json.loads(data[code_end:])
    job["code"] = data[line_end + 1:code_end].decode("utf-8")
    return job


def _child_stdio(stdin_r, out_w, err_w, keep=()):
    os.dup2(stdin_r, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    for i, fd in enumerate(keep):
        os.dup2(fd, 3 + i)
    os.closerange(3 + len(keep), 1 << 16)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _init(language, limits, uid, seccomp_filter, fds):
    """Pid 1 of the run's pid namespace. When it exits, the kernel kills every process of the run."""
    job_r, stdin_r, out_w, err_w, ctl_r, status_w = fds
    _name("pyth-on-init")
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_DUMPABLE, 0)  # the program (same uid) cannot open this process's memory or fds
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    packages_fd = build_filesystems(limits, uid)
    drop_bounding_set()
    os.chdir("/work")

    # The program's process starts before its job exists, without privileges: it reports ready on fd 4 and reads
    # the job from fd 3. Python: forked from this loaded interpreter; JavaScript: node boots (~30 ms) meanwhile.
    # Everything up to here is off the run's clock: a job only has to reach the waiting process.
    program_job_r, program_job_w = os.pipe()
    ready_r, ready_w = os.pipe()
    program_pid = os.fork()
    if program_pid == 0:
        _start_program(language, seccomp_filter, stdin_r, out_w, err_w, program_job_r, ready_w)
    for fd in (program_job_r, ready_w, stdin_r, out_w, err_w):
        os.close(fd)
    # The rest of init's life is init.c: the job, its stores, zero-knowledge decryption, the privilege drop, signal
    # forwarding and the program's exit status. It never returns.
    _native.pyth_on_serve_run(program_pid, ready_r, job_r, program_job_w, ctl_r, status_w, packages_fd,
                            seccomp_filter.program, _PYTHON_PATH, _ZK_DECRYPT_PATH)
    raise SetupError("init returned")


def _start_program(language, seccomp_filter, stdin_r, out_w, err_w, job_r, ready_w):
    """The program's process, before its job: stdio on the run's pipes, no privileges, then it waits for the job."""
    try:
        _child_stdio(stdin_r, out_w, err_w, keep=(job_r, ready_w))
        drop_privileges(seccomp_filter)
        if language == "javascript":
            os.execve(NODE, [NODE, NODE_RUNNER], BASE_ENV)
        _name("pyth-on-ready")  # waiting for its job: ps and tests tell it from a running program
        os.write(4, b"r")
        os.close(4)
        job = read_program_job(3)
        _name("python3")  # the user's program, as a bare interpreter would be named
        import program
        program.run(job)
    finally:
        os._exit(1)
