using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;
using PythOn.TestSupport;

namespace PythOn.Sandbox.Tests;

/// <summary>One slot, many runs: an agent with a single Python slot, so consecutive runs share its container and
/// only the run sandbox keeps them apart. Each test's first run leaves something behind; the second, which carries
/// a secret, must find none of it.</summary>
public sealed class OneSlotAgent : IAsyncLifetime
{
    public AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Agent = await AgentProcess.StartAsync("one-slot", pythonPool: 1, javaScriptPool: 1);

    public async Task DisposeAsync() => await Agent.DisposeAsync();
}

[Collection(SandboxCollection.Name)]
public sealed class RunSandboxTests(OneSlotAgent one) : IClassFixture<OneSlotAgent>
{
    private const string Secret = "second-run-secret-4b1d";

    private async Task<(RunOutcome First, RunOutcome Second)> TwoRunsAsync(string first, string second, string language = "python")
    {
        var a = await one.Agent.Client.RunAsync(language == "python" ? Runs.Python(first) : Runs.JavaScript(first));
        var next = language == "python" ? Runs.Python(second) : Runs.JavaScript(second);
        next.Env["SECOND_SECRET"] = Secret;
        var b = await one.Agent.Client.RunAsync(next);
        Assert.Equal(a.Started.SandboxId, b.Started.SandboxId); // the same slot served both
        return (a, b);
    }

    [Fact]
    public async Task Files_in_tmp_work_shm_and_home_do_not_reach_the_next_run()
    {
        var (a, b) = await TwoRunsAsync(
            "import os\nfor d in ['/tmp', '/work', '/dev/shm', os.environ['HOME']]:\n    open(os.path.join(d, 'left-behind'), 'w').write('x')\nprint('planted')",
            "import os\nprint(sorted({os.path.join(d, p) for d in ['/tmp', '/work', '/dev/shm', os.environ['HOME']] for p in os.listdir(d)}))");
        Assert.Equal("planted\n", a.Stdout);
        Assert.Equal("['/work/main.py']\n", b.Stdout); // /work (= HOME) holds only the second program itself
    }

    [Fact]
    public async Task A_pth_file_planted_anywhere_writable_does_not_run_in_the_next_run()
    {
        var (a, b) = await TwoRunsAsync(
            "import os, site, sys\nplanted = 0\n" +
            "for d in set(sys.path + site.getsitepackages() + [site.getusersitepackages(), '/tmp', '/work', '/dev/shm']):\n" +
            "    try:\n        os.makedirs(d, exist_ok=True)\n" +
            "        open(os.path.join(d, 'zz-evil.pth'), 'w').write('import os; os.environ[\"HIJACKED\"] = \"yes\"\\n')\n" +
            "        open(os.path.join(d, 'sitecustomize.py'), 'w').write('import os; os.environ[\"HIJACKED\"] = \"yes\"\\n')\n" +
            "        planted += 1\n    except OSError:\n        pass\nprint('planted in', planted)",
            "import os\nprint(os.environ.get('HIJACKED', 'clean'))");
        Assert.StartsWith("planted in ", a.Stdout);
        Assert.NotEqual("planted in 0\n", a.Stdout); // the probe did plant somewhere writable
        Assert.Equal("clean\n", b.Stdout);
    }

    [Fact]
    public async Task SysV_and_POSIX_IPC_objects_do_not_reach_the_next_run()
    {
        const string ipc = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nrt = ctypes.CDLL('librt.so.1', use_errno=True)\n";
        var (a, b) = await TwoRunsAsync(
            ipc + "print(libc.shmget(0x5059, 4096, 0o1666) >= 0, libc.msgget(0x5059, 0o1666) >= 0, libc.semget(0x5059, 1, 0o1666) >= 0)\n" +
            "print(rt.mq_open(b'/pyth-on-left', os.O_CREAT | os.O_RDWR, 0o666, None) >= 0)\n" +
            "fd = os.open('/dev/shm/sem.left', os.O_CREAT | os.O_RDWR)\nprint('made')",
            ipc + "print(libc.shmget(0x5059, 0, 0), libc.msgget(0x5059, 0), libc.semget(0x5059, 0, 0))\n" +
            "print(rt.mq_open(b'/pyth-on-left', os.O_RDWR, 0, None), os.listdir('/dev/shm'), os.listdir('/dev/mqueue'))");
        Assert.Equal("True True True\nTrue\nmade\n", a.Stdout);
        Assert.Equal("-1 -1 -1\n-1 [] []\n", b.Stdout);
    }

    [Fact]
    public async Task An_abstract_unix_socket_and_a_setsid_daemon_die_with_their_run()
    {
        // The daemon double-forks, calls setsid, holds an abstract socket open and keeps scanning every process's
        // environment for the next run's secret, which it would print to a file the next run could find.
        var (a, b) = await TwoRunsAsync(
            "import os, socket, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n" +
            "        s = socket.socket(socket.AF_UNIX)\n        s.bind('\\0pyth-on-left')\n        s.listen()\n" +
            "        while True:\n            for p in os.listdir('/proc'):\n                try:\n" +
            "                    if b'second-run' in open(f'/proc/{p}/environ', 'rb').read():\n" +
            "                        open('/tmp/stolen', 'w').write('x')\n" +
            "                except OSError:\n                    pass\n            time.sleep(0.01)\n    os._exit(0)\n" +
            "time.sleep(0.2)\nprint('daemon started')",
            "import os, socket, time\ntime.sleep(0.3)\ns = socket.socket(socket.AF_UNIX)\n" +
            "try:\n    s.connect('\\0pyth-on-left')\n    print('connected')\nexcept OSError as e:\n    print('refused', e.errno)\n" +
            "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.path.exists('/tmp/stolen'))");
        Assert.Equal("daemon started\n", a.Stdout);
        Assert.Equal("refused 111\n[1, 2] False\n", b.Stdout); // ECONNREFUSED: no such socket in this run
    }

    [Fact]
    public async Task The_program_cannot_see_or_signal_the_supervisor_nor_kill_its_init()
    {
        var run = await one.Agent.Client.RunAsync(Runs.Python(
            "import os, signal\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n" +
            "print(open('/proc/1/cmdline', 'rb').read().split(b'\\0')[0].decode())\n" +
            "for pid in (1,):\n    os.kill(pid, signal.SIGKILL)\n" +
            "try:\n    os.kill(-1, 0)\n    print('signalled others')\nexcept ProcessLookupError:\n    print('nobody else')\n" +
            "print('still here')"));
        // Pids 1 (the run's init) and 2 (the program): the slot's supervisor and zygote have no pid in here.
        // Pid 1 is the run's init executable, which ignores every signal from inside the run but SIGCHLD.
        Assert.Equal("[1, 2]\n/opt/pyth-on/pyth-on-init\nnobody else\nstill here\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task The_program_cannot_create_a_namespace_or_mount()
    {
        var run = await one.Agent.Client.RunAsync(Runs.Python(
            "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n" +
            "def try_(name, rc):\n    print(name, rc, ctypes.get_errno())\n" +
            "try_('unshare-user', libc.unshare(0x10000000))\ntry_('unshare-ns', libc.unshare(0x00020000))\n" +
            "try_('clone-user', libc.syscall(56, ctypes.c_long(0x10000000 | 17), 0, 0, 0, 0))\n" +
            "try_('mount', libc.mount(b'tmpfs', b'/tmp', b'tmpfs', 0, None))\n" +
            "try_('umount', libc.umount2(b'/tmp', 2))\ntry_('chroot', libc.chroot(b'/tmp'))\n" +
            "print(open('/proc/sys/user/max_user_namespaces').read().strip())"));
        Assert.Equal("unshare-user -1 1\nunshare-ns -1 1\nclone-user -1 1\nmount -1 1\numount -1 1\nchroot -1 1\n0\n", run.Stdout);
    }

    [Fact]
    public async Task A_32_bit_system_call_kills_the_program()
    {
        // mov eax, 20 (getpid on i386); int 0x80; ret: run from an executable anonymous page.
        const string callsInt80 = "import ctypes, mmap\ncode = b'\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3'\n" +
            "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\nm.write(code)\n" +
            "addr = ctypes.addressof(ctypes.c_char.from_buffer(m))\nprint('calling', flush=True)\n" +
            "ctypes.CFUNCTYPE(ctypes.c_int)(addr)()\nprint('survived')";
        // Some hosts cannot enter a 32-bit system call at all (no IA32 emulation, or a hypervisor such as PVM that
        // faults int 0x80): there the call dies with SIGSEGV before any filter sees it. Where the host can (unconfined
        // container: it survives), only the sandbox's filter stands in the way, and it must kill with SIGSYS.
        var hostRunsIt = await DockerCli.ExitCodeAsync("run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined",
            "--entrypoint", "/usr/bin/python3", one.Agent.Image, "-c", callsInt80) == 0;

        var run = await one.Agent.Client.RunAsync(Runs.Python(callsInt80));

        Assert.Equal("calling\n", run.Stdout);
        Assert.Equal(hostRunsIt ? 128 + 31 : 128 + 11, run.Result.ExitCode); // SIGSYS from the filter, or the host's SIGSEGV
        Assert.Equal("ok\n", (await one.Agent.Client.RunAsync(Runs.Python("print('ok')"))).Stdout);
    }

    [Fact]
    public async Task A_memfd_memory_hog_ends_in_a_result_and_the_next_run_works()
    {
        // memfd pages are in no process's RSS: the OOM killer may pick the slot's supervisor, which ends the slot.
        // Each memfd stays under the file size limit (RLIMIT_FSIZE), together they are far over the memory limit.
        var hog = Runs.Python(
            "import os\nchunk = b'x' * (1 << 20)\nfds = []\nfor _ in range(40):\n    fd = os.memfd_create('hog')\n    fds.append(fd)\n" +
            "    for _ in range(48):\n        os.write(fd, chunk)\nprint('survived')");
        var run = await one.Agent.Client.RunAsync(hog);
        Assert.Equal(137, run.Result.ExitCode);
        Assert.True(run.Result.OomKilled, run.Result.ToString());
        var next = await one.Agent.Client.RunAsync(Runs.Python("print('ok')"));
        Assert.Equal("ok\n", next.Stdout);
    }

    [Fact]
    public async Task A_tmpfs_memory_hog_ends_in_a_result_and_the_next_run_works()
    {
        var hog = Runs.Python(
            "chunk = b'x' * (1 << 20)\ntry:\n    with open('/dev/shm/hog', 'wb') as f:\n        for _ in range(2048):\n            f.write(chunk)\n" +
            "except OSError as e:\n    print('stopped', e.errno)");
        var run = await one.Agent.Client.RunAsync(hog);
        Assert.Equal("stopped 28\n", run.Stdout); // ENOSPC at the tmpfs size, long before the memory limit
        var next = await one.Agent.Client.RunAsync(Runs.Python("print('ok')"));
        Assert.Equal("ok\n", next.Stdout);
    }

    [Fact]
    public async Task A_javascript_run_leaves_nothing_to_the_next_one()
    {
        var (a, b) = await TwoRunsAsync(
            "require('fs').writeFileSync('/tmp/js-left', 'x'); globalThis.leaked = 1; console.log('planted')",
            "console.log(require('fs').readdirSync('/tmp').length, typeof globalThis.leaked, process.pid)", "javascript");
        Assert.Equal("planted\n", a.Stdout);
        Assert.Equal("0 undefined 2\n", b.Stdout);
    }
}
