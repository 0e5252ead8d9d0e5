using Grpc.Core;
using PythOn.Server.Agents;

namespace PythOn.Server.Tests.Agents;

public sealed class AgentCallFailureTests
{
    [Fact]
    public void An_unavailable_agent_is_unreachable() =>
        Assert.True(new RpcException(new Status(StatusCode.Unavailable, "connection refused")).AgentUnreachable());

    [Fact]
    public void An_internal_status_from_a_failed_http2_handshake_means_the_agent_was_not_reached() =>
        Assert.True(new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.",
            new HttpRequestException("An HTTP/2 connection could not be established"))).AgentUnreachable());

    [Fact]
    public void An_internal_status_the_agent_answered_is_not_a_failure_to_reach_it() =>
        Assert.False(new RpcException(new Status(StatusCode.Internal, "the agent failed")).AgentUnreachable());

    [Fact]
    public void An_agent_that_refused_the_run_was_reached() =>
        Assert.False(new RpcException(new Status(StatusCode.ResourceExhausted, "every slot is busy")).AgentUnreachable());
}
