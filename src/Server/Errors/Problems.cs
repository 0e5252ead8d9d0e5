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

    /// <summary>RESOURCE_EXHAUSTED (429) that says when to retry: a "retry-after" trailer, which
    /// <see cref="RetryAfterInterceptor"/> also turns into the Retry-After header of the REST response.</summary>
    public static RpcException TooMany(string message, TimeSpan retryAfter) =>
        new(new Status(StatusCode.ResourceExhausted, message),
            new Metadata { { RetryAfterInterceptor.Trailer, Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) } });

    public static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message));
    public static RpcException FailedPrecondition(string message) => new(new Status(StatusCode.FailedPrecondition, message));
    public static RpcException PermissionDenied(string message) => new(new Status(StatusCode.PermissionDenied, message));
    public static RpcException DeadlineExceeded(string message) => new(new Status(StatusCode.DeadlineExceeded, message));

    /// <summary>A status from a sandbox agent passed on as it is (it means the same to our caller), with a message of ours.</summary>
    public static RpcException Relayed(StatusCode code, string message) => new(new Status(code, message));
}
