using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

[Collection(SandboxCollection.Name)]
public sealed class RunBasicsTests(SandboxFixture fx)
{
    [Fact]
    public async Task Python_hello_world_prints_and_exits_zero()
    {
        var run = await fx.Client.RunAsync(Runs.Python("print('hello world')"));
        Assert.Equal("hello world\n", run.Stdout);
        Assert.Equal("", run.Stderr);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.False(run.Result.TimedOut);
    }

    [Fact]
    public async Task JavaScript_hello_world_prints_and_exits_zero()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("console.log('hello world')"));
        Assert.Equal("hello world\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task Python_runs_under_usr_bin_python3_as_main_script()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import sys, nacl, argon2\nprint(sys.executable, __name__, sys.argv[0], __file__)"));
        Assert.Equal("/usr/bin/python3 __main__ /work/main.py /work/main.py\n", run.Stdout);
    }

    [Fact]
    public async Task The_program_and_its_init_go_by_the_names_a_bare_start_and_the_sandbox_give_them()
    {
        // The sandbox's own processes name their role (ps, top and perf tell them apart); the program keeps python3's.
        var run = await fx.Client.RunAsync(Runs.Python("print(open('/proc/self/comm').read().strip(), open('/proc/1/comm').read().strip())"));
        Assert.Equal("python3 pyth-on-init\n", run.Stdout);
    }

    [Fact]
    public async Task A_python_program_holds_only_its_stdio_when_its_code_starts()
    {
        // Its process waited for the job on two pipes of its own (job and ready): both are closed before the user's code.
        // The listing's own descriptor is closed again once listed: only what is still open is counted.
        var run = await fx.Client.RunAsync(Runs.Python("import os\nnames = os.listdir('/proc/self/fd')\n" +
            "print(sorted(int(n) for n in names if os.path.exists('/proc/self/fd/' + n)))"));
        Assert.Equal("[0, 1, 2]\n", run.Stdout);
    }

    [Fact]
    public async Task A_programs_exit_status_comes_back_while_a_daemon_it_left_still_runs()
    {
        // The status is the program's, reported once it is reaped; the daemon dies with the run's init right after.
        var request = Runs.Python("import subprocess, sys\n" +
            "subprocess.Popen(['sleep', '60'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\nsys.exit(3)");
        request.TimeoutMs = 30_000;
        var run = await fx.Client.RunAsync(request);
        Assert.Equal(3, run.Result.ExitCode);
        Assert.False(run.Result.TimedOut);
        Assert.InRange(run.Result.DurationMs, 0u, 10_000u);
    }

    [Fact]
    public async Task Python_multiprocessing_pool_works_in_the_sandbox()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import multiprocessing as mp\n\ndef square(x):\n    return x * x\n\n" +
            "if __name__ == '__main__':\n    for method in ('fork', 'spawn'):\n" +
            "        with mp.get_context(method).Pool(2) as pool:\n            print(method, pool.map(square, [1, 2, 3]))"));
        Assert.Equal("fork [1, 4, 9]\nspawn [1, 4, 9]\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task Python_program_reads_its_stdin()
    {
        var request = Runs.Python("import sys\ndata = sys.stdin.read()\nprint(data.upper(), end='')");
        request.Stdin = Google.Protobuf.ByteString.CopyFromUtf8("line one\nline two\n");
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("LINE ONE\nLINE TWO\n", run.Stdout);
    }

    [Fact]
    public async Task JavaScript_program_reads_its_stdin()
    {
        var request = Runs.JavaScript("const d = require('fs').readFileSync(0, 'utf8'); console.log(d.split('\\n').length - 1)");
        request.Stdin = Google.Protobuf.ByteString.CopyFromUtf8("a\nb\nc\n");
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("3\n", run.Stdout);
    }

    [Fact]
    public async Task Program_gets_its_arguments()
    {
        var request = Runs.Python("import sys\nprint(sys.argv[1:])");
        request.Args.Add("one");
        request.Args.Add("two words");
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("['one', 'two words']\n", run.Stdout);
    }

    [Fact]
    public async Task JavaScript_program_gets_its_arguments()
    {
        var request = Runs.JavaScript("console.log(JSON.stringify(process.argv.slice(2)))");
        request.Args.Add("x");
        request.Args.Add("y z");
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("[\"x\",\"y z\"]\n", run.Stdout);
    }

    [Fact]
    public async Task Non_zero_exit_code_is_reported()
    {
        var run = await fx.Client.RunAsync(Runs.Python("import sys\nsys.exit(42)"));
        Assert.Equal(42, run.Result.ExitCode);
        Assert.False(run.Result.TimedOut);
        Assert.False(run.Result.OomKilled);
    }

    [Fact]
    public async Task JavaScript_exit_code_is_reported()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("process.exitCode = 7"));
        Assert.Equal(7, run.Result.ExitCode);
    }

    [Fact]
    public async Task Uncaught_exception_goes_to_stderr_with_exit_code_one()
    {
        var run = await fx.Client.RunAsync(Runs.Python("print('before')\nraise ValueError('boom')"));
        Assert.Equal("before\n", run.Stdout);
        Assert.StartsWith("Traceback (most recent call last):\n  File \"/work/main.py\", line 2", run.Stderr);
        Assert.EndsWith("ValueError: boom\n", run.Stderr);
        Assert.DoesNotContain("runner", run.Stderr);
        Assert.Equal(1, run.Result.ExitCode);
    }

    [Fact]
    public async Task Stderr_is_delivered_separately_from_stdout()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("console.error('to stderr'); console.log('to stdout')"));
        Assert.Equal("to stdout\n", run.Stdout);
        Assert.Equal("to stderr\n", run.Stderr);
    }

    [Fact]
    public async Task Env_vars_are_visible_to_the_program()
    {
        var request = Runs.Python("import os\nprint(os.environ['GREETING'], os.environ['API_TOKEN'], os.environ['HOME'])");
        request.Env["GREETING"] = "hi there";
        request.Env["API_TOKEN"] = "tok-123";
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("hi there tok-123 /work\n", run.Stdout);
    }

    [Fact]
    public async Task Env_vars_are_visible_to_a_javascript_program()
    {
        var request = Runs.JavaScript("console.log(process.env.API_TOKEN)");
        request.Env["API_TOKEN"] = "js-tok";
        var run = await fx.Client.RunAsync(request);
        Assert.Equal("js-tok\n", run.Stdout);
    }

    [Fact]
    public async Task Unknown_language_is_rejected_as_invalid_argument()
    {
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => fx.Client.RunAsync(new RunRequest { Language = "cobol", Code = "x" }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task A_memory_override_runs_under_exactly_that_limit_and_the_next_run_under_the_default()
    {
        const string limit = "print(open('/sys/fs/cgroup/memory/memory.limit_in_bytes').read().strip())";
        var request = Runs.Python(limit);
        request.MemoryMb = 96;
        var run = await fx.Client.RunAsync(request);
        Assert.Equal($"{96L * 1024 * 1024}\n", run.Stdout);

        // The same slot (or another) runs the next default run under the default limit again.
        var next = await fx.Client.RunAsync(Runs.Python(limit));
        Assert.Equal($"{256L * 1024 * 1024}\n", next.Stdout);
    }
}
