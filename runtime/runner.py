# Pyth-On Python runner. Runs as /usr/bin/python3 -u /opt/pyth-on/runner.py under docker-init in a
# single-use sandbox. It starts ahead of time (warm pool), blocks until ONE job arrives on stdin, forks
# the user program from this already-loaded interpreter, and exits with the program's status.
# The job protocol is described in README.md next to this file.
import builtins
import ctypes
import gc
import json
import os
import re
import sys
import types

_RUNNER = os.path.abspath(__file__)
_WORK = "/work"
_PACKAGES = "/packages"
_STORE_ID = re.compile(r"\A(?:py)-[0-9a-f]{40}\Z")
_BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": _WORK,
             "PYTHONUNBUFFERED": "1"}
_PR_SET_DUMPABLE = 4
_ZK_FAILED_EXIT = 3
_libc = ctypes.CDLL(None, use_errno=True)


def _read_into(buf):
    """Fills a bytearray from fd 0 with exact reads, so no byte of the user's stdin is consumed."""
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = os.readv(0, [view[got:]])
        if n == 0:
            raise EOFError("stdin closed before the job was complete")
        got += n
    return buf


def _read_header():
    line = b""
    while not line.endswith(b"\n"):
        c = os.read(0, 1)
        if not c:
            raise EOFError("stdin closed before a job header")
        line += c
        if len(line) > 64:
            raise ValueError("job header too long")
    fields = [int(x) for x in line.split()]
    if len(fields) == 2:
        fields.append(0)
    job_len, zk_len, end_len = fields
    if min(fields) < 0 or end_len > 64:
        raise ValueError("invalid job header")
    return job_len, zk_len, end_len


def _decrypt_zk(zk):
    """Decrypts in a separate fresh process, so the password and key never enter the program's memory."""
    import subprocess
    proc = subprocess.run(["/usr/bin/python3", "-I", os.path.join(os.path.dirname(_RUNNER), "zk_decrypt.py")],
                          input=memoryview(zk), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    zk[:] = bytes(len(zk))
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8")


def _strip_runner_frames(tb):
    while tb is not None and tb.tb_frame.f_code.co_filename == _RUNNER:
        tb = tb.tb_next
    return tb


def _excepthook(exc_type, exc, tb):
    # Tracebacks look like `python3 main.py`: the runner's own frames are not the user's business.
    tb = _strip_runner_frames(tb)
    if exc is not None:
        exc.__traceback__ = tb
    sys.__excepthook__(exc_type, exc, tb)


def _receive_job():
    job_len, zk_len, end_len = _read_header()
    job_buf = _read_into(bytearray(job_len))
    job = json.loads(job_buf)
    job_buf[:] = bytes(job_len)
    code = job.get("code", "")
    if zk_len:
        code = _decrypt_zk(_read_into(bytearray(zk_len)))
        # First line on stdout tells the agent how decryption went; the program has not started yet,
        # so nothing it prints can come before this line.
        os.write(1, b"\0pyth-on-zk ok\n" if code is not None else b"\0pyth-on-zk failed\n")
        if code is None:
            os._exit(_ZK_FAILED_EXIT)
    stores = [str(s) for s in job.get("package_stores", [])]
    if not all(_STORE_ID.match(s) for s in stores):
        raise ValueError("invalid package store id")
    return (code, [str(a) for a in job.get("args", [])], {str(k): str(v) for k, v in job.get("env", {}).items()}, stores,
            end_len)


def _use_package_stores(stores, env):
    """Puts the stores' site-packages right after /work on sys.path (ahead of the system's packages), processes
    their .pth files like site-packages, and exports them on PYTHONPATH for child interpreters; their bin/ on PATH."""
    if not stores:
        return
    import site
    dirs = [os.path.join(_PACKAGES, s, "site-packages") for s in stores]
    before = list(sys.path)
    for d in dirs:
        site.addsitedir(d)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = [before[0]] + added + before[1:]
    env["PYTHONPATH"] = os.pathsep.join(dirs + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PATH"] = os.pathsep.join([os.path.join(d, "bin") for d in dirs] + [env.get("PATH", _BASE_ENV["PATH"])])


def _wait_for(pid):
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _become_program(code, args, env, stores):
    """In the forked child: set up `python3 /work/main.py ARGS` semantics and run the code as __main__."""
    _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    os.environ.clear()
    os.environ.update(_BASE_ENV)
    os.environ.update(env)
    path = os.path.join(_WORK, "main.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(code)
    os.chdir(_WORK)
    sys.argv = [path] + args
    sys.path[0] = _WORK
    _use_package_stores(stores, os.environ)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    main.__cached__ = None
    sys.modules["__main__"] = main
    sys.excepthook = _excepthook
    compiled = compile(code, path, "exec")
    del code, env
    try:
        exec(compiled, main.__dict__)
    except SystemExit as e:
        status = _plain_exit_status(e.code)
        if status is None:
            raise  # Python prints the message and exits 1
    else:
        status = 0
    del compiled
    _exit_quickly(main, status)
    # Something unusual happened on the way out: the interpreter finishes the exit in its own way.


def _plain_exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int) and 0 <= code <= 255:
        return int(code)
    return None


def _exit_quickly(main, status):
    """Python's exit steps that a program can observe, in Python's order: join non-daemon threads, atexit
    callbacks, clear __main__'s globals like module teardown does (underscore names first; their finalizers
    run), collect garbage cycles, flush stdout/stderr. Then _exit: the rest of the interpreter's teardown only
    frees memory (about 6 ms of a forked runner's exit). On any surprise it returns and Python exits normally."""
    try:
        threading = sys.modules.get("threading")
        if threading is not None:
            threading._shutdown()
        del threading
        import atexit
        atexit._run_exitfuncs()
        globs = main.__dict__
        for name in [n for n in globs if n[:1] == "_" and n[1:2] != "_"]:
            globs[name] = None
        for name in [n for n in globs if n != "__builtins__"]:
            globs[name] = None
        del globs
        gc.collect()
        for f in (sys.stdout, sys.stderr):
            if f is not None and not f.closed:
                f.flush()
    except BaseException:
        return
    os._exit(status)


def _end_marker(end_key, code):
    """`\0pyth-on-end <key hex> <exit code>\n`: tells the agent the program ended, without waiting for the
    container to wind down. Only this process ever holds the key (read after the fork, see below)."""
    return b"\0pyth-on-end " + end_key.hex().encode("ascii") + b" " + str(code).encode("ascii") + b"\n"


if __name__ == "__main__":
    # Non-dumpable: the program (same uid) cannot read this process's memory or environ through /proc.
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    # Warm up what every program needs, then put the runner's objects out of the collector's reach: the program's
    # collections (and its exit's) then skip them, so they do not write to, and copy, the pages shared since the fork.
    compile("pass", "<warm-up>", "exec")
    gc.collect()
    gc.freeze()
    # Tells the agent this runner is loaded and blocked on its job: only then does the warm pool count it.
    os.write(1, b"\0pyth-on-ready\n")
    _code, _args, _env, _stores, _end_len = _receive_job()
    # The end key follows the job on stdin. It is read only AFTER the fork, by this process, while the child
    # waits on a gate pipe: the key is never in the program's memory (a fork copies the parent's), and the
    # program's stdin starts right after it.
    _gate_r, _gate_w = os.pipe()
    _pid = os.fork()
    if _pid == 0:
        os.close(_gate_w)
        os.read(_gate_r, 1)  # returns (EOF) once the runner has consumed the key
        os.close(_gate_r)
        _become_program(_code, _args, _env, _stores)
    else:
        del _code, _env
        os.close(_gate_r)
        try:
            _end_key = _read_into(bytearray(_end_len)) if _end_len else None
        finally:
            os.close(_gate_w)
        _status = _wait_for(_pid)
        if _end_key is not None:
            # On both streams: each stream is ordered, so seeing the marker on both means the agent has all
            # of the program's output.
            _marker = _end_marker(_end_key, _status)
            os.write(2, _marker)
            os.write(1, _marker)
        os._exit(_status)
