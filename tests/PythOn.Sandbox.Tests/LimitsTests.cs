using PythOn.Sandbox.Tests.Infrastructure;

namespace PythOn.Sandbox.Tests;

[Collection(SandboxCollection.Name)]
public sealed class LimitsTests(SandboxFixture fx)
{
    [Fact]
    public async Task Endless_loop_is_killed_at_the_timeout_and_returns_promptly()
    {
        var request = Runs.Python("print('spinning', flush=True)\nwhile True:\n    pass");
        request.TimeoutMs = 1000;
        var run = await fx.Client.RunAsync(request);
        Assert.True(run.Result.TimedOut);
        Assert.Equal(137, run.Result.ExitCode);
        Assert.Equal("spinning\n", run.Stdout);
        // Not before the timeout (the whole call; the started event reaches us after the agent's clock starts) and
        // promptly after it (the run's own time, without any wait for a slot).
        Assert.True(run.Elapsed >= TimeSpan.FromMilliseconds(1000), $"ended after {run.Elapsed}");
        Assert.InRange(run.Ran, TimeSpan.Zero, TimeSpan.FromMilliseconds(4000));
    }

    [Fact]
    public async Task Allocating_past_the_memory_limit_is_an_oom_kill()
    {
        // 1 GiB of written bytes against the default 256 MiB limit (swap equals memory: no escape).
        var run = await fx.Client.RunAsync(Runs.Python("x = b'\\x01' * (1024 * 1024 * 1024)\nprint('survived')"));
        Assert.Equal(137, run.Result.ExitCode);
        Assert.True(run.Result.OomKilled);
        Assert.False(run.Result.TimedOut);
        Assert.DoesNotContain("survived", run.Stdout);
    }

    [Fact]
    public async Task Fork_bomb_is_contained_and_the_next_run_works()
    {
        var bomb = Runs.Python("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass");
        bomb.TimeoutMs = 3000;
        var run = await fx.Client.RunAsync(bomb, TimeSpan.FromSeconds(30));
        Assert.True(run.Result.TimedOut);
        Assert.True(run.Elapsed >= TimeSpan.FromSeconds(3), $"ended after {run.Elapsed}");
        Assert.InRange(run.Ran, TimeSpan.Zero, TimeSpan.FromSeconds(10));

        var next = await fx.Client.RunAsync(Runs.Python("print('still fine')"));
        Assert.Equal("still fine\n", next.Stdout);
        Assert.InRange(next.Ran, TimeSpan.Zero, TimeSpan.FromSeconds(5)); // the wait for a fresh slot is not the run's
    }

    [Fact]
    public async Task Pids_limit_stops_a_process_flood_with_an_error_not_a_hang()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import os\nn = 0\ntry:\n    for _ in range(10000):\n        if os.fork() == 0:\n            os.pause()\n        n += 1\n" +
            "except OSError as e:\n    print('stopped after', n, e.errno)"));
        Assert.Matches(@"^stopped after \d+ 11\n$", run.Stdout); // EAGAIN
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task A_program_that_writes_past_the_cap_is_stopped_and_the_result_says_so()
    {
        var request = Runs.Python(
            "import sys\nchunk = 'x' * 65536\nfor _ in range(16384):\n    sys.stdout.write(chunk)\nprint('done', file=sys.stderr)");
        request.MaxOutputBytes = 100_000; // 1 GiB in all: it cannot finish before the kill at the cap
        var run = await fx.Client.RunAsync(request);
        Assert.True(run.Result.OutputTruncated);
        Assert.True(run.Result.StoppedAtOutputCap);
        Assert.Equal(100_000, run.StdoutBytes);
        Assert.Equal("", run.Stderr); // stopped before it got there
        Assert.Equal(137, run.Result.ExitCode);
        Assert.False(run.Result.TimedOut);
    }

    [Fact]
    public async Task An_endless_flood_with_a_long_timeout_ends_within_a_second_of_reaching_the_cap()
    {
        // Python writes synchronously; node would queue a tight loop's writes in memory and end in an OOM kill.
        var request = Runs.Python("import sys\nchunk = 'y' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        request.MaxOutputBytes = 10_000;
        request.TimeoutMs = 60_000;
        var run = await fx.Client.RunAsync(request);
        Assert.False(run.Result.TimedOut, run.Result.ToString() + run.Stderr);
        Assert.True(run.Result.StoppedAtOutputCap);
        Assert.Equal(10_000, run.StdoutBytes);
        Assert.InRange(run.Ran, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal("ok\n", (await fx.Client.RunAsync(Runs.Python("print('ok')"))).Stdout); // the next run works
    }

    [Fact]
    public async Task A_program_printing_exactly_the_cap_is_not_stopped()
    {
        var request = Runs.Python("import sys\nsys.stdout.write('z' * 50_000)\nsys.stdout.flush()\nprint('bye', file=sys.stderr)");
        request.MaxOutputBytes = 50_000;
        var run = await fx.Client.RunAsync(request);
        Assert.Equal(50_000, run.StdoutBytes);
        Assert.Equal("bye\n", run.Stderr);
        Assert.False(run.Result.OutputTruncated);
        Assert.False(run.Result.StoppedAtOutputCap);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task A_fast_program_printing_less_than_the_cap_gets_all_of_it()
    {
        var request = Runs.Python("import sys\nfor i in range(20000):\n    sys.stdout.write('%05d\\n' % i)");
        var run = await fx.Client.RunAsync(request);
        Assert.Equal(120_000, run.StdoutBytes);
        Assert.False(run.Result.OutputTruncated);
        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public async Task Filling_the_work_dir_with_empty_files_ends_in_ENOSPC_not_an_oom_kill()
    {
        var run = await fx.Client.RunAsync(Runs.Python(
            "import os\ni = 0\ntry:\n    while True:\n        open(f'/work/f{i}', 'w').close()\n        i += 1\n" +
            "except OSError as e:\n    print('errno', e.errno)"));
        Assert.Equal("errno 28\n", run.Stdout);
        Assert.False(run.Result.OomKilled);
        Assert.Equal(0, run.Result.ExitCode);
    }
}
