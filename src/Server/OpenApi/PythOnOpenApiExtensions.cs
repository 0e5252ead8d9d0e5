using Microsoft.AspNetCore.Builder;
using Scalar.AspNetCore;

namespace PythOn.Server.OpenApi;

/// <summary>The OpenAPI document of the REST/JSON API and its interactive reference page.</summary>
public static class PythOnOpenApiExtensions
{
    public const string DocumentName = "v1";
    /// <summary>The document: <c>/openapi/v1.json</c>.</summary>
    public const string DocumentRoute = "/openapi/{documentName}.json";
    /// <summary>The Scalar reference page.</summary>
    public const string DocsRoute = "/docs";

    /// <summary>
    /// Registers the OpenAPI document <c>v1</c>, filled from the JSON-transcoded gRPC endpoints.
    /// Needs <c>AddGrpc().AddJsonTranscoding()</c> (done by the services' own registration).
    /// </summary>
    public static IServiceCollection AddPythOnOpenApi(this IServiceCollection services)
    {
        services.AddSingleton<ProtoDocComments>();
        services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer<GrpcTranscodingDocumentTransformer>();
        });
        return services;
    }

    /// <summary>
    /// Maps <c>/openapi/v1.json</c> and the Scalar page at <c>/docs</c>, both anonymous. The page's script is
    /// the copy embedded in Scalar.AspNetCore and served by the app (no CDN), without the CDN fonts.
    /// </summary>
    public static IEndpointRouteBuilder MapPythOnApiDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentRoute).AllowAnonymous();
        endpoints.MapScalarApiReference(DocsRoute, options =>
            {
                options.Title = "Pyth-On API";
                options.OpenApiRoutePattern = DocumentRoute;
                options.AddDocument(DocumentName);
                options.DisableDefaultFonts();   // Inter/JetBrains Mono would come from Scalar's CDN
                options.DisableTelemetry();
            })
            .AllowAnonymous();
        return endpoints;
    }
}
