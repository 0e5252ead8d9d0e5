# What a run sandbox costs in CPU, step by step, measured inside a live slot with the runtime's own code
# (runtime/sandbox.py and the C it loads and execs): scripts/bench.sh pipes it to
# `docker exec -u SLOT_UID SLOT python3 -I - [RUNS]`.
# Each line adds to the one before and prints the machine CPU per run of this process and its children (rusage, so
# the kernel's work for them included) and their page faults (many of them copies of pages shared with the loaded
# interpreter, which every Python call writes to through reference counts): a fork of the interpreter alone (the
# floor of the program's process), a run sandbox up to its waiting program (the floor a run costs before it has a job,
# before the supervisor, the zygote's bookkeeping and the agent add theirs), and whole runs driven the way the zygote
# and the supervisor drive them (sandbox.spawn, a print(1) job).
import json
import os
import resource
import sys

sys.path.insert(0, "/opt/pyth-on")
import program  # noqa: E402 - the zygote's interpreter has it loaded, and so is this one's size
import sandbox  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
FILTER = sandbox.CompiledFilter(sandbox.inner_filter())
program.warm_up()
# A job frame without zero-knowledge code or package stores (runtime/README.md, "Job frame").
JOB = b"1 0\n" + json.dumps({"code": "print(1)", "args": [], "env": {}, "package_stores": []}).encode()
RUN = sandbox.run_sandbox("python", sandbox.DEFAULT_LIMITS, FILTER)


def fork_and_exit():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def until_ready():
    """A run sandbox up to its waiting program (init cloned into the run's namespaces, its filesystems, its exec, the
    program's process forked and rehearsed), then its job pipe closed without a job: init ends the run (exit 70)."""
    pid, (job_w, stdin_w, out_r, err_r, ctl_w, status_r), status_w = sandbox.spawn(RUN)
    if pid < 0:
        sys.exit("clone: %s" % os.strerror(-pid))
    os.close(status_w)
    status = b""
    while b"ready\n" not in status:
        chunk = os.read(status_r, 4096)
        if not chunk:
            sys.exit("the run sandbox never got ready: %r" % status)
        status += chunk
    for fd in (job_w, stdin_w, out_r, err_r, ctl_w, status_r):
        os.close(fd)
    os.waitpid(pid, 0)


def whole_run():
    """One python run as the zygote and the supervisor drive it: a run sandbox ready for its job, the job, the
    program's output and its exit status from init."""
    stdout, status, _ = sandbox.drive(RUN, JOB)
    if stdout != b"1\n" or "exit 0" not in status:
        sys.exit("unexpected run: output %r, status %r" % (stdout, status))


CASES = [
    ("fork of the loaded interpreter, exit", fork_and_exit),
    ("a run sandbox until its program is ready, no job", until_ready),
    ("a whole print(1) run (job, output, exit)", whole_run),
]


def usage():
    """CPU milliseconds and minor page faults of this process and its reaped children so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * 1000, me.ru_minflt + kids.ru_minflt


def measure(once):
    once()
    cpu_before, faults_before = usage()
    for _ in range(RUNS):
        once()
    cpu_after, faults_after = usage()
    return (cpu_after - cpu_before) / RUNS, (faults_after - faults_before) / RUNS


# Flushed after every line: a program's process inherits this interpreter's buffers and would print them again.
def report(name, ms, added, faults):
    print("  %-50s %6.2f ms%-10s %5.0f page faults" % (name, ms, added, faults), flush=True)


print("Run sandbox steps inside a slot (scripts/lib/sandbox-steps.py, %d runs each, CPU and page faults per run):" % RUNS,
      flush=True)
previous = None
for name, once in CASES:
    ms, faults = measure(once)
    report(name, ms, "" if previous is None else "  (%+.2f)" % (ms - previous), faults)
    previous = ms
