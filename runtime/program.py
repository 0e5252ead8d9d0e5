# Pyth-On Python program launcher: imported by the slot's zygote (runtime/sandbox.py), run in each run
# sandbox's program process, forked from the zygote's already-loaded interpreter. Gives the program the
# semantics of `python3 /work/main.py ARGS` (runtime/README.md).
import builtins
import gc
import json
import os
import re
import sys
import types

_OURS = os.path.dirname(os.path.abspath(__file__)) + os.sep
_WORK = "/work"
_MAIN = os.path.join(_WORK, "main.py")
_PACKAGES = "/packages"
_STORE_ID = re.compile(r"\A(?:py)-[0-9a-f]{40}\Z")
_BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": _WORK,
             "PYTHONUNBUFFERED": "1"}


def _strip_runner_frames(tb):
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    return tb


def _excepthook(exc_type, exc, tb):
    # Tracebacks look like `python3 main.py`: the supervisor's and launcher's own frames are not the user's business.
    tb = _strip_runner_frames(tb)
    if exc is not None:
        exc.__traceback__ = tb
    sys.__excepthook__(exc_type, exc, tb)


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


def _unpack(job):
    """The job's parts (code, args, env, package stores), checked and converted; the job itself is emptied."""
    stores = [str(s) for s in job.get("package_stores", [])]
    if not all(_STORE_ID.match(s) for s in stores):
        raise ValueError("invalid package store id")
    code = job.get("code", "")
    args = [str(a) for a in job.get("args", [])]
    env = {str(k): str(v) for k, v in job.get("env", {}).items()}
    job.clear()
    return code, args, env, stores


def _set_environment(env):
    os.environ.clear()
    os.environ.update(_BASE_ENV)
    os.environ.update(env)


def _write_source(path, code):
    with open(path, "w", encoding="utf-8") as f:
        f.write(code)


def _flush_stdio():
    for f in (sys.stdout, sys.stderr):
        if f is not None and not f.closed:
            f.flush()


def _become_program(code, args, env, stores):
    """In the program's process (already dumpable again, init.c): set up `python3 /work/main.py ARGS` semantics and
    run the code as __main__."""
    _set_environment(env)
    _write_source(_MAIN, code)
    os.chdir(_WORK)
    sys.argv = [_MAIN] + args
    sys.path[0] = _WORK
    _use_package_stores(stores, os.environ)
    main = types.ModuleType("__main__")
    main.__file__ = _MAIN
    main.__builtins__ = builtins
    main.__cached__ = None
    sys.modules["__main__"] = main
    sys.excepthook = _excepthook
    compiled = compile(code, _MAIN, "exec")
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
    # Something unusual happened on the way out: run() finishes the exit the interpreter's way.
    return status


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
        _flush_stdio()
    except BaseException:
        return
    os._exit(status)


def warm_up():
    """In the zygote: compile once and put the loaded interpreter's objects out of the collector's reach. The
    program's collections (and its exit's) then skip them instead of touching, and so copying, the pages every
    run shares with the zygote."""
    compile("pass", "<warm-up>", "exec")
    gc.collect()
    gc.freeze()


def rehearse(job):
    """In the program's process before its job (sandbox.py), on a sample job parsed like the real one: the job's own
    steps once, where nothing of them stays for the program to see (the environment is set again by the job, the
    source goes to /dev/null, the code runs in a throwaway namespace, nothing is printed). The first time a forked
    interpreter runs a step it writes to, and so copies, pages it shares with the zygote (the parser's, compiler's and
    io's state, the objects every call touches); rehearsed, the job finds them copied: job to first output about
    half (README, "The rehearsal"), the CPU the same, only moved before the ready byte."""
    code, _, env, _ = _unpack(job)
    _set_environment(env)
    _write_source(os.devnull, code)
    exec(compile(code, _MAIN, "exec"), {"__builtins__": builtins})
    _flush_stdio()
    gc.collect()


def run(job):
    """In the run sandbox's program process (stdio already the run's pipes): becomes `python3 /work/main.py ARGS`."""
    code, args, env, stores = _unpack(job)
    try:
        status = _become_program(code, args, env, stores)
    except SystemExit as e:
        status = _plain_exit_status(e.code)
        if status is None:
            status = e.code & 0xFF if isinstance(e.code, int) else 1
            if not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
    except BaseException as e:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        sys.excepthook(type(e), e, e.__traceback__)
        status = 1
        if isinstance(e, KeyboardInterrupt):
            status = -2
    _finish(status)


def _finish(status):
    """The interpreter's exit after an uncaught exception or an unusual SystemExit: threads, atexit, flush. An
    uncaught KeyboardInterrupt ends the process by SIGINT, as python3 does."""
    try:
        threading = sys.modules.get("threading")
        if threading is not None:
            threading._shutdown()
        import atexit
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    for f in (sys.stdout, sys.stderr):
        try:
            if f is not None and not f.closed:
                f.flush()
        except BaseException:  # noqa: BLE001 - one stream's failure does not keep the other's output
            pass
    if status == -2:
        import signal
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        status = 130
    os._exit(status)
