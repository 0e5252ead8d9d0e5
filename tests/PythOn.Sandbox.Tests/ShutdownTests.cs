using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>SIGTERM drains the agent: new runs are refused with UNAVAILABLE, runs in flight finish within the grace,
/// then the slots are removed and the process exits. Each test has its own agent (it ends it).</summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(60);

    /// <summary>A program that says it is running, then waits for one line of stdin: it is in flight until the test
    /// writes that line, however long the drain takes.</summary>
    private const string WaitsForALine = "import sys\nprint('running', flush=True)\nprint('got ' + sys.stdin.readline().strip(), flush=True)";

    private static async Task<AsyncDuplexStreamingCall<InteractRequest, RunEvent>> StartWaitingRunAsync(AgentProcess agent)
    {
        var call = agent.Client.Interact();
        await call.RequestStream.WriteAsync(new InteractRequest { Start = Runs.Python(WaitsForALine) });
        while (await call.ResponseStream.MoveNext())
            if (call.ResponseStream.Current.Chunk?.Data.ToStringUtf8().Contains("running") == true)
                return call;
        throw new InvalidOperationException("the program never said it was running");
    }

    private static async Task<RunResult> ResultAsync(AsyncDuplexStreamingCall<InteractRequest, RunEvent> call, List<string> output)
    {
        using var deadline = new CancellationTokenSource(ExitDeadline);
        while (await call.ResponseStream.MoveNext(deadline.Token))
        {
            var e = call.ResponseStream.Current;
            if (e.EventCase == RunEvent.EventOneofCase.Chunk) output.Add(e.Chunk.Data.ToStringUtf8());
            if (e.EventCase == RunEvent.EventOneofCase.Result) return e.Result;
        }
        throw new InvalidOperationException("the stream ended without a result");
    }

    [Fact]
    public async Task Sigterm_refuses_new_runs_and_lets_the_run_in_flight_finish()
    {
        await using var agent = await AgentProcess.StartAsync("drain", pythonPool: 2, javaScriptPool: 0,
            new Dictionary<string, string> { ["Agent__ShutdownGraceSeconds"] = "120" });
        using var inFlight = await StartWaitingRunAsync(agent);

        ProcessSignals.Terminate(agent.ProcessId);

        // A second python slot is idle, so only the drain can refuse this run.
        await Poll.UntilAsync(async () =>
        {
            try
            {
                await agent.Client.RunAsync(Runs.Python("print(1)"), TimeSpan.FromSeconds(20));
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(30), "a new run is refused with UNAVAILABLE", () => agent.Log);
        Assert.False(agent.HasExited, "the agent exited while a run was in flight");

        await inFlight.RequestStream.WriteAsync(new InteractRequest { Stdin = Google.Protobuf.ByteString.CopyFromUtf8("hello\n") });
        await inFlight.RequestStream.CompleteAsync();
        var output = new List<string>();
        var result = await ResultAsync(inFlight, output);
        inFlight.Dispose(); // a caller that keeps its call open keeps the agent's HTTP/2 connection (and its exit) waiting

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("got hello", string.Concat(output));
        await Poll.UntilAsync(() => Task.FromResult(agent.HasExited), ExitDeadline, "the agent exits after the drain", () => agent.Log);
        Assert.Empty(await DockerCli.ContainersOfAgentAsync(agent.InstanceId));
    }

    [Fact]
    public async Task A_run_still_going_when_the_grace_ends_is_ended_and_the_agent_exits_without_leftovers()
    {
        await using var agent = await AgentProcess.StartAsync("drain-grace", pythonPool: 1, javaScriptPool: 0,
            new Dictionary<string, string> { ["Agent__ShutdownGraceSeconds"] = "1" });
        using var inFlight = await StartWaitingRunAsync(agent);

        ProcessSignals.Terminate(agent.ProcessId);

        await Poll.UntilAsync(() => Task.FromResult(agent.HasExited), TimeSpan.FromSeconds(30), "the agent exits soon after its grace of 1 s",
            () => agent.Log);
        Assert.Empty(await DockerCli.ContainersOfAgentAsync(agent.InstanceId));
        // The caller is not left hanging: its stream ends (with an error or a result), it does not wait for ever.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await inFlight.ResponseStream.MoveNext(deadline.Token)) { }
        }
        catch (RpcException e)
        {
            Assert.NotEqual(StatusCode.Cancelled, e.StatusCode);
        }
    }
}
