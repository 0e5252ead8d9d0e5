using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using PythOn.Api.Operations;

namespace PythOn.Server.Hosting;

public static class TranscodedResponseMiddleware
{
    /// <summary>
    /// Adjusts successful REST responses just before they start, where JSON transcoding gives no hook:
    /// 201 instead of 200 for methods whose <c>(pythonapi.v1.operation)</c> option says <c>created: true</c>, and the
    /// newline-delimited JSON content type for server-streaming methods.
    /// </summary>
    public static IApplicationBuilder UseTranscodedResponseFixups(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var transcoding = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        if (transcoding is null) return next(context);

        var created = ApiOperations.Find(transcoding.MethodDescriptor)?.Info.Created == true;
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
