using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using PythOn.Api.Operations;
using PythOn.Server.Errors;

namespace PythOn.Server.Hosting;

public static class TranscodedResponseMiddleware
{
    /// <summary>
    /// Adjusts successful REST responses just before they start, where JSON transcoding gives no hook:
    /// 201 instead of 200 for methods whose <c>(pythonapi.v1.operation)</c> option says <c>created: true</c>, and the
    /// newline-delimited JSON content type for server-streaming methods, and the error statuses of <see cref="HttpStatuses"/>.
    /// </summary>
    public static IApplicationBuilder UseTranscodedResponseFixups(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var transcoding = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        if (transcoding is null) return next(context);

        var created = ApiOperations.Find(transcoding.MethodDescriptor)?.Info.Created == true;
        var streaming = transcoding.MethodDescriptor.IsServerStreaming;
        context.Response.OnStarting(() =>
        {
            var response = context.Response;
            if (response.StatusCode == StatusCodes.Status200OK)
            {
                if (created) response.StatusCode = StatusCodes.Status201Created;
                if (streaming) response.ContentType = "application/x-ndjson; charset=utf-8";
            }
            // JSON transcoding answers CANCELLED with 408, the only status it maps there; the API's mapping says 499.
            else if (response.StatusCode == StatusCodes.Status408RequestTimeout)
            {
                response.StatusCode = HttpStatuses.For(Grpc.Core.StatusCode.Cancelled);
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}
