using Grpc.Core;

namespace PythOn.Server.Errors;

/// <summary>
/// The one mapping of gRPC status codes to HTTP statuses: the statuses the error middleware writes, the REST responses
/// of transcoded methods (see <see cref="Hosting.TranscodedResponseMiddleware"/>) and the OpenAPI document's error
/// responses all come from here. It is google.rpc.Code's own mapping (as grpc-gateway uses it): CANCELLED is 499
/// "client closed request", not a timeout.
/// </summary>
public static class HttpStatuses
{
    public const int ClientClosedRequest = 499;

    public static int For(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Cancelled => ClientClosedRequest,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        StatusCode.DeadlineExceeded => 504,
        _ => 500, // UNKNOWN, INTERNAL, DATA_LOSS
    };

    /// <summary>The code a proto-style name stands for ("NOT_FOUND", "DEADLINE_EXCEEDED"), or null.</summary>
    public static StatusCode? CodeNamed(string name) =>
        name.Length > 0 && name.All(c => c is >= 'A' and <= 'Z' or '_') &&
        Enum.TryParse<StatusCode>(name.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var code)
            ? code
            : null;
}
