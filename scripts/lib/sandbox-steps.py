# What each step of a run sandbox costs in CPU, measured inside a live slot with the runtime's own code
# (runtime/sandbox.py and the init.c it loads): scripts/bench.sh pipes it to
# `docker exec -u SLOT_UID SLOT python3 -I - [RUNS]`.
# Each line adds one step to the one before and prints the machine CPU per run of this process and its children
# (rusage, so the kernel's work for them included) and their page faults (many of them copies of pages shared with the
# loaded interpreter, which every Python call writes to through reference counts); the last of them is the floor a run
# sandbox costs before any program runs and before the supervisor, the zygote's bookkeeping and the agent add theirs.
# A last line drives whole runs the way the zygote and the supervisor do (sandbox.spawn, init.c, a print(1) job).
import json
import os
import resource
import sys

sys.path.insert(0, "/opt/pyth-on")
import program  # noqa: E402 - the zygote's interpreter has it loaded, and so is this one's size
import sandbox  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
LIMITS = sandbox.DEFAULT_LIMITS
UID, GID = os.getuid(), os.getgid()
FILTER = sandbox.CompiledFilter(sandbox.inner_filter())
program.warm_up()


def fork_only():
    pass


def steps_up_to(last):
    def child():
        sandbox.enter(UID, GID)
        if last == "uid map":
            return
        sandbox.build_filesystems(LIMITS, UID)
        if last == "filesystems":
            return
        if last == "privileges dropped":
            sandbox.drop_bounding_set()
        pid = os.fork()
        if pid == 0:
            if last == "privileges dropped":
                sandbox.drop_privileges(FILTER)
            os._exit(0)
        if last == "privileges dropped":
            sandbox.drop_privileges(FILTER)
        os.waitpid(pid, 0)
    return child


# A job frame without zero-knowledge code or package stores (runtime/README.md, "Job frame").
JOB = b"1 0\n" + json.dumps({"code": "print(1)", "args": [], "env": {}, "package_stores": []}).encode()
RUN = sandbox.run_sandbox("python", LIMITS, FILTER)


def whole_run():
    """One python run as the zygote and the supervisor drive it: a run sandbox ready for its job, the job, the
    program's output and its exit status from init."""
    stdout, status, _ = sandbox.drive(RUN, JOB)
    if stdout != b"1\n" or "exit 0" not in status:
        sys.exit("unexpected run: output %r, status %r" % (stdout, status))


def usage():
    """CPU milliseconds and minor page faults of this process and its reaped children so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * 1000, me.ru_minflt + kids.ru_minflt


def measure(start, child):
    cpu_before, faults_before = usage()
    for _ in range(RUNS):
        pid = start()
        if pid == 0:
            try:
                child()
            finally:
                os._exit(0)
        if pid < 0:
            sys.exit("clone: %s" % os.strerror(-pid))
        os.waitpid(pid, 0)
    cpu_after, faults_after = usage()
    return (cpu_after - cpu_before) / RUNS, (faults_after - faults_before) / RUNS


CASES = [
    ("fork of the loaded interpreter, exit", os.fork, fork_only),
    ("clone into the run's 7 new namespaces, exit", sandbox._clone_init, fork_only),
    ("+ uid and gid map", sandbox._clone_init, steps_up_to("uid map")),
    ("+ fresh filesystems, masks, loopback", sandbox._clone_init, steps_up_to("filesystems")),
    ("+ fork of the program's process", sandbox._clone_init, steps_up_to("program forked")),
    ("+ both drop privileges, load the filter", sandbox._clone_init, steps_up_to("privileges dropped")),
]


# Flushed after every line: a program's process inherits this interpreter's buffers and would print them again.
def report(name, ms, added, faults):
    print("  %-50s %6.2f ms%-10s %5.0f page faults" % (name, ms, added, faults), flush=True)


print("Run sandbox steps inside a slot (scripts/lib/sandbox-steps.py, %d runs each, CPU and page faults per run):" % RUNS,
      flush=True)
previous = None
for name, start, child in CASES:
    ms, faults = measure(start, child)
    report(name, ms, "" if previous is None else "  (%+.2f)" % (ms - previous), faults)
    previous = ms
cpu_before, faults_before = usage()
for _ in range(RUNS):
    whole_run()
cpu_after, faults_after = usage()
report("a whole print(1) run (init.c, job, output, exit)", (cpu_after - cpu_before) / RUNS, "",
       (faults_after - faults_before) / RUNS)
