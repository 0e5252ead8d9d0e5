using Microsoft.OpenApi;

namespace PythOn.Server.OpenApi;

/// <summary>The two ways to authenticate, as OpenAPI security schemes; either one is enough.</summary>
internal static class ApiSecuritySchemes
{
    public const string ApiKeyScheme = "ApiKey";
    public const string BearerScheme = "Bearer";
    public const string ApiKeyHeader = "x-api-key";

    public static void AddTo(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyHeader,
            Description = "The API key issued at registration: `x-api-key: pyapi_...`.",
        };
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT from register, login or refresh: `Authorization: Bearer <JWT>`.",
        };
    }

    /// <summary>Two alternative requirements: an API key, or a bearer JWT.</summary>
    public static List<OpenApiSecurityRequirement> Requirements(OpenApiDocument document) =>
    [
        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] },
        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
    ];
}
