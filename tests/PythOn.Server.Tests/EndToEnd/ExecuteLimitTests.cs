using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// Execution limits end to end: timeout, memory, the output cap, the per-user run cap, and the requests refused with 400.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ExecuteLimitTests(SandboxedServerFixture fixture) : ExecuteEndToEnd(fixture)
{
    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_program_past_its_timeout_is_killed_and_the_call_returns_promptly(Transport transport)
    {
        var request = Python("print('started', flush=True)\nwhile True:\n    pass");
        request.Timeout = 2;
        var clock = Stopwatch.StartNew();

        var result = await E2e.ExecuteAsync(transport, request, _user);

        Assert.True(result.TimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("started\n", result.Output);
        Assert.InRange(result.DurationMs, 1_900, 6_000);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"the call took {clock.Elapsed.TotalSeconds:0.0} s for a 2 s timeout");
    }

    [Fact]
    public async Task A_program_over_the_memory_limit_is_killed_with_137()
    {
        var result = await E2e.ExecuteAsync(Transport.Rest,
            Python("print('allocating', flush=True)\nblocks = [b'x' * (64 << 20) for _ in range(16)]\nprint('survived', len(blocks))"), _user);

        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal("allocating\n", result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task An_output_flood_is_stopped_at_the_cap_and_the_result_says_so(Transport transport)
    {
        var request = Python("import sys\nchunk = 'x' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        request.Timeout = 60;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await E2e.ExecuteAsync(transport, request, _user);

        Assert.True(result.OutputTruncated);
        Assert.True(result.StoppedAtOutputCap);
        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal(1 << 20, result.Output.Length);
        Assert.Matches("^x+$", result.Output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the flood ran {clock.Elapsed.TotalSeconds:0.0} s of its 60 s timeout");
    }

    [Fact]
    public async Task A_user_past_the_concurrent_run_cap_gets_429_while_another_user_still_runs()
    {
        // Two JavaScript runs hold this user's two places (PythOn:Limits:MaxConcurrentRunsPerUser = 2); a Python run
        // of someone else still gets a slot.
        var hog = await Users.RegisterAsync(E2e.Rest);
        var sleeper = JavaScript("console.log('up'); setTimeout(() => {}, 20000);");
        sleeper.Timeout = 30;
        using var cancel = new CancellationTokenSource();
        var calls = Enumerable.Range(0, 2).Select(_ => E2e.Rpc.Execute.ExecuteStream(sleeper, hog.Key.Metadata, cancellationToken: cancel.Token)).ToList();
        try
        {
            foreach (var call in calls)
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None)); // both are running

            var third = await E2e.Rest.PostAsync("/api/v1/execute", new { language = "python", code = "print(1)" }, hog.Key);

            third.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
            Assert.NotNull(third.Headers.RetryAfter?.Delta);
            Assert.Equal("other\n", (await E2e.ExecuteAsync(Transport.Rest, Python("print('other')"), _user)).Output);
        }
        finally
        {
            cancel.Cancel();
            foreach (var call in calls) call.Dispose();
        }
    }

    [Fact]
    public async Task A_streamed_flood_delivers_exactly_the_capped_output_then_the_result()
    {
        var request = Python("import sys\nchunk = 'y' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        request.Timeout = 60;
        var (chunks, result) = await StreamAsync(request, _user);

        Assert.Equal(1 << 20, chunks.Where(c => c.Stream == OutputStream.Stdout).Sum(c => c.Data.Length));
        Assert.True(result.StoppedAtOutputCap);
        Assert.True(result.OutputTruncated);
        Assert.Equal(1 << 20, result.Output.Length);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_program_that_prints_less_than_the_cap_is_not_stopped(Transport transport)
    {
        var result = await E2e.ExecuteAsync(transport,
            Python("import sys\nsys.stdout.write('x' * 500_000)\nprint('end', file=sys.stderr)"), _user);

        Assert.False(result.OutputTruncated);
        Assert.False(result.HasStoppedAtOutputCap);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(500_000, result.Output.Length);
        Assert.Equal("end\n", result.Error);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Code_over_the_size_limit_is_refused_with_400(Transport transport)
    {
        var code = "x = 1\n" + new string('#', 256 * 1024);

        var message = await E2e.ExecuteFailsAsync(transport, Python(code), _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("code is", message);
        Assert.Contains("limit", message);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Stdin_over_the_size_limit_is_refused_with_400(Transport transport)
    {
        var request = Python("print(1)");
        request.Stdin = new string('s', 1024 * 1024 + 1);

        var message = await E2e.ExecuteFailsAsync(transport, request, _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("stdin is", message);
    }

    [Theory]
    [InlineData(Transport.Rest, "cobol")]
    [InlineData(Transport.Grpc, "ruby")]
    [InlineData(Transport.Rest, "")]
    public async Task An_unknown_language_is_refused_with_400(Transport transport, string language)
    {
        var message = await E2e.ExecuteFailsAsync(transport, new ExecuteRequest { Language = language, Code = "print(1)" }, _user,
            HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("language must be 'python' or 'javascript'", message);
    }

    [Theory]
    [InlineData(Transport.Rest, 0)]
    [InlineData(Transport.Grpc, -1)]
    [InlineData(Transport.Rest, 61)]
    [InlineData(Transport.Grpc, double.NaN)]
    public async Task A_timeout_outside_the_allowed_range_is_refused_with_400(Transport transport, double timeout)
    {
        var request = Python("print(1)");
        request.Timeout = timeout;

        var message = await E2e.ExecuteFailsAsync(transport, request, _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("timeout must be", message);
    }
}
