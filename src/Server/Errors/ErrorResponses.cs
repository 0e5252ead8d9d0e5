using System.Text.Json;
using Grpc.Core;

namespace PythOn.Server.Errors;

/// <summary>
/// Writes errors produced outside gRPC methods (authentication, rate limiting) in the same shape as the
/// methods' own errors: a trailers-only gRPC response for gRPC callers, google.rpc.Status JSON for REST.
/// </summary>
public static class ErrorResponses
{
    public static bool IsGrpcRequest(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static async Task WriteAsync(HttpContext context, StatusCode code, string message, TimeSpan? retryAfter = null)
    {
        if (context.Response.HasStarted) return;
        var response = context.Response;
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString();

        if (IsGrpcRequest(context))
        {
            // A bare HTTP 429/401 reaches some gRPC clients as UNAVAILABLE; a trailers-only response carries the real status.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)code).ToString();
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return;
        }

        response.StatusCode = HttpStatuses.For(code);
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, new StatusBody((int)code, message, []), StatusBodyContext.Default.StatusBody);
    }
}

/// <summary>google.rpc.Status as JSON: the API's Error schema.</summary>
public sealed record StatusBody(int Code, string Message, object[] Details);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(StatusBody))]
internal partial class StatusBodyContext : System.Text.Json.Serialization.JsonSerializerContext;
