using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Sandbox.Agent.Telemetry;
using PythOn.Telemetry;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// Runs one program: validates the request, takes an idle slot of its language (its run sandbox already waiting),
/// sets the slot's memory limit for the run if it has its own, lets <see cref="SlotRun"/> run it, and gives the
/// slot back (or has it replaced after an anomaly).
/// </summary>
public sealed class RunExecutor(
    IOptions<AgentOptions> options,
    SlotPool pool,
    SlotFactory factory,
    StoreCollector stores,
    Hosting.ShutdownDrain drain,
    ILogger<RunExecutor> log)
{
    private const int MaxPackageStores = 8;
    private int _active;

    public int ActiveRuns => Volatile.Read(ref _active);

    public Task RunAsync(RunRequest request, Func<RunEvent, Task> emit, CancellationToken ct) =>
        RunCoreAsync(request, interactive: null, emit, ct);

    /// <summary>An interactive run: the first message is the run, the rest stdin, stdin end and signals.</summary>
    public async Task InteractAsync(IAsyncStreamReader<InteractRequest> requests, Func<RunEvent, Task> emit, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct) || requests.Current.InputCase != InteractRequest.InputOneofCase.Start)
            throw Invalid("the first message of Interact must be `start` with the run");
        await RunCoreAsync(requests.Current.Start, requests, emit, ct);
    }

    private async Task RunCoreAsync(RunRequest request, IAsyncStreamReader<InteractRequest>? interactive, Func<RunEvent, Task> emit, CancellationToken ct)
    {
        // A child of the gRPC call's span, which continues the server's trace.
        using var span = AgentTelemetry.Source.StartActivity("agent.run");
        span?.SetTag("pyth_on.run.id", request.RunId);
        string? languageName = null;
        var outcome = RunOutcomes.Rejected;
        try
        {
            var (language, timeout, cap, memoryMb) = Validate(request);
            languageName = language.Name;
            span?.SetTag("pyth_on.language", language.Name);
            outcome = await RunValidatedAsync(request, language, timeout, cap, memoryMb, interactive, emit, span, ct);
        }
        catch (RunRejectedException e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Reason.ToString()); // the reason, not the message: it may quote the request
            outcome = e.Reason == RunRejection.Unavailable ? RunOutcomes.Unavailable : RunOutcomes.Rejected;
            throw;
        }
        catch (OperationCanceledException)
        {
            span?.SetStatus(ActivityStatusCode.Error, "Cancelled");
            outcome = RunOutcomes.Cancelled;
            throw;
        }
        finally
        {
            span?.SetTag("pyth_on.run.outcome", outcome);
            AgentTelemetry.Runs.Add(1, new KeyValuePair<string, object?>("pyth_on.language", languageName ?? "unknown"),
                new KeyValuePair<string, object?>("pyth_on.run.outcome", outcome));
        }
    }

    /// <summary>Queue (an idle slot), sandbox start (the slot's memory limit, the job handed over), the program, teardown
    /// (the slot back to the pool): each a span under <paramref name="span"/>.</summary>
    private async Task<string> RunValidatedAsync(RunRequest request, LanguageRuntime language, TimeSpan timeout, int cap, int memoryMb,
        IAsyncStreamReader<InteractRequest>? interactive, Func<RunEvent, Task> emit, Activity? span, CancellationToken ct)
    {
        var limits = options.Value.Limits;
        var idle = interactive is null ? (TimeSpan?)null : TimeSpan.FromMilliseconds(
            request.IdleTimeoutMs == 0 ? limits.DefaultIdleTimeoutMs : Math.Min(request.IdleTimeoutMs, (uint)limits.MaxIdleTimeoutMs));
        var stdinCap = request.MaxStdinBytes == 0 ? limits.MaxInteractiveStdinBytes : Math.Min((long)request.MaxStdinBytes, limits.MaxInteractiveStdinBytes);
        using var inFlight = drain.EnterRun(); // refused once the agent is shutting down; otherwise drained before slots go
        await pool.Initialized.WaitAsync(ct);
        using var storeLease = stores.Lease(request.PackageStores); // refuses a missing store; not collected while running

        var acquire = Stopwatch.StartNew();
        Slot? slot;
        using (var queue = AgentTelemetry.Source.StartActivity("queue"))
        {
            queue?.SetTag("pyth_on.queue.for", "slot");
            slot = await pool.TakeAsync(language, TimeSpan.FromMilliseconds(options.Value.Pool.AcquireTimeoutMs), ct);
            if (slot is null) queue?.SetStatus(ActivityStatusCode.Error, "no slot");
        }
        AgentTelemetry.SlotWait.Record(acquire.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("pyth_on.language", language.Name));
        if (slot is null) throw NoSlot(language);
        var sandboxStart = AgentTelemetry.Source.StartActivity("sandbox.start");
        sandboxStart?.SetTag("pyth_on.slot.run", slot.RunsServed + 1);
        sandboxStart?.SetTag("pyth_on.sandbox.prepare_ms", (long)slot.PreparedIn.TotalMilliseconds);
        sandboxStart?.SetTag("pyth_on.sandbox.waited_ms", (long)(DateTime.UtcNow - slot.ReadySinceUtc).TotalMilliseconds);
        Activity? teardown = null;
        string? anomaly = "the run did not finish";
        Interlocked.Increment(ref _active);
        try
        {
            // A run with its own memory limit runs under exactly that limit: the slot's limit is changed for it.
            if (slot.MemoryMb != memoryMb && !await factory.SetMemoryAsync(slot, memoryMb))
                throw new RunRejectedException(RunRejection.Unavailable, $"could not set the sandbox's memory limit to {memoryMb} MiB");
            var acquireUs = (ulong)acquire.Elapsed.TotalMicroseconds;
            await emit(new RunEvent { Started = new RunStarted { SandboxId = slot.Id, Warm = true } });
            var run = new SlotRun(slot, factory, options.Value.Pool, log) { SandboxStartSpan = sandboxStart };
            var (result, runAnomaly, callerGone) = await run.ExecuteAsync(request, timeout, cap, idle, stdinCap, interactive, emit, ct);
            teardown = StartTeardown(span);
            anomaly = runAnomaly; // a cancelled run that ended cleanly leaves its slot fit for the next run
            ct.ThrowIfCancellationRequested();
            if (callerGone)
                throw new OperationCanceledException("the caller went away");
            result.Timings.AcquireUs = acquireUs;
            var outcome = RunOutcomes.Of(result);
            AgentTelemetry.ProgramDuration.Record(result.Timings.ProgramUs / 1e6,
                new KeyValuePair<string, object?>("pyth_on.language", language.Name), new KeyValuePair<string, object?>("pyth_on.run.outcome", outcome));
            log.LogInformation(
                "Run {RunId} {Language} in slot {Slot} (run {N}): exit {Exit} after {Ms} ms{TimedOut}{Truncated}{Oom}{Zk}",
                request.RunId, language.Name, slot.ShortId, slot.RunsServed, result.ExitCode, result.DurationMs,
                result.TimedOut ? ", timed out" : result.IdleTimedOut ? ", idle limit" : result.StoppedAtStdinCap ? ", stdin cap" : "", result.StoppedAtOutputCap ? ", stopped at the output cap" : result.OutputTruncated ? ", output truncated" : "",
                result.OomKilled ? ", OOM killed" : "", result.ZkDecryptionFailed ? ", ZK decryption failed" : "");
            await emit(new RunEvent { Result = result });
            return outcome;
        }
        finally
        {
            sandboxStart?.Dispose(); // when the run failed before its job was handed over
            teardown ??= StartTeardown(span);
            Interlocked.Decrement(ref _active);
            pool.Return(slot, anomaly); // puts the default memory limit back first if the run had its own
            teardown?.SetTag("pyth_on.slot.recycled", anomaly is not null);
            teardown?.Dispose();
            Activity.Current = span;
        }
    }

    /// <summary>The teardown span: the result delivered, the slot handed back (or to recycling; the pool restores its
    /// memory limit before it is idle again). Parented explicitly: the slot run's spans changed the current span in its own flow only.</summary>
    private static Activity? StartTeardown(Activity? run)
    {
        Activity.Current = run;
        return AgentTelemetry.Source.StartActivity("teardown");
    }

    private RunRejectedException NoSlot(LanguageRuntime language) =>
        pool.TargetFor(language) == 0
            ? new RunRejectedException(RunRejection.Unavailable, $"this agent has no {language.Name} slots (Agent:Pool:{(language == LanguageRuntime.Python ? "Python" : "JavaScript")} is 0)")
            : pool.StartFailure(language) is { } failure
                ? new RunRejectedException(RunRejection.Unavailable, $"no {language.Name} sandbox slot could be started: {failure}")
                : new RunRejectedException(RunRejection.ResourceExhausted,
                    $"all {pool.TargetFor(language)} {language.Name} sandbox slots are busy; try again later");

    private (LanguageRuntime, TimeSpan, int, int) Validate(RunRequest r)
    {
        var limits = options.Value.Limits;
        var language = LanguageRuntime.Find(r.Language)
            ?? throw Invalid($"unknown language '{r.Language}' (supported: {string.Join(", ", LanguageRuntime.All.Select(l => l.Name))})");
        if (r.Zk is not null && r.Code.Length > 0)
            throw Invalid("code must be empty when zk is set");
        foreach (var (name, value) in r.Env)
        {
            if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                throw Invalid($"invalid environment variable name '{name.Replace("\0", "\\0")}'");
            if (value.Contains('\0'))
                throw Invalid($"environment variable '{name}' contains a NUL character");
        }
        if (r.Args.Any(a => a.Contains('\0')))
            throw Invalid("arguments must not contain NUL characters");
        if (r.PackageStores.Count > MaxPackageStores)
            throw Invalid($"at most {MaxPackageStores} package stores per run");
        foreach (var storeId in r.PackageStores)
        {
            if (!PackageStore.IsValidId(storeId) || !storeId.StartsWith(PackageStore.Prefix(language.Name) + "-", StringComparison.Ordinal))
                throw Invalid($"'{storeId}' is not a {language.Name} package store id");
        }
        long size = Encoding.UTF8.GetByteCount(r.Code) + r.Stdin.Length
            + r.Args.Sum(a => (long)Encoding.UTF8.GetByteCount(a))
            + r.Env.Sum(e => (long)Encoding.UTF8.GetByteCount(e.Key) + Encoding.UTF8.GetByteCount(e.Value))
            + (r.Zk is null ? 0 : r.Zk.CalculateSize());
        if (size > limits.MaxJobBytes)
            throw Invalid($"request too large: {size} bytes of code, stdin, args and env (limit {limits.MaxJobBytes})");

        var timeoutMs = r.TimeoutMs == 0 ? limits.DefaultTimeoutMs : (int)Math.Min(r.TimeoutMs, (uint)limits.MaxTimeoutMs);
        var cap = r.MaxOutputBytes == 0 ? limits.DefaultMaxOutputBytes : (int)Math.Min(r.MaxOutputBytes, (uint)limits.MaxOutputBytes);
        var memoryMb = limits.MemoryMb;
        if (r.HasMemoryMb)
        {
            if (r.MemoryMb < 32 || r.MemoryMb > limits.MaxMemoryMb)
                throw Invalid($"memory_mb must be between 32 and {limits.MaxMemoryMb}");
            memoryMb = (int)r.MemoryMb;
        }
        return (language, TimeSpan.FromMilliseconds(timeoutMs), cap, memoryMb);
    }

    private static RunRejectedException Invalid(string message) => new(RunRejection.InvalidArgument, message);
}
