using Grpc.Core;
using PythOn.Api.V1;

namespace PythOn.Client;

public sealed partial class PythOnClient
{
    /// <summary>
    /// Starts an interactive run (Execute.Interact): write to the program's stdin while it runs, close it, send
    /// signals, and read its output as it comes from <see cref="InteractiveRun.Events"/> (chunks, then one result).
    /// Disposing the run before its result cancels the call, which kills the program. Never retried.
    /// </summary>
    /// <param name="request">The program, as for Execute; its <c>stdin</c> is sent first.</param>
    /// <param name="idleTimeoutSeconds">End the run after this long with neither stdin nor output (server default 30).</param>
    /// <param name="cancellationToken">Cancels the call (and kills the run).</param>
    public async Task<InteractiveRun> InteractAsync(ExecuteRequest request, double? idleTimeoutSeconds = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (headers, _) = await AuthHeadersAsync(cancellationToken);
        var call = _execute.Interact(headers, cancellationToken: cancellationToken);
        var start = new InteractStart { Run = request };
        if (idleTimeoutSeconds is { } idle) start.IdleTimeout = idle;
        await call.RequestStream.WriteAsync(new InteractRequest { Start = start }, cancellationToken);
        return new InteractiveRun(call);
    }
}

/// <summary>A running interactive program (see <see cref="PythOnClient.InteractAsync"/>). Writes are sent in order and
/// wait while the program is not reading (back-pressure).</summary>
public sealed class InteractiveRun : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<InteractRequest, ExecuteStreamEvent> _call;
    private readonly SemaphoreSlim _writes = new(1, 1);

    internal InteractiveRun(AsyncDuplexStreamingCall<InteractRequest, ExecuteStreamEvent> call) => _call = call;

    /// <summary>Sends text to the program's stdin.</summary>
    public Task WriteAsync(string text, CancellationToken cancellationToken = default) =>
        SendAsync(new InteractRequest { Stdin = text }, cancellationToken);

    /// <summary>Ends the program's stdin (its next read sees end-of-file).</summary>
    public Task CloseStdinAsync(CancellationToken cancellationToken = default) =>
        SendAsync(new InteractRequest { StdinClose = true }, cancellationToken);

    /// <summary>Sends a signal: interrupt (like Ctrl-C), terminate, or kill.</summary>
    public Task SignalAsync(Signal signal, CancellationToken cancellationToken = default) =>
        SendAsync(new InteractRequest { Signal = signal }, cancellationToken);

    /// <summary>Output chunks as the program produces them, then exactly one result.</summary>
    public async IAsyncEnumerable<ExecuteStreamEvent> Events([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _call.ResponseStream.MoveNext(cancellationToken))
        {
            yield return _call.ResponseStream.Current;
            if (_call.ResponseStream.Current.EventCase == ExecuteStreamEvent.EventOneofCase.Result) yield break;
        }
    }

    private async Task SendAsync(InteractRequest message, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await _call.RequestStream.WriteAsync(message, cancellationToken);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Ends the call; the run stops if it is still going.</summary>
    public ValueTask DisposeAsync()
    {
        _call.Dispose();
        return ValueTask.CompletedTask;
    }
}
