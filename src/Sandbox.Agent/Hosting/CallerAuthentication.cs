using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>With Agent:AuthToken set, every call over TCP must carry "authorization: Bearer TOKEN" (compared in fixed
/// time); anything else is UNAUTHENTICATED before it reaches a service. Calls on the unix socket are trusted: its file
/// mode (0660) already decides who may connect. The token is never logged.</summary>
public sealed class CallerAuthentication(IOptions<AgentOptions> options) : Interceptor
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(options.Value.AuthToken)
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes("Bearer " + options.Value.AuthToken));

    private void Check(ServerCallContext context)
    {
        if (_expected is null) return;
        // Health probes (kubelet, Docker HEALTHCHECK) carry no token; grpc.health.v1 answers only a status.
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)) return;
        if (context.GetHttpContext().Connection.LocalIpAddress is null) return; // the unix socket
        var given = context.RequestHeaders.GetValue("authorization") ?? "";
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _expected))
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Unauthenticated, "this sandbox agent requires its token: authorization: Bearer TOKEN (Agent:AuthToken)"));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }
}
