# Generates seccomp-profile.json, the SLOT's filter: Docker 20.10/moby default profile, rebuilt deliberately as an
# allowlist without io_uring, ptrace/process_vm_*, socketcall; socket() only for the families a program needs
# with no network; plus what the supervisor needs to build a run sandbox (mount, umount2, pivot_root, and clone
# with CLONE_NEWUSER: the zygote clones each run's init into its namespaces; unshare is not needed). Each run adds
# its own stricter filter on top (runtime/sandbox.py).
# Run: python3 gen-seccomp-profile.py
#
# Every argument rule compares masked to 32 bits where the kernel reads the argument as an `int`: seccomp sees
# the 64-bit register, so "family != AF_VSOCK" let 0x100000028 through while the kernel read it as 40.
import json
allow = """accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime clock_adjtime64
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv
futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill lchown lchown32 lgetxattr link linkat listen listxattr
llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create mincore mkdir mkdirat mknod
mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep
newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead
readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer
setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit
set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketpair splice stat stat64 statfs statfs64 statx symlink
symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice
wait4 waitid waitpid write writev""".split()
# Deliberately not allowed (default action EPERM): io_uring_* (kernel attack surface, bypasses seccomp
# argument filtering), ptrace / process_vm_* / kcmp / pidfd_getfd (reading other processes' memory),
# socketcall (32-bit multiplexer whose socket family cannot be filtered), fanotify_mark, name_to_handle_at, memfd_secret, process_mrelease, landlock_* (not needed by programs),
# and everything Docker only allows with capabilities we drop (mount, unshare, setns, bpf, perf, ...).
for n in allow:
    assert not n.startswith("io_uring") and n not in ("ptrace", "process_vm_readv", "process_vm_writev")
syscalls = [
    {"names": sorted(allow), "action": "SCMP_ACT_ALLOW",
     "comment": "Docker 20.10/moby default allowlist minus io_uring, ptrace and unneeded calls"},
    {"names": ["mount", "umount2", "pivot_root"], "action": "SCMP_ACT_ALLOW",
     "comment": "the supervisor mounts a run's filesystems inside the run's own user namespace (no capability"
                " outside it); the run's own filter refuses them to the program"},
]
LOW32 = 0xFFFFFFFF


def int_arg_equals(index, value):
    """An `int` argument equal to value, whatever the register's upper 32 bits hold."""
    return {"index": index, "value": LOW32, "valueTwo": value, "op": "SCMP_CMP_MASKED_EQ"}


# AF_UNIX, AF_INET, AF_INET6 (loopback of the run's own network namespace), AF_NETLINK (getifaddrs and the
# like). Not AF_VSOCK (reaches the hypervisor host on a VM), AF_PACKET, AF_ALG, AF_BLUETOOTH, ...
SOCKET_FAMILIES = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK"}
for family, name in SOCKET_FAMILIES.items():
    syscalls.append({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [int_arg_equals(0, family)],
                     "comment": "socket(%s, ...)" % name})
for v in (0, 8, 131072, 131080, 4294967295):
    syscalls.append({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [int_arg_equals(0, v)],
                     "comment": "PER_LINUX, PER_LINUX32, UNAME26 variants and query only"})
CLONE_NEWUSER = 0x10000000
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
syscalls += [
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32", "x86"]}},
    {"names": ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
     "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
     "comment": "threads and processes: no CLONE_NEW* namespace flags"},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}],
     "comment": "new namespaces only together with a new user namespace (a run sandbox): no capability outside it"},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
     "comment": "ENOSYS so libc falls back to clone, whose flags can be filtered"},
]
profile = {
    "comment": "Pyth-On sandbox seccomp profile. Allowlist; anything not listed fails with EPERM.",
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": syscalls,
}
import os
json.dump(profile, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "seccomp-profile.json"), "w"), indent=1)
print(len(allow))
