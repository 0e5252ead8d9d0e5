using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;

namespace PythOn.Cli;

/// <summary>Turns failures into one line for stderr and an exit code (see <see cref="ExitCodes"/>).</summary>
public static class ErrorMessages
{
    /// <summary>The message (without the "error: " prefix) and the exit code for an exception.</summary>
    public static (string Message, int ExitCode) Describe(Exception error, string server) => error switch
    {
        CliException e => (e.Message, e.ExitCode),
        RpcException e => Describe(e, server),
        OperationCanceledException => ("interrupted.", ExitCodes.Interrupted),
        IOException or UnauthorizedAccessException => (error.Message, ExitCodes.Usage),
        _ => ($"unexpected failure: {error.GetType().Name}: {error.Message}", ExitCodes.Internal),
    };

    private static (string, int) Describe(RpcException e, string server)
    {
        var detail = string.IsNullOrWhiteSpace(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail.Trim();
        return e.StatusCode switch
        {
            _ when SpeaksNoGrpc(e) =>
                ($"the server at {server} does not speak gRPC on that port: use its gRPC address (port 8081 by default), not the REST one.", ExitCodes.Unavailable),
            StatusCode.Unavailable when IsConnectionFailure(e) =>
                ($"cannot reach the server at {server}: is it running? ({Innermost(e)})", ExitCodes.Unavailable),
            StatusCode.Unavailable => ($"the server is unavailable: {detail}", ExitCodes.Unavailable),
            StatusCode.DeadlineExceeded => ($"timed out: {detail}", ExitCodes.Unavailable),
            StatusCode.Unauthenticated => ($"not signed in: the server refused the credentials ({detail}): run `pyth-on login`.", ExitCodes.Auth),
            StatusCode.PermissionDenied => ($"permission denied: {detail}", ExitCodes.Auth),
            StatusCode.Cancelled => ("interrupted.", ExitCodes.Interrupted),
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => ($"invalid request: {detail}", ExitCodes.Server),
            StatusCode.NotFound => ($"not found: {detail}", ExitCodes.Server),
            StatusCode.AlreadyExists => ($"already exists: {detail}", ExitCodes.Server),
            StatusCode.ResourceExhausted => ($"rate limited: {detail}", ExitCodes.Server),
            StatusCode.Unimplemented => ($"this server does not support that call ({detail}): is it an older version?", ExitCodes.Server),
            _ => ($"server error ({e.StatusCode}): {detail}", ExitCodes.Server),
        };
    }

    // A status the client made up because no HTTP/2 connection could be opened (the server never saw the call).
    private static bool IsConnectionFailure(RpcException e)
    {
        for (Exception? inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
            if (inner is SocketException or HttpRequestException) return true;
        return false;
    }

    // An HTTP/1.1-only endpoint (e.g. the REST port) refuses HTTP/2 or never completes the handshake.
    private static bool SpeaksNoGrpc(RpcException e)
    {
        for (Exception? inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
            if (inner.Message.Contains("HTTP_1_1_REQUIRED", StringComparison.Ordinal) || inner.Message.Contains("HTTP/2 handshake", StringComparison.Ordinal))
                return true;
        return false;
    }

    private static string Innermost(RpcException e)
    {
        Exception? inner = e.Status.DebugException;
        while (inner?.InnerException is not null) inner = inner.InnerException;
        return inner?.Message.TrimEnd('.') ?? e.Status.Detail;
    }
}
