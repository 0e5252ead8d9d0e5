using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace PythOn.Server.Hosting;

/// <summary>Marks an RPC whose REST form answers 201 Created.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReturnsCreatedAttribute : Attribute;

public static class TranscodedResponseMiddleware
{
    /// <summary>
    /// Adjusts successful REST responses just before they start, where JSON transcoding gives no hook:
    /// 201 instead of 200 for methods marked <see cref="ReturnsCreatedAttribute"/>, and the
    /// newline-delimited JSON content type for server-streaming methods.
    /// </summary>
    public static IApplicationBuilder UseTranscodedResponseFixups(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var endpoint = context.GetEndpoint();
        var transcoding = endpoint?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        if (transcoding is null) return next(context);

        var created = endpoint!.Metadata.GetMetadata<ReturnsCreatedAttribute>() is not null;
        var streaming = transcoding.MethodDescriptor.IsServerStreaming;
        if (created || streaming)
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status200OK)
                {
                    if (created) context.Response.StatusCode = StatusCodes.Status201Created;
                    if (streaming) context.Response.ContentType = "application/x-ndjson; charset=utf-8";
                }
                return Task.CompletedTask;
            });
        }
        return next(context);
    });
}
