using System.Text;
using Grpc.Core;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Infrastructure;

/// <summary>What a run produced, collected from its event stream. <paramref name="Elapsed"/> is the whole call, waiting
/// for a slot included; <paramref name="Ran"/> runs from the started event (a slot was taken) to the result: the run's
/// own time, which does not grow when a busy machine makes a test wait for a slot. A lower bound (a timeout reached)
/// belongs on Elapsed: the agent's clock starts before the started event reaches the caller, so Ran can be shorter.</summary>
public sealed record RunOutcome(RunStarted Started, string Stdout, string Stderr, int StdoutBytes, RunResult Result, TimeSpan Elapsed,
    TimeSpan Ran);

public static class Runs
{
    public static RunRequest Python(string code) => new() { Language = "python", Code = code };
    public static RunRequest JavaScript(string code) => new() { Language = "javascript", Code = code };

    /// <summary>Runs to completion (with a generous deadline so a hang fails instead of blocking the suite).</summary>
    public static async Task<RunOutcome> RunAsync(this SandboxAgent.SandboxAgentClient client, RunRequest request, TimeSpan? deadline = null,
        Metadata? headers = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var call = client.Run(request, headers, deadline: DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60)));
        RunStarted? started = null;
        RunResult? result = null;
        var startedAt = TimeSpan.Zero;
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            Assert.Null(result); // nothing may follow the result
            switch (e.EventCase)
            {
                case RunEvent.EventOneofCase.Started:
                    Assert.Null(started);
                    started = e.Started;
                    startedAt = clock.Elapsed;
                    break;
                case RunEvent.EventOneofCase.Chunk:
                    Assert.NotNull(started);
                    (e.Chunk.Stream == OutputStream.Stdout ? stdout : stderr).Write(e.Chunk.Data.Span);
                    break;
                case RunEvent.EventOneofCase.Result:
                    result = e.Result;
                    break;
                default:
                    Assert.Fail($"unexpected event {e.EventCase}");
                    break;
            }
        }
        Assert.NotNull(started);
        Assert.NotNull(result);
        return new RunOutcome(started, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()),
            (int)stdout.Length, result, clock.Elapsed, clock.Elapsed - startedAt);
    }
}
