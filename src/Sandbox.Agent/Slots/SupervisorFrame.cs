using System.Buffers.Binary;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// One frame of the agent ↔ supervisor protocol (runtime/README.md): type (1 byte), run sequence number (4, big
/// endian), payload length (4), payload. The agent writes frames to the slot's stdin and reads them from its
/// stdout; the supervisor's stderr carries only its own diagnostics.
/// </summary>
public readonly record struct SupervisorFrame(byte Type, uint Seq, byte[] Payload)
{
    public const int HeaderSize = 9;
    /// <summary>Largest payload either side accepts (a job is at most Limits.MaxJobBytes, checked before).</summary>
    public const int MaxPayload = 32 << 20;

    // Agent → supervisor.
    public const byte Job = (byte)'J';
    public const byte Stdin = (byte)'I';
    public const byte StdinEof = (byte)'E';
    public const byte Signal = (byte)'S';

    // Supervisor → agent.
    public const byte Ready = (byte)'R';
    public const byte Stdout = (byte)'O';
    public const byte Stderr = (byte)'e';
    public const byte Zk = (byte)'Z';
    public const byte StdinAck = (byte)'A';
    public const byte Exit = (byte)'X';
    public const byte Fatal = (byte)'F';

    public static byte[] Encode(byte type, uint seq, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderSize + payload.Length];
        frame[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), seq);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }
}

/// <summary>Cuts the supervisor's stdout byte stream into frames.</summary>
public sealed class SupervisorFrameReader
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _count;

    /// <summary>Takes the next bytes of the stream and returns the frames they complete.</summary>
    public List<SupervisorFrame> Feed(ReadOnlySpan<byte> data)
    {
        if (_count + data.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + data.Length));
        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;

        var frames = new List<SupervisorFrame>();
        var offset = 0;
        while (_count - offset >= SupervisorFrame.HeaderSize)
        {
            var header = _buffer.AsSpan(offset, SupervisorFrame.HeaderSize);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header[5..]);
            if (length > SupervisorFrame.MaxPayload)
                throw new InvalidDataException($"supervisor frame of {length} bytes");
            if (_count - offset < SupervisorFrame.HeaderSize + length)
                break;
            var payload = _buffer.AsSpan(offset + SupervisorFrame.HeaderSize, (int)length).ToArray();
            frames.Add(new SupervisorFrame(header[0], BinaryPrimitives.ReadUInt32BigEndian(header[1..]), payload));
            offset += SupervisorFrame.HeaderSize + (int)length;
        }
        _buffer.AsSpan(offset, _count - offset).CopyTo(_buffer);
        _count -= offset;
        if (_count == 0 && _buffer.Length > 1 << 20)
            _buffer = new byte[64 * 1024];
        return frames;
    }
}
