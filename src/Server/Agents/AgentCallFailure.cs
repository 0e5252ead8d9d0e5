using Grpc.Core;

namespace PythOn.Server.Agents;

/// <summary>How a failed call to an agent is read: whether the agent could not be reached at all, so the call can go to
/// the next agent and this one leaves the rotation until it answers again.</summary>
public static class AgentCallFailure
{
    /// <summary>UNAVAILABLE, or a call whose HTTP/2 connection failed before any answer: SocketsHttpHandler sometimes
    /// reports a connection the agent closed during the HTTP/2 handshake (a TLS refusal, a cleartext caller) without
    /// the IOException inside it, and Grpc.Net.Client then maps it to INTERNAL.</summary>
    public static bool AgentUnreachable(this RpcException e) =>
        e.StatusCode == StatusCode.Unavailable
        || e.StatusCode == StatusCode.Internal && e.Status.DebugException is HttpRequestException;
}
