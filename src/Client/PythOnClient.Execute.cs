using System.Runtime.CompilerServices;
using Grpc.Core;
using PythOn.Api.V1;

namespace PythOn.Client;

// Execute and ExecuteStream (interactive runs: PythOnClient.Interact.cs).
public sealed partial class PythOnClient
{
    /// <summary>Runs a program to completion (Execute.Execute). Not retried.</summary>
    /// <param name="request">Code, language, stdin, arguments, timeout, environment.</param>
    /// <param name="cancellationToken">Cancels the call (the server then stops the run).</param>
    /// <returns>Output, error output, exit code and run facts.</returns>
    public Task<ExecuteResponse> ExecuteAsync(ExecuteRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _execute.ExecuteAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Runs <paramref name="code"/> in <paramref name="language"/> to completion (Execute.Execute). Not retried.</summary>
    /// <param name="code">The program text.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output, exit code and run facts.</returns>
    public Task<ExecuteResponse> ExecuteAsync(string code, string language, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new ExecuteRequest { Code = code ?? throw new ArgumentNullException(nameof(code)), Language = language ?? throw new ArgumentNullException(nameof(language)) },
            cancellationToken);

    /// <summary>
    /// Runs a program and yields its output as it is produced (Execute.ExecuteStream): any number of events with
    /// <see cref="ExecuteStreamEvent.Chunk"/> set, then exactly one with <see cref="ExecuteStreamEvent.Result"/>.
    /// Not retried. Stopping the enumeration or cancelling ends the call and the run.
    /// </summary>
    /// <param name="request">Code, language, stdin, arguments, timeout, environment.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stream of events.</returns>
    public async IAsyncEnumerable<ExecuteStreamEvent> ExecuteStreamAsync(ExecuteRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (headers, used) = await AuthHeadersAsync(cancellationToken);
        var call = _execute.ExecuteStream(request, headers, cancellationToken: cancellationToken);
        try
        {
            bool more;
            try
            {
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && CanRefresh(used))
            {
                // Refused before anything ran: renew the token and start the run once more.
                call.Dispose();
                await RefreshAfterRejectionAsync(used, cancellationToken);
                (headers, _) = await AuthHeadersAsync(cancellationToken);
                call = _execute.ExecuteStream(request, headers, cancellationToken: cancellationToken);
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
            while (more)
            {
                yield return call.ResponseStream.Current;
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
        }
        finally
        {
            call.Dispose();
        }
    }
}
