using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// Runs one program: takes an idle slot of its language (its run sandbox already waiting), sends the job and the
/// stdin as frames, streams the output the supervisor frames back, enforces the wall-clock limit with a kill
/// frame, and reports the supervisor's result: the exit status it took from waitpid of the run's init, outside
/// the run's namespaces, so the program cannot forge it. The supervisor stops the program at the output cap.
/// </summary>
public sealed class RunExecutor(
    IOptions<AgentOptions> options,
    SlotPool pool,
    SlotFactory factory,
    PackageStore packages,
    ILogger<RunExecutor> log)
{
    private const int MaxPackageStores = 8;
    private const int StdinChunk = 64 * 1024;
    /// <summary>Stdin bytes sent but not yet written to the program's pipe: the supervisor never holds more.</summary>
    private const long StdinWindow = 1 << 20;
    private int _active;

    public int ActiveRuns => Volatile.Read(ref _active);

    public async Task RunAsync(RunRequest request, Func<RunEvent, Task> emit, CancellationToken ct)
    {
        var (language, timeout, cap, memoryMb) = Validate(request);
        await pool.Initialized.WaitAsync(ct);

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
            var (result, runAnomaly, callerGone) = await ExecuteAsync(slot, request, timeout, cap, emit, ct);
            anomaly = runAnomaly; // a cancelled run that ended cleanly leaves its slot fit for the next run
            ct.ThrowIfCancellationRequested();
            if (callerGone)
                throw new OperationCanceledException("the caller went away");
            result.Timings.AcquireUs = acquireUs;
            log.LogInformation(
                "Run {RunId} {Language} in slot {Slot} (run {N}): exit {Exit} after {Ms} ms{TimedOut}{Truncated}{Oom}{Zk}",
                request.RunId, language.Name, slot.ShortId, slot.RunsServed, result.ExitCode, result.DurationMs,
                result.TimedOut ? ", timed out" : "", result.StoppedAtOutputCap ? ", stopped at the output cap" : result.OutputTruncated ? ", output truncated" : "",
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
            if (!packages.Exists(storeId))
                throw new RunRejectedException(RunRejection.FailedPrecondition,
                    $"package store {storeId} does not exist on this agent; install the set with InstallPackages first");
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

    private async Task<(RunResult Result, string? Anomaly, bool CallerGone)> ExecuteAsync(Slot slot, RunRequest request, TimeSpan timeout, int cap,
        Func<RunEvent, Task> emit, CancellationToken ct)
    {
        var (seq, frames) = slot.BeginRun();
        var clock = Stopwatch.StartNew();
        var timedOut = false;
        string? anomaly = null;
        var killRequested = 0;
        using var runEnded = new CancellationTokenSource();

        void Kill()
        {
            if (Interlocked.Exchange(ref killRequested, 1) != 0)
                return;
            _ = slot.SendAsync(SupervisorFrame.Signal, seq, new byte[] { 9 }).ContinueWith(_ => { }, TaskScheduler.Default);
            // Last resort: a run that does not end after the kill ends with its slot.
            _ = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(100, options.Value.Pool.KillGraceMs)), runEnded.Token).ContinueWith(t =>
            {
                if (t.IsCanceled)
                    return;
                anomaly = "the run did not end after SIGKILL";
                log.LogWarning("Slot {Id}: run not dead {Grace} ms after the kill; removing the slot", slot.ShortId, options.Value.Pool.KillGraceMs);
                _ = factory.KillAsync(slot);
            }, TaskScheduler.Default);
        }

        var payload = JobEncoder.Encode(request, cap);
        try
        {
            await slot.SendAsync(SupervisorFrame.Job, seq, payload);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
        var acked = 0L;
        var ackSignal = new SemaphoreSlim(0);
        var stdin = SendStdinAsync(slot, seq, request.Stdin, () => Interlocked.Read(ref acked), ackSignal, runEnded.Token);

        using var timer = new CancellationTokenSource(timeout);
        using var onTimeout = timer.Token.Register(() => { timedOut = true; Kill(); });
        using var onCancel = ct.Register(Kill);

        long stdout = 0, stderr = 0;
        ulong firstOutputUs = 0;
        string? zk = null;
        SupervisorExit? exit = null;
        var callerGone = false;
        await foreach (var frame in frames.ReadAllAsync(CancellationToken.None))
        {
            switch (frame.Type)
            {
                case SupervisorFrame.Stdout or SupervisorFrame.Stderr:
                    if (firstOutputUs == 0)
                        firstOutputUs = Math.Max(1, (ulong)clock.Elapsed.TotalMicroseconds);
                    // The supervisor applies the cap; this is the agent's own guard against a slot that did not.
                    ref var sent = ref frame.Type == SupervisorFrame.Stdout ? ref stdout : ref stderr;
                    var take = (int)Math.Min(frame.Payload.Length, Math.Max(0, cap - sent));
                    sent += take;
                    if (take > 0 && !callerGone)
                    {
                        try
                        {
                            await emit(new RunEvent
                            {
                                Chunk = new OutputChunk
                                {
                                    Stream = frame.Type == SupervisorFrame.Stdout ? OutputStream.Stdout : OutputStream.Stderr,
                                    Data = ByteString.CopyFrom(frame.Payload, 0, take),
                                },
                            });
                        }
                        catch (Exception)
                        {
                            callerGone = true; // the caller is gone: stop the program, drain until the slot says it ended
                            Kill();
                        }
                    }
                    break;
                case SupervisorFrame.StdinAck:
                    Interlocked.Exchange(ref acked, (long)BinaryPrimitives.ReadUInt64BigEndian(frame.Payload));
                    ackSignal.Release();
                    break;
                case SupervisorFrame.Zk:
                    zk = Encoding.ASCII.GetString(frame.Payload);
                    break;
                case SupervisorFrame.Exit:
                    exit = JsonSerializer.Deserialize<SupervisorExit>(frame.Payload);
                    break;
            }
        }
        var programUs = (ulong)clock.Elapsed.TotalMicroseconds;
        runEnded.Cancel();
        await stdin;

        var result = new RunResult
        {
            TimedOut = timedOut,
            DurationMs = (uint)(programUs / 1000),
            ZkDecryptionFailed = request.Zk is not null && zk != "ok",
            Warm = true,
            SandboxId = slot.Id,
            Timings = new RunTimings { FirstOutputUs = firstOutputUs, ProgramUs = programUs },
        };
        if (exit is null)
        {
            // The slot died during the run: its supervisor was killed (OOM by memory in no process, such as memfd
            // or tmpfs pages) or the container went away.
            anomaly ??= "it died during the run";
            var oom = await factory.DiedOfOomAsync(slot);
            log.LogWarning("Slot {Id} died during run {RunId}{Oom}: {Note}", slot.ShortId, request.RunId, oom ? " (OOM)" : "", slot.DeathNote ?? "no message");
            result.ExitCode = 137;
            result.OomKilled = oom && !timedOut;
            result.ZkDecryptionFailed = false;
            return (result, anomaly, callerGone);
        }
        result.ExitCode = timedOut ? 137 : exit.ExitCode;
        result.OomKilled = exit.OomKilled && !timedOut;
        result.OutputTruncated = exit.Truncated;
        result.StoppedAtOutputCap = exit.OutputCapped && !timedOut;
        return (result, anomaly, callerGone);
    }

    /// <summary>Sends the program's stdin in chunks, never more than <see cref="StdinWindow"/> ahead of what the
    /// supervisor has written to the program's pipe, then end-of-file.</summary>
    private static async Task SendStdinAsync(Slot slot, uint seq, ByteString stdin, Func<long> acked, SemaphoreSlim ackSignal, CancellationToken runEnded)
    {
        try
        {
            var data = stdin.Memory;
            var sent = 0;
            while (sent < data.Length)
            {
                while (sent - acked() >= StdinWindow)
                    await ackSignal.WaitAsync(runEnded);
                var n = Math.Min(StdinChunk, data.Length - sent);
                await slot.SendAsync(SupervisorFrame.Stdin, seq, data.Slice(sent, n));
                sent += n;
            }
            await slot.SendAsync(SupervisorFrame.StdinEof, seq, ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception)
        {
            // The run ended first (the program need not read its stdin), or the slot died: nothing to do.
        }
    }

    /// <summary>The supervisor's exit frame.</summary>
    private sealed record SupervisorExit(
        [property: System.Text.Json.Serialization.JsonPropertyName("exit_code")] int ExitCode,
        [property: System.Text.Json.Serialization.JsonPropertyName("truncated")] bool Truncated,
        [property: System.Text.Json.Serialization.JsonPropertyName("output_capped")] bool OutputCapped,
        [property: System.Text.Json.Serialization.JsonPropertyName("oom_killed")] bool OomKilled);
}
