using Grpc.Core;
using Grpc.Core.Interceptors;

namespace PythOn.Server.Errors;

/// <summary>Copies the "retry-after" trailer of a failed call (<see cref="Problems.TooMany(string, TimeSpan)"/>) into
/// the Retry-After response header, so REST callers get it like the rate limiter's 429s; gRPC callers get both.</summary>
public sealed class RetryAfterInterceptor : Interceptor
{
    public const string Trailer = "retry-after";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException e)
        {
            Copy(e, context);
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (RpcException e)
        {
            Copy(e, context);
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (RpcException e)
        {
            Copy(e, context);
            throw;
        }
    }

    private static void Copy(RpcException e, ServerCallContext context)
    {
        if (e.Trailers.GetValue(Trailer) is not { } seconds) return;
        var http = context.GetHttpContext();
        if (!http.Response.HasStarted) http.Response.Headers.RetryAfter = seconds;
    }
}
