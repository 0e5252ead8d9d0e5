using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using PythOn.Api.Languages;
using PythOn.Api.Operations;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace PythOn.Server.OpenApi;

/// <summary>
/// Adds one OpenAPI operation per JSON-transcoded gRPC endpoint (the endpoints carrying
/// <see cref="GrpcJsonTranscodingMetadata"/>): path and verb from the <c>google.api.http</c> rule, the operation
/// itself from <see cref="TranscodedOperationBuilder"/>, tags from the methods' <c>(pythonapi.v1.operation)</c> option
/// described by their services' comments.
/// </summary>
internal sealed class GrpcTranscodingDocumentTransformer(ProtoDocComments comments) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info ??= new OpenApiInfo();
        document.Info.Title = "Pyth-On API";
        document.Info.Version = typeof(GrpcTranscodingDocumentTransformer).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";
        document.Info.Description = Description();

        var schemas = new ProtoSchemaBuilder(document, comments);
        ApiSecuritySchemes.AddTo(document);
        schemas.Error();
        var operations = new TranscodedOperationBuilder(document, schemas, comments);

        var endpoints = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints;
        document.Paths ??= new OpenApiPaths();
        var tags = new Dictionary<string, List<ServiceDescriptor>>(StringComparer.Ordinal);

        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not { } transcoding) continue;
            if (TranscodedRoutes.Route(transcoding.HttpRule) is not var (verb, template)) continue;
            if (ApiOperations.Find(transcoding.MethodDescriptor) is not { } api) continue; // not a pythonapi.v1 method

            var path = TranscodedRoutes.OpenApiPath(template);
            if (!document.Paths.TryGetValue(path, out var pathItem))
            {
                pathItem = new OpenApiPathItem();
                document.Paths[path] = pathItem;
            }
            var item = (OpenApiPathItem)pathItem;
            var httpMethod = new HttpMethod(verb);
            if (item.Operations?.ContainsKey(httpMethod) == true) continue; // already described

            item.AddOperation(httpMethod, operations.Build(api, transcoding.HttpRule, template));
            if (!tags.TryGetValue(api.Info.Tag, out var services)) tags[api.Info.Tag] = services = [];
            if (!services.Contains(api.Method.Service)) services.Add(api.Method.Service);
        }

        // Tags in the order of ApiOperations (file order), each described by the comments of its services.
        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var tag in ApiOperations.All.Select(o => o.Info.Tag).Distinct().Where(tags.ContainsKey))
        {
            var description = string.Join("\n\n", tags[tag].Select(comments.For).OfType<string>());
            document.Tags.Add(new OpenApiTag { Name = tag, Description = description.Length == 0 ? null : description });
        }
        return Task.CompletedTask;
    }

    private static string Description()
    {
        var anonymous = ApiOperations.All.Where(o => o.Info.Anonymous).Select(o => o.Info.Summary.ToLowerInvariant());
        return
            $"Runs {string.Join(" and ", LanguageRegistry.All.Select(l => l.DisplayName))}, each run in a fresh network-less sandbox. " +
            "Every operation is also a gRPC method (package `pythonapi.v1`); this is its REST/JSON form. Authenticate with " +
            $"`{ApiSecuritySchemes.ApiKeyHeader}: pyapi_...` or `Authorization: Bearer <JWT>`; {string.Join(", ", anonymous)} need no credentials. " +
            $"A language is {LanguageRegistry.Accepted}.\n\n" +
            "**Interactive runs** (gRPC `Execute.Interact`) are a WebSocket on this port: `GET " + Execution.InteractiveWebSocket.Path +
            "` with the usual credentials on the upgrade request, or `?ticket=` from `POST " + Execution.InteractiveWebSocket.TicketsPath +
            "` (single use, 60 s) for browsers. One JSON object per text message: send `{\"start\":{\"run\":{ExecuteRequest},\"idleTimeout\":30}}` " +
            "first, then `{\"stdin\":\"...\"}`, `{\"stdinClose\":true}`, `{\"signal\":\"SIGNAL_INTERRUPT\"}` (or `SIGNAL_TERMINATE`, " +
            "`SIGNAL_KILL`); receive `{\"chunk\":{...}}` as output is produced, then one `{\"result\":{ExecuteResponse}}`, then the close " +
            "(or one `{\"error\":{\"code\":N,\"message\":\"...\"}}`). Messages are at most 1 MiB.";
    }
}
