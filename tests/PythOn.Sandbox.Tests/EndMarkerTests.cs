using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>A run ends on the runner's keyed end marker (runtime/README.md) rather than when the container winds
/// down: the result must still carry all output and the right exit code, and marker-shaped output stays output.</summary>
[Collection(SandboxCollection.Name)]
public sealed class EndMarkerTests(SandboxFixture fx)
{
    [Fact]
    public async Task Python_result_does_not_wait_for_the_container_to_wind_down()
    {
        var run = await fx.Client.RunAsync(Runs.Python("print(1)"));
        Assert.Equal("1\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal(0UL, run.Result.Timings.ExitStatusUs); // the exit code came with the marker, no `wait`
    }

    [Fact]
    public async Task A_forged_marker_is_plain_output_and_the_real_exit_code_wins()
    {
        // Same shape as the runner's marker, with a key the program cannot know; the real run ends later with 5.
        const string code = """
            import os, sys, time
            fake = b"\0pyth-on-end " + b"0" * 32 + b" 0\n"
            os.write(1, fake); os.write(2, fake)
            time.sleep(0.3)
            print("after")
            sys.exit(5)
            """;
        var run = await fx.Client.RunAsync(Runs.Python(code));
        Assert.Equal(5, run.Result.ExitCode);
        Assert.Equal("\0pyth-on-end " + new string('0', 32) + " 0\nafter\n", run.Stdout);
        Assert.Equal("\0pyth-on-end " + new string('0', 32) + " 0\n", run.Stderr);
    }

    [Fact]
    public async Task Output_that_looks_like_the_start_of_a_marker_is_delivered_whole()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import os\nos.write(1, b'x\\0pyth-on-en')\nos.write(2, b'\\0')"));
        Assert.Equal("x\0pyth-on-en", run.Stdout);
        Assert.Equal("\0", run.Stderr);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task Trailing_output_on_both_streams_arrives_before_the_result()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import sys\nsys.stdout.write('o' * 200000)\nsys.stderr.write('e' * 200000)\nsys.exit(3)"));
        Assert.Equal(200000, run.StdoutBytes);
        Assert.Equal(200000, run.Stderr.Length);
        Assert.Equal(3, run.Result.ExitCode);
    }

    [Fact]
    public async Task A_program_killed_by_a_signal_still_gets_the_exit_status_from_docker()
    {
        var run = await fx.Client.RunAsync(Runs.Python("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"));
        Assert.Equal(143, run.Result.ExitCode);
        Assert.NotEqual(0UL, run.Result.Timings.ExitStatusUs); // slow path: `wait` after the streams closed
    }

    [Fact]
    public async Task Stdin_after_the_end_key_is_the_programs_own()
    {
        var request = Runs.Python("import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())");
        request.Stdin = Google.Protobuf.ByteString.CopyFrom(new byte[] { 0, 1, 2, 255, 10 });
        var run = await fx.Client.RunAsync(request);
        Assert.Equal(5, run.StdoutBytes);
        Assert.Equal("\0\u0001\u0002\uFFFD\n", run.Stdout);
    }

    // The runner's quick exit (runner.py _exit_quickly) must keep what a program can see of Python's exit.
    [Fact]
    public async Task Python_exit_joins_threads_runs_atexit_and_finalizers_in_order()
    {
        const string code = """
            import atexit, sys, threading, time
            class Noisy:
                def __del__(self):
                    print("del", flush=True)
            keep = Noisy()
            def late():
                time.sleep(0.2)
                print("thread done", flush=True)
            threading.Thread(target=late).start()
            atexit.register(lambda: print("atexit"))
            out = open("/dev/stdout", "w", buffering=4096)
            out.write("buffered\n")
            print("main done")
            """;
        var run = await fx.Client.RunAsync(Runs.Python(code));
        Assert.Equal(0, run.Result.ExitCode);
        // What `python3 -u main.py` prints for this program.
        Assert.Equal("main done\nthread done\natexit\ndel\nbuffered\n", run.Stdout);
    }

    [Theory]
    [InlineData("sys.exit()", 0, "")]
    [InlineData("sys.exit(7)", 7, "")]
    [InlineData("sys.exit(True)", 1, "")]
    [InlineData("sys.exit(256)", 0, "")]
    [InlineData("sys.exit('bye')", 1, "bye\n")]
    public async Task Python_sys_exit_keeps_its_meaning(string call, int exitCode, string stderr)
    {
        var run = await fx.Client.RunAsync(Runs.Python("import sys\n" + call));
        Assert.Equal(exitCode, run.Result.ExitCode);
        Assert.Equal(stderr, run.Stderr);
    }

    [Fact]
    public async Task JavaScript_result_does_not_wait_for_the_container_to_wind_down()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("console.log(1)"));
        Assert.Equal("1\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal(0UL, run.Result.Timings.ExitStatusUs);
    }

    [Fact]
    public async Task JavaScript_exit_listeners_print_before_the_end_and_can_set_the_exit_code()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("""
            process.on('exit', (code) => { console.log('bye ' + code); process.exitCode = 4; });
            console.error('working');
            """));
        Assert.Equal("bye 0\n", run.Stdout);
        Assert.Equal("working\n", run.Stderr);
        Assert.Equal(4, run.Result.ExitCode);
        Assert.Equal(0UL, run.Result.Timings.ExitStatusUs);
    }

    [Fact]
    public async Task JavaScript_output_still_queued_at_the_end_arrives_before_the_result()
    {
        // More than a pipe holds: node queues the rest and writes it before 'exit' (process.exit() would drop
        // it, in node itself, so the program ends by running out of work).
        var run = await fx.Client.RunAsync(Runs.JavaScript(
            "process.stdout.write('o'.repeat(200000)); process.stderr.write('e'.repeat(200000)); process.exitCode = 3;"));
        Assert.Equal(200000, run.StdoutBytes);
        Assert.Equal(200000, run.Stderr.Length);
        Assert.Equal(3, run.Result.ExitCode);
    }

    [Fact]
    public async Task JavaScript_process_exit_reports_its_code()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("console.log('out'); console.error('err'); process.exit(7);"));
        Assert.Equal("out\n", run.Stdout);
        Assert.Equal("err\n", run.Stderr);
        Assert.Equal(7, run.Result.ExitCode);
        Assert.Equal(0UL, run.Result.Timings.ExitStatusUs);
    }

    [Theory]
    [InlineData("throw new Error('boom')")]
    [InlineData("setTimeout(() => { throw new Error('boom') }, 1)")]
    [InlineData("Promise.reject(new Error('boom'))")]
    public async Task JavaScript_uncaught_errors_keep_their_stack_trace_and_exit_code_1(string code)
    {
        // Node emits 'exit' before it prints the error: the runner must not end the run there.
        var run = await fx.Client.RunAsync(Runs.JavaScript(code));
        Assert.Equal(1, run.Result.ExitCode);
        Assert.Contains("Error: boom", run.Stderr);
        Assert.Contains("main.js", run.Stderr);
    }

    [Fact]
    public async Task JavaScript_errors_the_program_handles_itself_do_not_end_the_run()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("""
            process.on('uncaughtException', (e) => console.log('caught ' + e.message));
            setTimeout(() => { throw new Error('boom') }, 1);
            setTimeout(() => console.log('still running'), 20);
            """));
        Assert.Equal("caught boom\nstill running\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task A_forged_javascript_marker_is_plain_output()
    {
        var run = await fx.Client.RunAsync(Runs.JavaScript("""
            const fake = '\0pyth-on-end ' + '0'.repeat(32) + ' 0\n';
            process.stdout.write(fake); process.stderr.write(fake);
            setTimeout(() => { console.log('after'); process.exitCode = 5; }, 300);
            """));
        Assert.Equal(5, run.Result.ExitCode);
        Assert.Equal("\0pyth-on-end " + new string('0', 32) + " 0\nafter\n", run.Stdout);
    }
}
