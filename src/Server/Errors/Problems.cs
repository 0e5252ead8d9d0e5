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
    public static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message));
}
