using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Sandbox.V1;
using PythOn.Server.Agents;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;
using PythOn.Server.Packages;
using PythOn.Server.Telemetry;
using ApiOutputStream = PythOn.Api.V1.OutputStream;
using AgentOutputStream = PythOn.Sandbox.V1.OutputStream;
using OutputChunk = PythOn.Api.V1.OutputChunk;

namespace PythOn.Server.Execution;

internal static class ExecuteResponseExtensions
{
    /// <summary>Sets the optional flags only when true: they are present only then (the documented response shape).</summary>
    public static ExecuteResponse WithFlags(this ExecuteResponse response, RunResult result)
    {
        if (result.StoppedAtOutputCap) response.StoppedAtOutputCap = true;
        if (result.IdleTimedOut) response.IdleTimedOut = true;
        if (result.StoppedAtStdinCap) response.StoppedAtStdinCap = true;
        return response;
    }
}

/// <summary>What came back from the sandbox, already masked.</summary>
public sealed record RunOutcome(ExecuteResponse Response, bool ZkDecryptionFailed);

/// <summary>
/// Delegates a run to a sandbox agent and turns its event stream into masked chunks and a final response.
/// Agents are tried least loaded first (<see cref="AgentFleet.ForRun"/>); agents out of rotation are not tried, one that
/// cannot be reached is taken out of rotation and the next one tried, and the call fails with UNAVAILABLE naming each
/// agent's reason only when none takes the run.
/// </summary>
public sealed class SandboxRunner(AgentFleet agents, AgentInstalls installs, IOptions<PythOnOptions> options, ILogger<SandboxRunner> logger)
{
    // Room on top of the run's own timeout for container acquisition and the result to travel back.
    private static readonly TimeSpan DeadlineSlack = TimeSpan.FromSeconds(30);

    /// <param name="interactive">For an interactive run: writes the caller's stdin, stdin end and signals to the agent
    /// while the run goes on (stopped by its token when the run has ended); null for a run with fixed stdin.</param>
    public async Task<RunOutcome> RunAsync(RunPlan plan, ZkJob? zk, Func<OutputChunk, Task>? onChunk, CancellationToken cancellationToken,
        InteractiveInput? interactive = null)
    {
        using var telemetry = RunTelemetry.Start(plan.Language, interactive is not null ? "interactive" : zk is not null ? "zk" : "batch");
        try
        {
            return await RunCoreAsync(plan, zk, onChunk, interactive, telemetry, cancellationToken);
        }
        catch (RpcException e)
        {
            telemetry.Failed(e.StatusCode);
            throw;
        }
        catch (OperationCanceledException)
        {
            telemetry.Failed(StatusCode.Cancelled);
            throw;
        }
    }

    private async Task<RunOutcome> RunCoreAsync(RunPlan plan, ZkJob? zk, Func<OutputChunk, Task>? onChunk, InteractiveInput? interactive,
        RunTelemetry telemetry, CancellationToken cancellationToken)
    {
        var request = new RunRequest
        {
            Language = plan.Language,
            Code = zk is null ? plan.Code : "",
            Stdin = Google.Protobuf.ByteString.CopyFromUtf8(plan.Stdin),
            TimeoutMs = (uint)plan.Timeout.TotalMilliseconds,
            MaxOutputBytes = (uint)options.Value.Limits.MaxOutputBytes,
            RunId = Guid.NewGuid().ToString("N"),
        };
        telemetry.Identify(request.RunId);
        request.Args.AddRange(plan.Args);
        foreach (var (name, value) in plan.Env) request.Env[name] = value;
        if (zk is not null) request.Zk = zk;
        if (interactive is not null)
        {
            request.IdleTimeoutMs = (uint)interactive.IdleTimeout.TotalMilliseconds;
            request.MaxStdinBytes = (ulong)options.Value.Limits.MaxInteractiveStdinBytes;
        }

        var failures = new List<string>();
        foreach (var agent in agents.ForRun(plan.Language, failures))
        {
            var (address, client) = (agent.Address, agent.Client);
            // Counted from here, packages included: the next run's choice sees this one on this agent.
            using var inFlight = agent.Begin(plan.Language);
            if (plan.Packages.Count > 0)
            {
                // The agent that runs the program needs the store; for a set it has, this is a cached lookup.
                InstallOutcome installed;
                try
                {
                    installed = await installs.InstallAsync(client, plan.Language, plan.Packages,
                        TimeSpan.FromSeconds(options.Value.Packages.RunWaitSeconds), cancellationToken);
                }
                catch (RpcException e) when (e.AgentUnreachable() && !cancellationToken.IsCancellationRequested)
                {
                    Unreachable(agent, e, failures);
                    continue;
                }
                request.PackageStores.Clear();
                request.PackageStores.Add(installed switch
                {
                    InstallOutcome.Ready ready => ready.StoreId,
                    InstallOutcome.Failed failed => throw Problems.FailedPrecondition(
                        $"the packages of this run could not be installed: {failed.Message}"),
                    _ => throw Problems.Unavailable(
                        $"the packages of this run are still being installed ({string.Join(", ", plan.Packages)}); try again in a moment."),
                });
            }
            // One path for both kinds of run: a plain Run, or an Interact whose first message is the run.
            var deadline = DateTime.UtcNow + plan.Timeout + DeadlineSlack;
            AsyncDuplexStreamingCall<Sandbox.V1.InteractRequest, RunEvent>? duplex = null;
            IDisposable call;
            IAsyncStreamReader<RunEvent> events;
            if (interactive is null)
            {
                var run = client.Run(request, deadline: deadline, cancellationToken: cancellationToken);
                (call, events) = (run, run.ResponseStream);
            }
            else
            {
                duplex = client.Interact(deadline: deadline, cancellationToken: cancellationToken);
                (call, events) = (duplex, duplex.ResponseStream);
            }
            using (call)
            {
                bool first;
                try
                {
                    if (duplex is not null)
                        await duplex.RequestStream.WriteAsync(new Sandbox.V1.InteractRequest { Start = request }, cancellationToken);
                    first = await events.MoveNext(cancellationToken);
                    telemetry.Started(attempts: failures.Count + 1); // agents skipped or failed before this one, plus this one
                }
                catch (RpcException e) when (e.AgentUnreachable() && !cancellationToken.IsCancellationRequested)
                {
                    // Nothing reached the sandbox yet: the next agent can take the run.
                    Unreachable(agent, e, failures);
                    continue;
                }
                catch (RpcException e)
                {
                    throw Translate(e, address);
                }
                if (duplex is null)
                    return await ReadAsync(events, first, plan, onChunk, agent, telemetry, cancellationToken);
                using var runEnded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var pump = interactive!.PumpAsync(duplex.RequestStream, runEnded.Token);
                try
                {
                    return await ReadAsync(events, first, plan, onChunk, agent, telemetry, cancellationToken);
                }
                finally
                {
                    await runEnded.CancelAsync();
                    await pump;
                }
            }
        }
        throw Problems.Unavailable(
            $"no sandbox agent is reachable ({string.Join("; ", failures)}): start the agent (./run.sh starts one) or check PythOn:Agents.");
    }

    /// <summary>The agent did not answer: out of rotation at once (its next answered probe puts it back).</summary>
    private void Unreachable(AgentMember agent, RpcException e, List<string> failures)
    {
        logger.LogWarning("Sandbox agent {Address} is unavailable: {Detail}", agent.Address, e.Status.Detail);
        failures.Add($"{agent.Address}: {e.Status.Detail}");
        agent.Unreachable($"a call could not reach {agent.Address}: {e.Status.Detail}");
    }

    private static async Task<RunOutcome> ReadAsync(IAsyncStreamReader<RunEvent> events, bool hasEvent, RunPlan plan,
        Func<OutputChunk, Task>? onChunk, AgentMember agent, RunTelemetry telemetry, CancellationToken cancellationToken)
    {
        var address = agent.Address;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var outMasker = new SecretMasker(plan.SecretValues);
        var errMasker = new SecretMasker(plan.SecretValues);

        async Task Emit(ApiOutputStream stream, string text)
        {
            if (text.Length == 0) return;
            (stream == ApiOutputStream.Stdout ? stdout : stderr).Append(text);
            if (onChunk is not null) await onChunk(new OutputChunk { Stream = stream, Data = text });
        }

        try
        {
            while (hasEvent)
            {
                var ev = events.Current;
                switch (ev.EventCase)
                {
                    case RunEvent.EventOneofCase.Chunk when ev.Chunk.Stream == AgentOutputStream.Stderr:
                        await Emit(ApiOutputStream.Stderr, errMasker.Push(ev.Chunk.Data.Span));
                        break;
                    case RunEvent.EventOneofCase.Chunk:
                        await Emit(ApiOutputStream.Stdout, outMasker.Push(ev.Chunk.Data.Span));
                        break;
                    case RunEvent.EventOneofCase.Result:
                        var result = ev.Result;
                        telemetry.Ended(result);
                        // A stream cut at the cap may end inside a secret: its held-back prefix is masked, not shown.
                        await Emit(ApiOutputStream.Stdout, outMasker.Flush(result.OutputTruncated));
                        await Emit(ApiOutputStream.Stderr, errMasker.Flush(result.OutputTruncated));
                        return new RunOutcome(new ExecuteResponse
                        {
                            Output = stdout.ToString(),
                            Error = stderr.ToString(),
                            ExitCode = result.ExitCode,
                            Language = plan.Language,
                            DurationMs = result.DurationMs,
                            TimedOut = result.TimedOut,
                            OutputTruncated = result.OutputTruncated,
                        }.WithFlags(result), result.ZkDecryptionFailed);
                }
                hasEvent = await events.MoveNext(cancellationToken);
            }
        }
        catch (RpcException e)
        {
            // The agent went away mid-run (killed, its host gone): no new run goes there until it answers again.
            if (e.AgentUnreachable()) agent.Unreachable($"a run lost {address}: {e.Status.Detail}");
            throw Translate(e, address);
        }
        throw Problems.Unavailable($"the sandbox agent at {address} ended the run without a result; try again.");
    }

    // The agent's own statuses mean the same to our caller, except that its internal details stay here.
    private static RpcException Translate(RpcException e, string address) => e.StatusCode switch
    {
        StatusCode.InvalidArgument or StatusCode.ResourceExhausted or StatusCode.Cancelled => Problems.Relayed(e.StatusCode, e.Status.Detail),
        StatusCode.DeadlineExceeded => Problems.DeadlineExceeded("the sandbox did not finish in time; try again."),
        _ => Problems.Unavailable($"the sandbox agent at {address} failed: {e.Status.Detail}"),
    };
}
