using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// One run in one slot, over the supervisor's frame protocol (runtime/README.md): sends the job and the stdin (from
/// the request, or from an interactive caller as it comes, never more than <see cref="StdinWindow"/> ahead of the
/// program), streams the output frames as events, kills the run at its timeout, idle limit or stdin cap or when the
/// caller goes away, and reports the supervisor's result: the exit status it took from waitpid of the run's init,
/// outside the run's namespaces, so the program cannot forge it. The supervisor itself stops the program at the
/// output cap.
/// </summary>
public sealed class SlotRun(Slot slot, SlotFactory factory, PoolOptions pool, ILogger log)
{
    /// <summary>Stdin bytes sent but not yet written to the program's pipe: the supervisor never holds more.</summary>
    public const long StdinWindow = 1 << 20;

    private uint _seq;
    private int _killRequested;
    private string? _anomaly;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private readonly CancellationTokenSource _ended = new();
    private StdinSender _stdin = null!;
    private bool _timedOut, _idleTimedOut, _stdinCapped;

    public async Task<(RunResult Result, string? Anomaly, bool CallerGone)> ExecuteAsync(RunRequest request, TimeSpan timeout, int cap,
        TimeSpan? idle, long stdinCap, IAsyncStreamReader<InteractRequest>? interactive, Func<RunEvent, Task> emit, CancellationToken ct)
    {
        var (seq, frames) = slot.BeginRun();
        _seq = seq;
        _stdin = new StdinSender(slot, seq, _ended.Token);
        var clock = Stopwatch.StartNew();

        var payload = JobEncoder.Encode(request, cap);
        try
        {
            await slot.SendAsync(SupervisorFrame.Job, seq, payload);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
        var stdin = interactive is null
            ? SendStdinAsync(request.Stdin.Memory, close: true)
            : PumpInteractiveAsync(request.Stdin, interactive, stdinCap);

        using var timer = new CancellationTokenSource(timeout);
        using var onTimeout = timer.Token.Register(() => { _timedOut = true; Kill(); });
        using var onCancel = ct.Register(Kill);
        var idleWatch = idle is { } limit ? WatchIdleAsync(limit) : Task.CompletedTask;

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
                    Touch();
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
                    _stdin.Acknowledge((long)BinaryPrimitives.ReadUInt64BigEndian(frame.Payload));
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
        _ended.Cancel();
        await stdin;
        await idleWatch;

        var result = new RunResult
        {
            TimedOut = _timedOut,
            IdleTimedOut = _idleTimedOut && !_timedOut,
            StoppedAtStdinCap = _stdinCapped && !_timedOut && !_idleTimedOut,
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
            _anomaly ??= "it died during the run";
            var oom = await factory.DiedOfOomAsync(slot);
            log.LogWarning("Slot {Id} died during run {RunId}{Oom}: {Note}", slot.ShortId, request.RunId, oom ? " (OOM)" : "", slot.DeathNote ?? "no message");
            result.ExitCode = 137;
            result.OomKilled = oom && !_timedOut;
            result.ZkDecryptionFailed = false;
            return (result, _anomaly, callerGone);
        }
        var killedByUs = _timedOut || result.IdleTimedOut || result.StoppedAtStdinCap;
        result.ExitCode = killedByUs ? 137 : exit.ExitCode;
        result.OomKilled = exit.OomKilled && !killedByUs;
        result.OutputTruncated = exit.Truncated;
        result.StoppedAtOutputCap = exit.OutputCapped && !killedByUs;
        return (result, _anomaly, callerGone);
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

    /// <summary>Kills the run (its init, so its whole pid namespace). A run still alive after Pool:KillGraceMs
    /// is an anomaly: the slot is killed, which ends the run too.</summary>
    private void Kill() => Signal(9);

    private void Signal(byte signal)
    {
        if (signal == 9 && Interlocked.Exchange(ref _killRequested, 1) != 0)
            return;
        _ = slot.SendAsync(SupervisorFrame.Signal, _seq, new[] { signal }).ContinueWith(_ => { }, TaskScheduler.Default);
        if (signal != 9)
            return;
        _ = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(100, pool.KillGraceMs)), _ended.Token).ContinueWith(t =>
        {
            if (t.IsCanceled)
                return;
            _anomaly = "the run did not end after SIGKILL";
            log.LogWarning("Slot {Id}: run not dead {Grace} ms after the kill; removing the slot", slot.ShortId, pool.KillGraceMs);
            _ = factory.KillAsync(slot);
        }, TaskScheduler.Default);
    }

    private async Task WatchIdleAsync(TimeSpan limit)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(limit.TotalMilliseconds / 4, 20, 500));
        try
        {
            while (true)
            {
                await Task.Delay(tick, _ended.Token);
                if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity)) > limit)
                {
                    _idleTimedOut = true;
                    Kill();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends stdin in chunks, never more than <see cref="StdinWindow"/> ahead of what the supervisor has
    /// written to the program's pipe; then end-of-file when <paramref name="close"/>.</summary>
    private async Task SendStdinAsync(ReadOnlyMemory<byte> data, bool close)
    {
        try
        {
            await _stdin.SendAsync(data);
            if (close)
                await _stdin.CloseAsync();
        }
        catch (Exception)
        {
            // The run ended first (the program need not read its stdin), or the slot died: nothing to do.
        }
    }

    /// <summary>An interactive caller's messages, read only as fast as the program takes its stdin (the window), so
    /// a program that stops reading pushes back on the caller instead of filling a buffer.</summary>
    private async Task PumpInteractiveAsync(ByteString initial, IAsyncStreamReader<InteractRequest> requests, long stdinCap)
    {
        try
        {
            long total = initial.Length;
            await _stdin.SendAsync(initial.Memory);
            var closed = false;
            while (await requests.MoveNext(_ended.Token))
            {
                Touch();
                var message = requests.Current;
                switch (message.InputCase)
                {
                    case InteractRequest.InputOneofCase.Stdin when !closed:
                        total += message.Stdin.Length;
                        if (total > stdinCap)
                        {
                            _stdinCapped = true;
                            Kill();
                            return;
                        }
                        await _stdin.SendAsync(message.Stdin.Memory);
                        break;
                    case InteractRequest.InputOneofCase.StdinClose when !closed:
                        closed = true;
                        await _stdin.CloseAsync();
                        break;
                    case InteractRequest.InputOneofCase.Signal:
                        Signal(message.Signal switch
                        {
                            V1.Signal.Interrupt => 2,
                            V1.Signal.Terminate => 15,
                            _ => 9,
                        });
                        break;
                }
            }
            // The caller half-closed its side: no more stdin.
            if (!closed)
                await _stdin.CloseAsync();
        }
        catch (Exception)
        {
            // The run ended (or the caller went away, which cancels the call and kills the run).
        }
    }
}
