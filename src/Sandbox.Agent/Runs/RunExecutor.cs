using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Docker.DotNet;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Pool;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// Runs one program: takes a sandbox (warm, or created on demand), hands it the job on stdin, streams its
/// output with a per-stream cap, enforces the wall-clock limit with SIGKILL, reports the exit status as soon
/// as the program ends and removes the container off the request path.
/// Runs end on the runner's end marker (runtime/README.md), keyed by a per-run secret, so the result does not wait
/// for the container (docker-init, runc, shim) to wind down; runs without a marker (killed by a signal: 137 is an
/// OOM kill or ours, which needs inspect; an uncaught JavaScript exception) end when the streams close.
/// </summary>
public sealed class RunExecutor(
    IOptions<AgentOptions> options,
    WarmPool pool,
    SandboxFactory factory,
    SlotAllocator slots,
    DockerHost docker,
    PackageStore packages,
    ILogger<RunExecutor> log)
{
    private static readonly byte[] ZkOk = "\0pyth-on-zk ok"u8.ToArray();
    private const int EndKeyBytes = 16;
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);
    private const int MaxPackageStores = 8;
    private int _active;

    public int ActiveRuns => Volatile.Read(ref _active);

    public async Task RunAsync(RunRequest request, Func<RunEvent, Task> emit, CancellationToken ct)
    {
        var (language, timeout, cap, memoryMb) = Validate(request);
        await pool.Initialized.WaitAsync(ct);

        var acquire = Stopwatch.StartNew();
        var sandbox = await AcquireAsync(language, memoryMb, ct);
        var acquireUs = (ulong)(acquire.Elapsed.TotalMicroseconds);
        Interlocked.Increment(ref _active);
        try
        {
            await emit(new RunEvent { Started = new RunStarted { SandboxId = sandbox.Id, Warm = sandbox.Warm } });
            var result = await ExecuteAsync(sandbox, request, timeout, cap, emit, ct);
            result.Timings.AcquireUs = acquireUs;
            log.LogInformation(
                "Run {RunId} {Language} in {SandboxContainer} ({Warm}): exit {Exit} after {Ms} ms{TimedOut}{Truncated}{Oom}{Zk}",
                request.RunId, language.Name, sandbox.ShortId, sandbox.Warm ? "warm" : "cold", result.ExitCode, result.DurationMs,
                result.TimedOut ? ", timed out" : "", result.OutputTruncated ? ", output truncated" : "",
                result.OomKilled ? ", OOM killed" : "", result.ZkDecryptionFailed ? ", ZK decryption failed" : "");
            await emit(new RunEvent { Result = result });
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            factory.DestroyInBackground(sandbox);
        }
    }

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

    private async Task<SandboxContainer> AcquireAsync(LanguageRuntime language, int memoryMb, CancellationToken ct)
    {
        // Warm sandboxes have the default memory limit; an override always gets its own container.
        if (memoryMb == options.Value.Limits.MemoryMb
            && await pool.TakeAsync(language, TimeSpan.FromMilliseconds(options.Value.Pool.WarmWaitMs), ct) is { } warm)
            return warm;

        var slot = await slots.AcquireAsync(TimeSpan.FromMilliseconds(options.Value.Pool.AcquireTimeoutMs), ct)
            ?? throw new RunRejectedException(RunRejection.ResourceExhausted,
                $"all {options.Value.Pool.MaxSandboxes} sandbox slots are busy; try again later");
        try
        {
            return await factory.CreateAsync(language, slot, memoryMb, warm: false, ct);
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new RunRejectedException(RunRejection.Unavailable,
                $"runtime image '{options.Value.Image}' not found; build it with scripts/build-runtime-image.sh");
        }
        catch (DockerApiException e)
        {
            throw new RunRejectedException(RunRejection.Unavailable, $"Docker refused to create a sandbox: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            throw new RunRejectedException(RunRejection.Unavailable,
                $"Docker engine at {options.Value.DockerEndpoint} is not reachable: {e.Message}");
        }
        catch (RunnerNotReadyException e)
        {
            throw new RunRejectedException(RunRejection.Unavailable, $"the sandbox did not start: {e.Message}");
        }
    }

    private async Task<RunResult> ExecuteAsync(SandboxContainer sandbox, RunRequest request, TimeSpan timeout, int cap,
        Func<RunEvent, Task> emit, CancellationToken ct)
    {
        var events = Channel.CreateUnbounded<RunEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var timedOut = false;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Kill()
        {
            if (killed.TrySetResult())
                _ = factory.KillAsync(sandbox);
        }

        var endKey = RandomNumberGenerator.GetBytes(EndKeyBytes);
        var clock = Stopwatch.StartNew();
        var frame = JobEncoder.Encode(request, endKey);
        var writer = WriteJobAsync(sandbox, frame);
        var pump = new OutputPump(sandbox.Stream, cap, request.Zk is not null, EndMarker.TokenFor(endKey), clock);
        var pumping = pump.RunAsync(events.Writer);

        using var timer = new CancellationTokenSource(timeout);
        using var onTimeout = timer.Token.Register(() => { timedOut = true; Kill(); });
        using var onCancel = ct.Register(Kill);
        // Last resort: a stream that does not end after the kill is closed, so the run cannot hang.
        _ = killed.Task.ContinueWith(async _ =>
        {
            if (await Task.WhenAny(pumping, Task.Delay(KillGrace)) != pumping)
            {
                log.LogWarning("Sandbox {Id} output did not end {Grace} after SIGKILL; closing the stream", sandbox.ShortId, KillGrace);
                sandbox.Stream.Dispose();
            }
        }, TaskScheduler.Default);

        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None))
                await emit(e);
        }
        catch
        {
            Kill(); // the caller is gone; the pump drains until the container dies
            throw;
        }

        int exitCode;
        bool oomKilled;
        ulong programUs, exitUs;
        if (pump.EndCode is >= 0 and < 128 and var endCode && !Volatile.Read(ref timedOut) && !ct.IsCancellationRequested)
        {
            // The runner reported a normal exit on both streams: all output is in. The container is still
            // winding down; the caller's DestroyInBackground kills and removes it, which also ends the
            // pump's draining and the job writer.
            programUs = (ulong)clock.Elapsed.TotalMicroseconds;
            exitCode = endCode;
            oomKilled = false;
            exitUs = 0;
        }
        else
        {
            await pumping;
            programUs = (ulong)clock.Elapsed.TotalMicroseconds;
            await writer;
            ct.ThrowIfCancellationRequested();

            var exitClock = Stopwatch.StartNew();
            try
            {
                (exitCode, oomKilled) = await ExitStatusAsync(sandbox);
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or OperationCanceledException)
            {
                throw new RunRejectedException(RunRejection.Unavailable, $"lost track of sandbox {sandbox.ShortId}: {e.Message}");
            }
            exitUs = (ulong)exitClock.Elapsed.TotalMicroseconds;
        }
        CryptographicOperations.ZeroMemory(endKey);

        var result = new RunResult
        {
            ExitCode = exitCode,
            TimedOut = timedOut,
            OutputTruncated = pump.Truncated,
            OomKilled = oomKilled && !timedOut,
            DurationMs = (uint)(programUs / 1000),
            ZkDecryptionFailed = request.Zk is not null && pump.ZkStatus is not null && !pump.ZkStatus.AsSpan().SequenceEqual(ZkOk),
            Warm = sandbox.Warm,
            SandboxId = sandbox.Id,
            Timings = new RunTimings
            {
                FirstOutputUs = pump.FirstOutputUs,
                ProgramUs = programUs,
                ExitStatusUs = exitUs,
            },
        };
        if (timedOut)
            result.ExitCode = 137;
        return result;
    }

    private async Task WriteJobAsync(SandboxContainer sandbox, byte[] frame)
    {
        try
        {
            await sandbox.Stream.WriteAsync(frame, 0, frame.Length, CancellationToken.None);
            sandbox.Stream.CloseWrite(); // EOF on the program's stdin
        }
        catch (Exception e)
        {
            // The program may end without reading all of its stdin; that is its business.
            log.LogDebug("Writing the job to {Id} stopped: {Error}", sandbox.ShortId, e.Message);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(frame);
        }
    }

    private async Task<(int ExitCode, bool OomKilled)> ExitStatusAsync(SandboxContainer sandbox)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var wait = await docker.Client.Containers.WaitContainerAsync(sandbox.Id, deadline.Token);
        var exitCode = (int)wait.StatusCode;
        var oom = false;
        if (exitCode == 137)
        {
            // Only an OOM kill and our own SIGKILL give 137; inspect tells them apart.
            var inspect = await docker.Client.Containers.InspectContainerAsync(sandbox.Id, deadline.Token);
            oom = inspect.State.OOMKilled;
        }
        return (exitCode, oom);
    }

    /// <summary>Reads the attach stream to its end, forwarding at most <c>cap</c> bytes per stream and discarding
    /// the rest (a reader that stops made `docker kill` and even `docker inspect` hang). With an end token, the
    /// events complete as soon as the end marker was seen on both streams; reading (and discarding) goes on
    /// until the stream ends or is closed.</summary>
    private sealed class OutputPump(MultiplexedStream stream, int cap, bool zk, byte[] endToken, Stopwatch clock)
    {
        private long _stdout;
        private long _stderr;
        private List<byte>? _zkLine = zk ? [] : null;
        private readonly EndMarker _stdoutEnd = new(endToken);
        private readonly EndMarker _stderrEnd = new(endToken);

        public bool Truncated { get; private set; }
        public ulong FirstOutputUs { get; private set; }
        public byte[]? ZkStatus { get; private set; }

        /// <summary>The program's exit code from the runner's end marker, when both streams carried the same one.</summary>
        public int? EndCode => _stdoutEnd.Code is { } o && _stderrEnd.Code is { } e && o == e ? o : null;

        public async Task RunAsync(ChannelWriter<RunEvent> events)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (true)
                {
                    MultiplexedStream.ReadResult read;
                    try
                    {
                        read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
                    }
                    catch (Exception)
                    {
                        break; // the stream was closed as a last resort after a kill
                    }
                    if (read.EOF)
                        break;
                    var data = buffer.AsMemory(0, read.Count);
                    var isStdout = read.Target == MultiplexedStream.TargetStream.StandardOut;
                    if (isStdout && _zkLine is not null)
                        data = ConsumeZkLine(data);
                    if (data.IsEmpty)
                        continue;
                    data = (isStdout ? _stdoutEnd : _stderrEnd).Feed(data);
                    Send(events, data.Span, isStdout);
                    if (_stdoutEnd.Done && _stderrEnd.Done)
                        events.TryComplete(); // the program ended; what follows is discarded
                }
                // Bytes held back as a possible start of the marker were the program's after all.
                if (!_stdoutEnd.Done)
                    Send(events, _stdoutEnd.Flush().Span, isStdout: true);
                if (!_stderrEnd.Done)
                    Send(events, _stderrEnd.Flush().Span, isStdout: false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                events.TryComplete();
            }
        }

        private void Send(ChannelWriter<RunEvent> events, ReadOnlySpan<byte> data, bool isStdout)
        {
            if (data.IsEmpty)
                return;
            if (FirstOutputUs == 0)
                FirstOutputUs = Math.Max(1, (ulong)clock.Elapsed.TotalMicroseconds);
            if (isStdout)
                Forward(events, data, OutputStream.Stdout, ref _stdout);
            else
                Forward(events, data, OutputStream.Stderr, ref _stderr);
        }

        private void Forward(ChannelWriter<RunEvent> events, ReadOnlySpan<byte> data, OutputStream target, ref long sent)
        {
            var room = Math.Max(0, cap - sent);
            var take = (int)Math.Min(room, data.Length);
            if (take > 0)
                events.TryWrite(new RunEvent { Chunk = new OutputChunk { Stream = target, Data = ByteString.CopyFrom(data[..take]) } });
            if (data.Length > take)
                Truncated = true;
            sent += take;
        }

        // A ZK job's first stdout line comes from the runner (decryption status), not from the program.
        private Memory<byte> ConsumeZkLine(Memory<byte> data)
        {
            var span = data.Span;
            var newline = span.IndexOf((byte)'\n');
            var end = newline < 0 ? span.Length : newline;
            _zkLine!.AddRange(span[..end].ToArray());
            if (newline < 0 && _zkLine.Count < 64)
                return Memory<byte>.Empty;
            ZkStatus = _zkLine.ToArray();
            _zkLine = null;
            return newline < 0 ? Memory<byte>.Empty : data[(newline + 1)..];
        }
    }

    /// <summary>Finds the runner's end marker <c>\0pyth-on-end &lt;key hex&gt; &lt;code&gt;\n</c> in one output stream.
    /// Bytes that might begin the marker are held back until they are known; the marker and anything after it
    /// are never forwarded. Only the runner holds the key, so the program cannot forge the marker.</summary>
    internal sealed class EndMarker(byte[] token)
    {
        private const int MaxCodeBytes = 16;
        private byte[] _pending = [];
        private List<byte>? _tail;

        public bool Done { get; private set; }
        public int? Code { get; private set; }

        public static byte[] TokenFor(byte[] key) =>
            Encoding.ASCII.GetBytes("\0pyth-on-end " + Convert.ToHexStringLower(key) + " ");

        /// <summary>Takes the next bytes of the stream; returns those that are the program's output.</summary>
        public Memory<byte> Feed(Memory<byte> data)
        {
            if (Done)
                return Memory<byte>.Empty;
            if (_tail is not null)
            {
                ReadCode(data.Span);
                return Memory<byte>.Empty;
            }
            if (_pending.Length > 0)
            {
                var joined = new byte[_pending.Length + data.Length];
                _pending.CopyTo(joined, 0);
                data.CopyTo(joined.AsMemory(_pending.Length));
                data = joined;
                _pending = [];
            }
            var span = data.Span;
            var at = span.IndexOf(token);
            if (at >= 0)
            {
                _tail = [];
                ReadCode(span[(at + token.Length)..]);
                return data[..at];
            }
            var keep = Math.Min(token.Length - 1, span.Length);
            while (keep > 0 && !span[^keep..].SequenceEqual(token.AsSpan(0, keep)))
                keep--;
            if (keep > 0)
                _pending = span[^keep..].ToArray();
            return data[..^keep];
        }

        /// <summary>At the end of the stream: the bytes held back, which were not a marker.</summary>
        public Memory<byte> Flush()
        {
            var rest = _pending;
            _pending = [];
            return rest;
        }

        private void ReadCode(ReadOnlySpan<byte> data)
        {
            var newline = data.IndexOf((byte)'\n');
            _tail!.AddRange((newline < 0 ? data : data[..newline]).ToArray());
            if (newline < 0 && _tail.Count <= MaxCodeBytes)
                return;
            Done = true;
            var digits = _tail.ToArray();
            if (newline >= 0 && digits.Length is > 0 and <= 3 && digits.All(b => b is >= (byte)'0' and <= (byte)'9'))
                Code = int.Parse(Encoding.ASCII.GetString(digits), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
