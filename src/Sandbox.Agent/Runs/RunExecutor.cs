using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.Agent.Slots;
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
        var (language, timeout, cap, memoryMb) = Validate(request);
        var limits = options.Value.Limits;
        var idle = interactive is null ? (TimeSpan?)null : TimeSpan.FromMilliseconds(
            request.IdleTimeoutMs == 0 ? limits.DefaultIdleTimeoutMs : Math.Min(request.IdleTimeoutMs, (uint)limits.MaxIdleTimeoutMs));
        var stdinCap = request.MaxStdinBytes == 0 ? limits.MaxInteractiveStdinBytes : Math.Min((long)request.MaxStdinBytes, limits.MaxInteractiveStdinBytes);
        using var inFlight = drain.EnterRun(); // refused once the agent is shutting down; otherwise drained before slots go
        await pool.Initialized.WaitAsync(ct);
        using var storeLease = stores.Lease(request.PackageStores); // refuses a missing store; not collected while running

        var acquire = Stopwatch.StartNew();
        var slot = await pool.TakeAsync(language, TimeSpan.FromMilliseconds(options.Value.Pool.AcquireTimeoutMs), ct)
            ?? throw NoSlot(language);
        string? anomaly = "the run did not finish";
        Interlocked.Increment(ref _active);
        try
        {
            // A run with its own memory limit runs under exactly that limit: the slot's limit is changed for it.
            if (slot.MemoryMb != memoryMb && !await factory.SetMemoryAsync(slot, memoryMb))
                throw new RunRejectedException(RunRejection.Unavailable, $"could not set the sandbox's memory limit to {memoryMb} MiB");
            var acquireUs = (ulong)acquire.Elapsed.TotalMicroseconds;
            await emit(new RunEvent { Started = new RunStarted { SandboxId = slot.Id, Warm = true } });
            var run = new SlotRun(slot, factory, options.Value.Pool, log);
            var (result, runAnomaly, callerGone) = await run.ExecuteAsync(request, timeout, cap, idle, stdinCap, interactive, emit, ct);
            anomaly = runAnomaly; // a cancelled run that ended cleanly leaves its slot fit for the next run
            ct.ThrowIfCancellationRequested();
            if (callerGone)
                throw new OperationCanceledException("the caller went away");
            result.Timings.AcquireUs = acquireUs;
            log.LogInformation(
                "Run {RunId} {Language} in slot {Slot} (run {N}): exit {Exit} after {Ms} ms{TimedOut}{Truncated}{Oom}{Zk}",
                request.RunId, language.Name, slot.ShortId, slot.RunsServed, result.ExitCode, result.DurationMs,
                result.TimedOut ? ", timed out" : result.IdleTimedOut ? ", idle limit" : result.StoppedAtStdinCap ? ", stdin cap" : "", result.StoppedAtOutputCap ? ", stopped at the output cap" : result.OutputTruncated ? ", output truncated" : "",
                result.OomKilled ? ", OOM killed" : "", result.ZkDecryptionFailed ? ", ZK decryption failed" : "");
            await emit(new RunEvent { Result = result });
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            if (anomaly is null && slot.MemoryMb != options.Value.Limits.MemoryMb
                && !await factory.SetMemoryAsync(slot, options.Value.Limits.MemoryMb))
                anomaly = "its memory limit could not be restored";
            pool.Return(slot, anomaly);
        }
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
