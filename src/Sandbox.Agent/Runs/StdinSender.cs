using PythOn.Sandbox.Agent.Slots;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// The stdin of one run on its way to the supervisor: sent in chunks, never more than <see cref="SlotRun.StdinWindow"/>
/// bytes ahead of what the supervisor has written to the program's pipe (it acknowledges with StdinAck frames), so a
/// program that stops reading pushes back on the sender instead of filling a buffer.
/// </summary>
internal sealed class StdinSender(Slot slot, uint seq, CancellationToken runEnded)
{
    private const int Chunk = 64 * 1024;

    private long _sent;
    private long _acked;
    private readonly SemaphoreSlim _ackSignal = new(0);

    /// <summary>The supervisor's StdinAck: how many bytes it has written to the program's pipe so far.</summary>
    public void Acknowledge(long written)
    {
        Interlocked.Exchange(ref _acked, written);
        _ackSignal.Release();
    }

    /// <summary>Sends <paramref name="data"/>, waiting for acknowledgements whenever the window is full.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            while (_sent - Interlocked.Read(ref _acked) >= SlotRun.StdinWindow)
                await _ackSignal.WaitAsync(runEnded);
            var n = Math.Min(Chunk, data.Length - offset);
            await slot.SendAsync(SupervisorFrame.Stdin, seq, data.Slice(offset, n));
            offset += n;
            _sent += n;
        }
    }

    /// <summary>End of file on the program's stdin.</summary>
    public Task CloseAsync() => slot.SendAsync(SupervisorFrame.StdinEof, seq, ReadOnlyMemory<byte>.Empty);
}
