using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

[Collection(SandboxCollection.Name)]
public sealed class IsolationTests(SandboxFixture fx)
{
    [Fact]
    public async Task Network_egress_fails()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('connected')\n" +
            "except OSError as e:\n    print('blocked', e.errno)"));
        Assert.Equal("blocked 101\n", run.Stdout); // ENETUNREACH: no interface but loopback
    }

    [Fact]
    public async Task A_program_finds_an_empty_file_of_its_own_where_the_slot_has_the_agents_socket()
    {
        // The supervisor's socket path, as the agent configured the slot (a frame channel no program may reach).
        var slot = (await fx.ContainersOfAsync(fx.InstanceId)).First(c => c.State == "running");
        var env = (await fx.Docker.Containers.InspectContainerAsync(slot.ID)).Config.Env;
        var path = env.Single(e => e.StartsWith("PYTH_ON_AGENT_SOCKET=", StringComparison.Ordinal)).Split('=', 2)[1];

        var run = await fx.Client.RunAsync(Runs.Python(
            $"import os, socket, stat\npath = {System.Text.Json.JsonSerializer.Serialize(path)}\nst = os.stat(path)\n" +
            "print(stat.S_ISREG(st.st_mode), st.st_size)\ns = socket.socket(socket.AF_UNIX)\n" +
            "try:\n    s.connect(path)\n    print('connected')\nexcept OSError as e:\n    print(e.errno)"));

        Assert.Equal("True 0\n111\n", run.Stdout); // a regular empty file; ECONNREFUSED
    }

    [Fact]
    public async Task Name_resolution_has_no_servers_configured()
    {
        var run = await fx.Client.RunAsync(Runs.Python("print(repr(open('/etc/resolv.conf').read()))"));
        Assert.Equal("''\n", run.Stdout);
    }

    [Fact]
    public async Task Writes_outside_the_tmpfs_dirs_fail_with_a_read_only_file_system()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "for p in ['/etc/x', '/usr/x', '/x', '/opt/pyth-on/program.py', '/etc/resolv.conf', '/tmp/x', '/work/x']:\n" +
            "    try:\n        open(p, 'w').write('x')\n        print(p, 'ok')\n    except OSError as e:\n        print(p, e.errno)"));
        Assert.Equal(
            "/etc/x 30\n/usr/x 30\n/x 30\n/opt/pyth-on/program.py 30\n/etc/resolv.conf 30\n/tmp/x ok\n/work/x ok\n", run.Stdout);
    }

    // A program that prints FIRST, then the capability sets (Inh, Prm, Eff, Bnd, Amb), NoNewPrivs and the seccomp mode
    // of the process whose /proc/PID/status it reads; and what that line is when every set is empty, filtered.
    private static string PrintPrivileges(string statusPath, string first) =>
        "import os\nst = dict(l.split(':\\t') for l in open('" + statusPath + "').read().splitlines() if ':\\t' in l)\n" +
        "print(" + first + ", *(st['Cap' + s] for s in ('Inh', 'Prm', 'Eff', 'Bnd', 'Amb')), st['NoNewPrivs'], st['Seccomp'])";

    private static string NoPrivileges(string first) =>
        first + " " + string.Concat(Enumerable.Repeat("0000000000000000 ", 5)) + "1 2\n";

    [Fact]
    public async Task Program_runs_unprivileged_with_no_capabilities()
    {
        var run = await fx.Client.RunAsync(Runs.Python(PrintPrivileges("/proc/self/status", "os.getuid() >= 20000")));
        // Every set empty, the bounding set too: it was emptied in init, before the program's process was forked from it.
        Assert.Equal(NoPrivileges("True"), run.Stdout);
    }

    [Fact]
    public async Task The_runs_init_holds_no_capability_once_the_program_has_its_job()
    {
        // Init keeps CAP_SYS_ADMIN across its exec only to bind the job's package stores; it drops every capability,
        // sets no_new_privs and loads the run's filter before the program's code gets its job.
        var run = await fx.Client.RunAsync(Runs.Python(PrintPrivileges("/proc/1/status", "st['Name']")));
        Assert.Equal(NoPrivileges("pyth-on-init"), run.Stdout);
    }

    [Fact]
    public async Task Python_program_cannot_read_the_runners_memory_or_environment()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import os\nppid = os.getppid()\nprint(open(f'/proc/{ppid}/cmdline', 'rb').read().split(b'\\0')[0].decode())\n" +
            "for name in ['mem', 'environ']:\n    try:\n        open(f'/proc/{ppid}/{name}', 'rb').read(1)\n        print(name, 'readable')\n" +
            "    except OSError as e:\n        print(name, e.errno)"));
        // The parent is the run sandbox's init (the executable it execs once the program's process is forked), which
        // read the job; it is non-dumpable, so its /proc files are closed to the program.
        Assert.Equal("/opt/pyth-on/pyth-on-init\nmem 13\nenviron 13\n", run.Stdout);
    }

    [Fact]
    public async Task Io_uring_setup_is_blocked_by_seccomp()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nparams = ctypes.create_string_buffer(120)\n" +
            "r = libc.syscall(425, 8, params)\nprint(r, errno.errorcode[ctypes.get_errno()])"));
        Assert.Equal("-1 EPERM\n", run.Stdout);
    }

    [Fact]
    public async Task Ptrace_is_blocked_by_seccomp()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.ptrace(0, 0, None, None)\n" +
            "print(r, errno.errorcode[ctypes.get_errno()])"));
        Assert.Equal("-1 EPERM\n", run.Stdout);
    }

    [Theory]
    [InlineData(40L, "AF_VSOCK")]
    [InlineData(0x1_0000_0028L, "AF_VSOCK with high bits set (the kernel reads an int)")]
    [InlineData(0x7FFF_FFFF_0000_0028L, "AF_VSOCK with every upper bit but the sign")]
    [InlineData(17L, "AF_PACKET")]
    [InlineData(38L, "AF_ALG")]
    [InlineData(0x1_0000_0011L, "AF_PACKET with high bits set")]
    public async Task Socket_families_outside_the_allowlist_are_refused_whatever_the_upper_bits(long family, string what)
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n" +
            $"fd = libc.syscall(41, ctypes.c_long({family}), 1, 0)\nprint(fd, ctypes.get_errno() if fd < 0 else 0)"));
        Assert.True(run.Stdout.StartsWith("-1 "), $"{what}: {run.Stdout}{run.Stderr}");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(10L)]
    [InlineData(16L)]
    [InlineData(0x1_0000_0001L)]
    public async Task Socket_families_a_program_needs_are_allowed(long family)
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n" +
            $"fd = libc.syscall(41, ctypes.c_long({family}), 2, 0)\nprint(fd >= 0, ctypes.get_errno() if fd < 0 else 0)"));
        Assert.Equal("True 0\n", run.Stdout);
    }

    [Fact]
    public async Task Vsock_sockets_are_blocked_by_seccomp_while_unix_sockets_work()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import socket\ntry:\n    socket.socket(40, socket.SOCK_STREAM)\n    print('vsock open')\n" +
            "except OSError as e:\n    print('vsock', e.errno)\na, b = socket.socketpair()\na.send(b'x')\nprint('unix', b.recv(1))"));
        Assert.Equal("vsock 1\nunix b'x'\n", run.Stdout);
    }

    [Fact]
    public async Task Env_values_are_absent_from_the_container_config_while_it_runs()
    {
        var secret = "sekrit-" + Guid.NewGuid().ToString("N");
        var request = Runs.Python(
            "import os, hashlib, time\nprint(hashlib.sha256(os.environ['API_SECRET'].encode()).hexdigest(), flush=True)\n" +
            "while True:\n    time.sleep(0.05)");
        request.Env["API_SECRET"] = secret;
        request.TimeoutMs = 30_000;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = fx.Client.Run(request, cancellationToken: cts.Token);

        var started = await NextAsync(call, RunEvent.EventOneofCase.Started);
        // The program sees the secret...
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))) + "\n", await StdoutLineAsync(call));

        // ...while neither `docker inspect` nor the config Docker stores on disk contains it.
        var inspect = await fx.Docker.Containers.InspectContainerAsync(started.Started.SandboxId);
        Assert.True(inspect.State.Running);
        Assert.DoesNotContain(inspect.Config.Env, e => e.Contains(secret));
        var raw = await RawInspectAsync(started.Started.SandboxId);
        Assert.Contains(started.Started.SandboxId, raw);
        Assert.DoesNotContain(secret, raw);
        var stored = Path.Combine("/var/lib/docker/containers", started.Started.SandboxId, "config.v2.json");
        Assert.True(File.Exists(stored), $"{stored} not found");
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(stored));
        cts.Cancel();
    }

    [Fact]
    public async Task Secrets_of_one_sandbox_are_not_readable_from_another()
    {
        var secret = "other-tenant-" + Guid.NewGuid().ToString("N");
        var holder = Runs.Python("import time\nprint('holding', flush=True)\nwhile True:\n    time.sleep(0.05)");
        holder.Env["VICTIM_SECRET"] = secret;
        holder.TimeoutMs = 30_000;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = fx.Client.Run(holder, cancellationToken: cts.Token);
        await NextAsync(call, RunEvent.EventOneofCase.Started);
        Assert.Equal("holding\n", await StdoutLineAsync(call));

        // The spy gets the needle reversed so its own memory and argv don't trivially hold it; a canary in the
        // environment of a process inside the spy's own sandbox proves the scan finds a value that is there.
        var spy = Runs.Python(
            "import os, glob, subprocess\nneedle = os.environ['NEEDLE'][::-1].encode()\ncanary = os.environ['CANARY'].encode()\n" +
            "helper = subprocess.Popen(['sleep', '30'], env={'CANARY': os.environ['CANARY']})\n" +
            // Under load the helper's environ can lag behind Popen's return: wait (bounded) until it shows.
            "import time\ndeadline = time.monotonic() + 10\n" +
            "while canary not in open(f'/proc/{helper.pid}/environ', 'rb').read() and time.monotonic() < deadline:\n    time.sleep(0.01)\n" +
            "found = canary_found = False\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n" +
            "for path in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline') + glob.glob('/work/*') + glob.glob('/tmp/*'):\n" +
            "    try:\n        data = open(path, 'rb').read()\n    except OSError:\n        continue\n" +
            "    found |= needle in data\n    canary_found |= canary in data\n" +
            "print('found', found, 'canary', canary_found, 'processes', len(pids))\nhelper.kill()");
        spy.Env["NEEDLE"] = new string(secret.Reverse().ToArray());
        spy.Env["CANARY"] = "canary-" + Guid.NewGuid().ToString("N");
        var run = await fx.Client.RunAsync(spy);
        Assert.Matches(@"^found False canary True processes [2-4]\n$", run.Stdout);
        cts.Cancel();
    }

    /// <summary>Reads chunks until a full stdout line arrived (a line may come in several chunks).</summary>
    internal static async Task<string> StdoutLineAsync(AsyncServerStreamingCall<RunEvent> call)
    {
        var line = new StringBuilder();
        while (!line.ToString().EndsWith('\n'))
        {
            var e = await NextAsync(call, RunEvent.EventOneofCase.Chunk);
            Assert.Equal(OutputStream.Stdout, e.Chunk.Stream);
            line.Append(e.Chunk.Data.ToStringUtf8());
        }
        return line.ToString();
    }

    internal static async Task<RunEvent> NextAsync(AsyncServerStreamingCall<RunEvent> call, RunEvent.EventOneofCase expected)
    {
        Assert.True(await call.ResponseStream.MoveNext(), $"stream ended before a {expected} event");
        Assert.Equal(expected, call.ResponseStream.Current.EventCase);
        return call.ResponseStream.Current;
    }

    /// <summary>The exact JSON `docker inspect` shows, read from the Engine API.</summary>
    private static async Task<string> RawInspectAsync(string id)
    {
        using var http = new HttpClient(UnixSocket.Handler("/var/run/docker.sock"));
        return await http.GetStringAsync($"http://docker/containers/{id}/json");
    }
}
