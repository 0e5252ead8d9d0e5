#!/usr/bin/env python3
"""Idle memory of a sandbox agent and its slots, per process: RSS (VmRSS), PSS and its anonymous part (smaps_rollup).

    scripts/lib/idle-memory.py AGENT_PID AGENT_ID [--wait SLOTS] [--quiet]

Slot processes are found through `docker top` on the containers labelled pyth-on.agent=AGENT_ID and named by their
place in the slot's process tree (runtime/README.md). RSS counts a page shared between processes (forked, or the
same file mapped) once per process; PSS divides each page among the processes that map it, so PSS totals add up.
With --wait N it first waits (up to 120 s) until N slots are idle: each has its run sandbox waiting (Python: init;
JavaScript: init and node) and the total RSS is the same on two samples one second apart."""
import os
import subprocess
import sys
import time

ROLES = ["docker-init", "supervisor", "zygote", "init", "program"]


def status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rollup(pid):
    """PSS, and its anonymous part (Pss_Anon + Pss_Shmem: heaps, stacks, JIT code; not the binaries' and libraries'
    pages in the page cache), in KiB."""
    pss = anon = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    anon += int(line.split()[1])
    except OSError:
        pass
    return pss, anon


def ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return "?"


def slots(agent_id):
    ids = subprocess.run(["docker", "ps", "-q", "--filter", "label=pyth-on.agent=" + agent_id],
                         capture_output=True, text=True, check=True).stdout.split()
    out = []
    for cid in ids:
        lang = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "pyth-on.language"}}', cid],
                              capture_output=True, text=True).stdout.strip()
        top = subprocess.run(["docker", "top", cid, "-eo", "pid"], capture_output=True, text=True).stdout.split()[1:]
        pids = [int(p) for p in top if p.isdigit()]
        # Depth in the slot's tree names the role: docker-init, supervisor, zygote, init, program.
        depth = {}
        inside = set(pids)
        for pid in pids:
            d, p = 0, pid
            while ppid(p) in inside:
                p = ppid(p)
                d += 1
            depth[pid] = d
        out.append((cid[:12], lang, sorted(pids, key=lambda p: depth[p]), depth))
    return out


def idle(agent_id, expected):
    found = slots(agent_id)
    if len(found) < expected:
        return False
    for _, _, _, depth in found:
        deepest = max(depth.values(), default=-1)
        if deepest < ROLES.index("program"):  # a ready run sandbox has its program's process waiting for the job
            return False
    return True


def total_rss(agent_pid, agent_id):
    return status_kib(agent_pid, "VmRSS") + sum(status_kib(p, "VmRSS") for _, _, pids, _ in slots(agent_id) for p in pids)


def main():
    agent_pid, agent_id = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    quiet = "--quiet" in args
    if "--wait" in args:
        expected = int(args[args.index("--wait") + 1])
        deadline = time.monotonic() + 120
        last = None
        while time.monotonic() < deadline:
            if idle(agent_id, expected):
                now = total_rss(agent_pid, agent_id)
                if last is not None and abs(now - last) < 256:
                    break
                last = now
            else:
                last = None
            time.sleep(1)
        else:
            sys.exit("idle-memory: %d slots of agent %s not idle within 120 s" % (expected, agent_id))

    rows = [("agent", "-", agent_pid, "dotnet", status_kib(agent_pid, "VmRSS")) + rollup(agent_pid)]
    for cid, lang, pids, depth in slots(agent_id):
        for pid in pids:
            role = ROLES[min(depth[pid], len(ROLES) - 1)]
            rows.append((role, "%s %s" % (lang, cid), pid, exe(pid), status_kib(pid, "VmRSS")) + rollup(pid))
    if not quiet:
        print("%-12s %-26s %8s %-10s %9s %9s %9s" % ("process", "slot", "pid", "exe", "RSS KiB", "PSS KiB", "anon PSS"))
        for role, slot, pid, name, rss, pss, anon in rows:
            print("%-12s %-26s %8d %-10s %9d %9d %9d" % (role, slot, pid, name, rss, pss, anon))
        # Per role and language: the same process in every slot of a language.
        print()
        print("%-24s %5s %12s %12s %12s" % ("per role (language)", "n", "RSS KiB avg", "PSS KiB avg", "anon PSS avg"))
        groups = {}
        for role, slot, pid, name, rss, pss, anon in rows:
            key = role if slot == "-" else "%s (%s)" % (role, slot.split()[0])
            groups.setdefault(key, []).append((rss, pss, anon))
        for key, vals in groups.items():
            print("%-24s %5d %12d %12d %12d" % ((key, len(vals)) + tuple(sum(v[i] for v in vals) // len(vals)
                                                                          for i in range(3))))
        print()
    n_slots = len({r[1] for r in rows}) - 1
    rss = sum(r[4] for r in rows)
    pss = sum(r[5] for r in rows)
    anon = sum(r[6] for r in rows)
    # PSS shares file pages (binaries, libraries) with every process that maps them, also outside this agent (other
    # agents' slots on the same image, other .NET processes): it moves with what else runs on the machine. Its
    # anonymous part is this agent's alone (only forks within a slot share anonymous pages), so it does not.
    print("idle memory: agent %d KiB RSS / %d KiB PSS / %d KiB anon PSS; agent + %d slots (%d processes): %d MiB RSS, "
          "%d MiB PSS, %d MiB anon PSS (target <= 150 MiB)" % (rows[0][4], rows[0][5], rows[0][6], n_slots,
                                                                len(rows) - 1, rss // 1024, pss // 1024, anon // 1024))


if __name__ == "__main__":
    main()
