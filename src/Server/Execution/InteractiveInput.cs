using Grpc.Core;
using PythOn.Api.V1;
using AgentInteract = PythOn.Sandbox.V1.InteractRequest;
using AgentSignal = PythOn.Sandbox.V1.Signal;

namespace PythOn.Server.Execution;

/// <summary>
/// The caller's side of an interactive run after its start: stdin text, stdin end and signals, from a gRPC stream or
/// a WebSocket (<paramref name="next"/> returns null when the caller has no more). Each message is passed to the agent
/// as it comes, and the next one is read only when the agent has taken it, so a program that stops reading its stdin
/// pushes back on the caller (HTTP/2 or WebSocket flow control) instead of filling a buffer here.
/// </summary>
public sealed class InteractiveInput(Func<CancellationToken, Task<InteractRequest?>> next, TimeSpan idleTimeout)
{
    public TimeSpan IdleTimeout { get; } = idleTimeout;

    public async Task PumpAsync(IClientStreamWriter<AgentInteract> agent, CancellationToken runEnded)
    {
        try
        {
            while (await next(runEnded) is { } message)
            {
                var forward = message.InputCase switch
                {
                    InteractRequest.InputOneofCase.Stdin => new AgentInteract { Stdin = Google.Protobuf.ByteString.CopyFromUtf8(message.Stdin) },
                    InteractRequest.InputOneofCase.StdinClose => new AgentInteract { StdinClose = true },
                    InteractRequest.InputOneofCase.Signal => new AgentInteract
                    {
                        Signal = message.Signal switch
                        {
                            Signal.Interrupt => AgentSignal.Interrupt,
                            Signal.Terminate => AgentSignal.Terminate,
                            _ => AgentSignal.Kill,
                        },
                    },
                    _ => null, // a second start is ignored
                };
                if (forward is not null)
                    await agent.WriteAsync(forward, runEnded);
            }
            await agent.CompleteAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException or IOException)
        {
            // The run ended, or the caller went away (which cancels the call and so kills the run).
        }
    }

    /// <summary>Reads messages from a gRPC client stream.</summary>
    public static Func<CancellationToken, Task<InteractRequest?>> From(IAsyncStreamReader<InteractRequest> stream) =>
        async ct => await stream.MoveNext(ct) ? stream.Current : null;
}
