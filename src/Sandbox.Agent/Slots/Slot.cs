using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>What a slot is doing, as health and agent status show it.</summary>
public enum SlotState
{
    Starting,
    Idle,
    Busy,
    Recycling,
}

/// <summary>
/// A long-lived hardened container whose supervisor serves runs one at a time, each in a fresh run sandbox
/// (runtime/README.md). Owns the supervisor's connection (<see cref="SupervisorSocket"/>): one reader loop cuts it into
/// frames and hands those of the current run to it; writes are serialised.
/// </summary>
public sealed class Slot
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SupervisorFrameReader _frames = new();
    private readonly ILogger _log;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Channel<SupervisorFrame>? _run;
    private uint _runSeq;
    private uint _nextSeq;
    private int _state = (int)SlotState.Starting;
    private readonly SupervisorSocket _socket;
    private readonly NetworkStream _supervisor;
    private string? _fatal;
    private string? _broken;

    public Slot(string id, LanguageRuntime language, int uidIndex, int memoryMb, SupervisorSocket socket, Socket supervisor,
        SupervisorDiagnostics diagnostics, ILogger log)
    {
        _socket = socket;
        Id = id;
        Language = language;
        UidIndex = uidIndex;
        MemoryMb = memoryMb;
        _supervisor = new NetworkStream(supervisor, ownsSocket: true);
        Diagnostics = diagnostics;
        _log = log;
        Reading = Task.Run(ReadLoopAsync);
    }

    /// <summary>Frames of a run held between the slot's stream and the run (each at most 64 KiB of output).</summary>
    public const int FramesInFlight = 32;

    public string Id { get; }
    public string ShortId => DockerHost.Short(Id);
    public LanguageRuntime Language { get; }
    public int UidIndex { get; }
    /// <summary>The container's memory limit now (a run with its own limit changes it for that run).</summary>
    public int MemoryMb { get; set; }
    /// <summary>What the supervisor wrote to its own stdout and stderr (never run data).</summary>
    public SupervisorDiagnostics Diagnostics { get; }
    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;
    public int RunsServed { get; private set; }
    public SlotState State { get => (SlotState)Volatile.Read(ref _state); set => Volatile.Write(ref _state, (int)value); }

    /// <summary>Completes when the supervisor's connection ends: the slot is dead.</summary>
    public Task Reading { get; }

    /// <summary>The supervisor's last words (a fatal frame or a broken connection, and what it wrote to its stderr),
    /// for logs and errors; never run data.</summary>
    public string? DeathNote => (_fatal ?? _broken, Diagnostics.Text) switch
    {
        (null, var text) => text,
        (var last, null) => last,
        (var last, var text) => $"{last}: {text}",
    };

    public bool IsDead => Reading.IsCompleted;

    /// <summary>When the current run sandbox became ready (the supervisor's ready frame).</summary>
    public DateTime ReadySinceUtc { get; private set; } = DateTime.UtcNow;

    /// <summary>How long the supervisor took to prepare the current run sandbox (since the slot's start or the last run's exit).</summary>
    public TimeSpan PreparedIn { get; private set; }

    private DateTime _preparingSinceUtc = DateTime.UtcNow;

    /// <summary>Completes when the supervisor has a fresh run sandbox waiting for a job.</summary>
    public Task WhenReady => _ready.Task;

    /// <summary>Starts a run: its frames (output, ZK status, stdin acks, exit) go to the returned reader until the
    /// exit frame, which is the last. If the slot dies first, the reader completes without an exit frame.</summary>
    public (uint Seq, ChannelReader<SupervisorFrame> Frames) BeginRun()
    {
        // Bounded: a caller that stops reading stops this slot's reader, then the supervisor, then the program (its pipe
        // fills), instead of growing a buffer here.
        var channel = Channel.CreateBounded<SupervisorFrame>(new BoundedChannelOptions(FramesInFlight)
        {
            SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });
        lock (_frames)
        {
            _runSeq = ++_nextSeq;
            _run = channel;
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            RunsServed++;
        }
        if (IsDead)
            channel.Writer.TryComplete();
        return (_runSeq, channel.Reader);
    }

    public async Task SendAsync(byte type, uint seq, ReadOnlyMemory<byte> payload)
    {
        var frame = SupervisorFrame.Encode(type, seq, payload.Span);
        await _writeLock.WaitAsync();
        try
        {
            await _supervisor.WriteAsync(frame, CancellationToken.None);
        }
        finally
        {
            _writeLock.Release();
            if (type == SupervisorFrame.Job || type == SupervisorFrame.Stdin)
                Array.Clear(frame); // code, env (secrets), stdin
        }
    }

    /// <summary>Closes the supervisor's connection (it exits when it sees the end), the diagnostics stream and the
    /// socket's file.</summary>
    public void Close()
    {
        _supervisor.Dispose();
        Diagnostics.Dispose();
        _socket.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var count = await _supervisor.ReadAsync(buffer, CancellationToken.None);
                if (count == 0)
                    break;
                foreach (var frame in _frames.Feed(buffer.AsSpan(0, count)))
                    if (Route(frame) is { } run)
                    {
                        try
                        {
                            await run.Writer.WriteAsync(frame);
                        }
                        catch (ChannelClosedException)
                        {
                            // the run stopped listening (it ended); the frame is dropped
                        }
                        if (frame.Type == SupervisorFrame.Exit)
                            run.Writer.TryComplete();
                    }
            }
        }
        catch (Exception e)
        {
            _broken = e.Message;
        }
        finally
        {
            lock (_frames)
                _run?.Writer.TryComplete();
            _ready.TrySetException(new SlotDiedException(this));
        }
    }

    /// <summary>The run a frame belongs to, or null for the slot's own frames and late frames of ended runs.</summary>
    private Channel<SupervisorFrame>? Route(SupervisorFrame frame)
    {
        switch (frame.Type)
        {
            case SupervisorFrame.Ready:
                lock (_frames)
                {
                    ReadySinceUtc = DateTime.UtcNow;
                    PreparedIn = ReadySinceUtc - _preparingSinceUtc;
                    _ready.TrySetResult();
                }
                return null;
            case SupervisorFrame.Fatal:
                _fatal = Encoding.UTF8.GetString(frame.Payload);
                _log.LogWarning("Slot {Id} supervisor: {Message}", ShortId, _fatal);
                return null;
        }
        lock (_frames)
        {
            if (_run is null || frame.Seq != _runSeq)
                return null;
            var run = _run;
            if (frame.Type == SupervisorFrame.Exit)
            {
                _run = null;
                _preparingSinceUtc = DateTime.UtcNow; // the supervisor now prepares the next run sandbox
            }
            return run;
        }
    }
}

/// <summary>A slot's supervisor ended (the container died, was removed or its stream broke).</summary>
public sealed class SlotDiedException(Slot slot) : Exception($"slot {slot.ShortId} died{(slot.DeathNote is { } n ? ": " + n : "")}");
