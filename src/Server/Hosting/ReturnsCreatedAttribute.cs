using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace PythOn.Server.Hosting;

/// <summary>Marks an RPC whose REST form answers 201 Created.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReturnsCreatedAttribute : Attribute;

public static class ReturnsCreatedMiddleware
{
    /// <summary>
    /// JSON transcoding always writes 200; flip it to 201 just before the response starts, for transcoded
    /// calls of methods marked <see cref="ReturnsCreatedAttribute"/> that succeeded.
    /// </summary>
    public static IApplicationBuilder UseReturnsCreated(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<ReturnsCreatedAttribute>() is not null &&
            endpoint.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null)
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status200OK) context.Response.StatusCode = StatusCodes.Status201Created;
                return Task.CompletedTask;
            });
        }
        return next(context);
    });
}
