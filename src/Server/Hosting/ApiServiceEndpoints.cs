using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.Operations;

namespace PythOn.Server.Hosting;

public static class ApiServiceEndpoints
{
    /// <summary>
    /// Maps a pythonapi.v1 service (gRPC and its JSON-transcoded routes) and opens to anonymous callers exactly the
    /// methods whose <c>(pythonapi.v1.operation)</c> option says <c>anonymous: true</c>; the fallback policy keeps
    /// every other method closed, so the proto option is the one place that decides.
    /// </summary>
    public static GrpcServiceEndpointConventionBuilder MapApiService<TService>(this IEndpointRouteBuilder endpoints) where TService : class
    {
        var builder = endpoints.MapGrpcService<TService>();
        builder.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<GrpcMethodMetadata>().LastOrDefault()?.Method is not { } method) return;
            if (ApiOperations.Find($"{method.ServiceName}/{method.Name}")?.Info.Anonymous == true)
                endpoint.Metadata.Add(new AllowAnonymousAttribute());
        });
        return builder;
    }
}
