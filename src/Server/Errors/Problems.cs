using Grpc.Core;

namespace PythOn.Server.Errors;

/// <summary>Domain errors as RpcException with the status the API documents.</summary>
public static class Problems
{
    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));
    public static RpcException Conflict(string message) => new(new Status(StatusCode.AlreadyExists, message));
    public static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));
    public static RpcException TooMany(string message) => new(new Status(StatusCode.ResourceExhausted, message));

    /// <summary>RESOURCE_EXHAUSTED (429) with a Retry-After header, on REST and gRPC alike (response headers are sent
    /// before the error either way).</summary>
    public static RpcException TooMany(ServerCallContext context, string message, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var http = context.GetHttpContext();
        if (!http.Response.HasStarted) http.Response.Headers.RetryAfter = seconds;
        return new RpcException(new Status(StatusCode.ResourceExhausted, message), new Metadata { { "retry-after", seconds } });
    }
    public static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message));
}
