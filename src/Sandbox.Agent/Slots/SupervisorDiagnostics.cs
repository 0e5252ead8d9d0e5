using System.Text;
using Docker.DotNet;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// A slot's own output through dockerd's attach stream: only what the supervisor (or a supervisor that never got
/// going) writes to its stdout and stderr — never run data, which travels in frames over the
/// <see cref="SupervisorSocket"/>. Kept short, for the logs and for the error of a slot that died.
/// </summary>
public sealed class SupervisorDiagnostics : IDisposable
{
    private const int MaxChars = 2048;
    private readonly MultiplexedStream _stream;
    private readonly StringBuilder _text = new();

    public SupervisorDiagnostics(MultiplexedStream stream)
    {
        _stream = stream;
        Ended = Task.Run(ReadAsync);
    }

    /// <summary>Completes when the stream ends: the container's processes are gone (or the agent closed it).</summary>
    public Task Ended { get; }

    /// <summary>What the supervisor wrote so far, trimmed; null if nothing.</summary>
    public string? Text
    {
        get
        {
            lock (_text)
                return _text.Length == 0 ? null : _text.ToString().Trim();
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await _stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
                if (read.EOF)
                    return;
                lock (_text)
                    if (_text.Length < MaxChars)
                        _text.Append(Encoding.UTF8.GetString(buffer, 0, Math.Min(read.Count, MaxChars - _text.Length)));
            }
        }
        catch (Exception)
        {
            // the stream broke or was closed under the reader: the slot is being removed
        }
    }

    public void Dispose() => _stream.Dispose();
}
