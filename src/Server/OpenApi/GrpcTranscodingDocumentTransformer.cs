using System.Text.RegularExpressions;
using Google.Api;
using Google.Protobuf.Reflection;
using Endpoint = Microsoft.AspNetCore.Http.Endpoint;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PythOn.Server.OpenApi;

/// <summary>
/// Adds one OpenAPI operation per JSON-transcoded gRPC endpoint (the endpoints carrying
/// <see cref="GrpcJsonTranscodingMetadata"/>): path and verb from the <c>google.api.http</c> rule,
/// parameters and bodies from the request message, schemas from <see cref="ProtoSchemaBuilder"/>,
/// texts from the proto comments.
/// </summary>
internal sealed partial class GrpcTranscodingDocumentTransformer(ProtoDocComments comments) : IOpenApiDocumentTransformer
{
    public const string ApiKeyScheme = "ApiKey";
    public const string BearerScheme = "Bearer";
    public const string ApiKeyHeader = "x-api-key";
    public const string NdjsonContentType = "application/x-ndjson";

    /// <summary>RPCs open without credentials (DESIGN.md), in addition to endpoints marked [AllowAnonymous].</summary>
    private static readonly HashSet<string> AnonymousMethods = new(StringComparer.Ordinal)
    {
        "pythonapi.v1.Auth/Register",
        "pythonapi.v1.Auth/Login",
        "pythonapi.v1.Auth/RefreshToken",
        "pythonapi.v1.System/Health",
        "pythonapi.v1.System/Info",
    };

    /// <summary>RPCs whose REST form answers 201, in addition to endpoints declaring a 201 response type.</summary>
    private static readonly HashSet<string> CreatedMethods = new(StringComparer.Ordinal)
    {
        "pythonapi.v1.Auth/Register",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info ??= new OpenApiInfo();
        document.Info.Title = "Pyth-On API";
        document.Info.Version = typeof(GrpcTranscodingDocumentTransformer).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";
        document.Info.Description =
            "Runs Python and JavaScript, each run in a fresh network-less sandbox. Every operation is also a gRPC method " +
            "(package `pythonapi.v1`); this is its REST/JSON form. Authenticate with `x-api-key: pyapi_...` " +
            "or `Authorization: Bearer <JWT>`; register, login, refresh, health and info are anonymous.\n\n" +
            "**Interactive runs** (gRPC `Execute.Interact`) are a WebSocket on this port: `GET " + Execution.InteractiveWebSocket.Path +
            "` with the usual credentials on the upgrade request, or `?ticket=` from `POST " + Execution.InteractiveWebSocket.TicketsPath +
            "` (single use, 60 s) for browsers. One JSON object per text message: send `{\"start\":{\"run\":{ExecuteRequest},\"idleTimeout\":30}}` " +
            "first, then `{\"stdin\":\"...\"}`, `{\"stdinClose\":true}`, `{\"signal\":\"SIGNAL_INTERRUPT\"}` (or `SIGNAL_TERMINATE`, " +
            "`SIGNAL_KILL`); receive `{\"chunk\":{...}}` as output is produced, then one `{\"result\":{ExecuteResponse}}`, then the close " +
            "(or one `{\"error\":{\"code\":N,\"message\":\"...\"}}`). Messages are at most 1 MiB.";

        var schemas = new ProtoSchemaBuilder(document, comments);
        AddSecuritySchemes(document);
        schemas.Error();

        var endpoints = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints;
        document.Paths ??= new OpenApiPaths();
        var tags = new SortedDictionary<string, ServiceDescriptor>(StringComparer.Ordinal);

        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not { } transcoding) continue;
            if (Route(transcoding.HttpRule) is not { } route) continue;
            var (verb, template) = route;

            var method = transcoding.MethodDescriptor;
            var path = PathVariable().Replace(template, m => "{" + m.Groups["name"].Value + "}");
            if (!document.Paths.TryGetValue(path, out var pathItem))
            {
                pathItem = new OpenApiPathItem();
                document.Paths[path] = pathItem;
            }
            var item = (OpenApiPathItem)pathItem;
            var httpMethod = new HttpMethod(verb);
            if (item.Operations?.ContainsKey(httpMethod) == true) continue; // already described

            item.AddOperation(httpMethod, BuildOperation(document, schemas, endpoint, method, transcoding.HttpRule, template));
            tags[method.Service.Name] = method.Service;
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var (name, service) in tags)
        {
            document.Tags.Add(new OpenApiTag { Name = name, Description = comments.For(service) });
        }
        return Task.CompletedTask;
    }

    private OpenApiOperation BuildOperation(
        OpenApiDocument document, ProtoSchemaBuilder schemas, Endpoint endpoint,
        MethodDescriptor method, HttpRule rule, string template)
    {
        var grpcName = $"{method.Service.FullName}/{method.Name}";
        var comment = comments.For(method);
        var anonymous = AnonymousMethods.Contains(grpcName) || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
        var created = CreatedMethods.Contains(grpcName) ||
                      endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>().Any(p => p.StatusCode == StatusCodes.Status201Created);

        var operation = new OpenApiOperation
        {
            OperationId = $"{method.Service.Name}_{method.Name}",
            Summary = FirstSentence(comment) ?? method.Name,
            Description = (comment is null ? "" : comment + "\n\n") + $"gRPC: `{grpcName}`.",
            Tags = new HashSet<OpenApiTagReference> { new(method.Service.Name, document) },
            Parameters = [],
            Responses = new OpenApiResponses(),
        };

        // Path parameters: {field} or {field=pattern}, named as in the template (the proto field path).
        var pathFields = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match variable in PathVariable().Matches(template))
        {
            var fieldPath = variable.Groups["name"].Value;
            pathFields.Add(fieldPath);
            var field = ResolveField(method.InputType, fieldPath);
            var description = field is null ? null : comments.For(field);
            if (variable.Groups["pattern"].Value.Contains("**", StringComparison.Ordinal))
            {
                description = (description is null ? "" : description + " ") + "May contain `/`: the rest of the path is taken.";
            }
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = fieldPath,
                In = ParameterLocation.Path,
                Required = true,
                Description = description,
                Schema = field is null ? new OpenApiSchema { Type = JsonSchemaType.String } : schemas.Field(field, describe: false),
            });
        }

        // Body: "*" = the request message minus path fields; "field" = that field; "" = no body.
        var bodyFields = new HashSet<string>(StringComparer.Ordinal);
        if (rule.Body == "*")
        {
            var topLevelPathFields = pathFields.Where(p => !p.Contains('.')).ToHashSet(StringComparer.Ordinal);
            bodyFields.UnionWith(method.InputType.Fields.InDeclarationOrder().Select(f => f.Name));
            IOpenApiSchema schema = topLevelPathFields.Count == 0
                ? schemas.Message(method.InputType)
                : schemas.MessageWithout(method.InputType, topLevelPathFields);
            operation.RequestBody = JsonBody(schema,
                topLevelPathFields.Count == 0 ? null : $"`{method.InputType.Name}` without the fields bound from the path.");
        }
        else if (!string.IsNullOrEmpty(rule.Body) && method.InputType.FindFieldByName(rule.Body) is { } bodyField)
        {
            bodyFields.Add(bodyField.Name);
            operation.RequestBody = JsonBody(schemas.Field(bodyField, describe: false), comments.For(bodyField));
        }

        // Query parameters: every remaining field (scalars, enums, repeated scalars; messages flattened).
        if (rule.Body != "*")
        {
            foreach (var (name, field) in QueryFields(method.InputType, "", pathFields, bodyFields, depth: 0))
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = comments.For(field),
                    Schema = schemas.Field(field, describe: false),
                    Style = ParameterStyle.Form,
                    Explode = true, // repeated fields: ?packages=a&packages=b
                });
            }
        }

        // Success response.
        var responseType = method.OutputType;
        IOpenApiSchema responseSchema = schemas.Message(responseType);
        if (!string.IsNullOrEmpty(rule.ResponseBody) && responseType.FindFieldByName(rule.ResponseBody) is { } responseField)
        {
            responseSchema = schemas.Field(responseField);
        }
        var successCode = created ? "201" : "200";
        operation.Responses[successCode] = method.IsServerStreaming
            ? new OpenApiResponse
            {
                Description =
                    $"A stream of newline-delimited JSON: one `{responseType.Name}` object per line, each line " +
                    "written as soon as the message is produced. The schema is the schema of one line.",
                Content = new Dictionary<string, OpenApiMediaType> { [NdjsonContentType] = new() { Schema = responseSchema } },
            }
            : new OpenApiResponse
            {
                Description = created ? "Created." : "OK.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = responseSchema } },
            };

        // Error responses: the statuses the comment names, 401/429 on authenticated operations, and a default.
        var errors = DocumentedErrors(comment);
        if (!anonymous)
        {
            AddError(errors, 401, "UNAUTHENTICATED: missing, invalid or expired credentials");
            AddError(errors, 429, "RESOURCE_EXHAUSTED: the caller's request rate limit was reached");
        }
        foreach (var (status, reasons) in errors.OrderBy(e => e.Key))
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                ErrorResponse(schemas, string.Join("; ", reasons) + ".");
        }
        operation.Responses["default"] = ErrorResponse(schemas, "Any other error, as a google.rpc.Status.");

        if (!anonymous)
        {
            // Either scheme is enough: two alternative requirements.
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
            ];
        }
        return operation;
    }

    private static void AddSecuritySchemes(OpenApiDocument document)
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

    private static (string Verb, string Template)? Route(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => ("GET", rule.Get),
        HttpRule.PatternOneofCase.Put => ("PUT", rule.Put),
        HttpRule.PatternOneofCase.Post => ("POST", rule.Post),
        HttpRule.PatternOneofCase.Delete => ("DELETE", rule.Delete),
        HttpRule.PatternOneofCase.Patch => ("PATCH", rule.Patch),
        HttpRule.PatternOneofCase.Custom => (rule.Custom.Kind, rule.Custom.Path),
        _ => null,
    };

    private static FieldDescriptor? ResolveField(MessageDescriptor message, string fieldPath)
    {
        FieldDescriptor? field = null;
        foreach (var part in fieldPath.Split('.'))
        {
            field = message?.FindFieldByName(part);
            if (field is null) return null;
            message = field.FieldType == FieldType.Message ? field.MessageType : null!;
        }
        return field;
    }

    /// <summary>
    /// Fields bound from the query string, by JSON name; nested messages as <c>parent.child</c>. Maps and
    /// repeated messages cannot be given in a query and are left out.
    /// </summary>
    private static IEnumerable<(string Name, FieldDescriptor Field)> QueryFields(
        MessageDescriptor message, string protoPrefix, ISet<string> pathFields, ISet<string> bodyFields, int depth)
    {
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            var protoPath = protoPrefix + field.Name;
            if (pathFields.Contains(protoPath) || (depth == 0 && bodyFields.Contains(field.Name))) continue;
            if (field.IsMap || (field.IsRepeated && field.FieldType == FieldType.Message)) continue;

            if (field.FieldType == FieldType.Message && !IsScalarLike(field.MessageType))
            {
                if (depth >= 3) continue;
                foreach (var (name, nested) in QueryFields(field.MessageType, protoPath + ".", pathFields, bodyFields, depth + 1))
                {
                    yield return (field.JsonName + "." + name, nested);
                }
                continue;
            }
            yield return (field.JsonName, field);
        }
    }

    /// <summary>Well-known messages whose JSON form is a single value, so they fit in a query parameter.</summary>
    private static bool IsScalarLike(MessageDescriptor message) =>
        message.FullName is "google.protobuf.Timestamp" or "google.protobuf.Duration" or "google.protobuf.FieldMask"
        || (message.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal) && message.Name.EndsWith("Value", StringComparison.Ordinal)
            && message.FullName is not "google.protobuf.Value" and not "google.protobuf.ListValue");

    private static OpenApiRequestBody JsonBody(IOpenApiSchema schema, string? description) => new()
    {
        Required = true,
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
    };

    private static OpenApiResponse ErrorResponse(ProtoSchemaBuilder schemas, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schemas.Error() } },
    };

    /// <summary>
    /// The gRPC codes a method comment names (e.g. "NOT_FOUND (404)" or just "(UNAUTHENTICATED)"), as the
    /// HTTP statuses JSON transcoding turns them into. The number written in the comment is not used: the
    /// status on the wire is the one of this table.
    /// </summary>
    private static SortedDictionary<int, List<string>> DocumentedErrors(string? comment)
    {
        var errors = new SortedDictionary<int, List<string>>();
        if (comment is null) return errors;
        foreach (Match match in GrpcCodeName().Matches(comment))
        {
            if (HttpStatusOf.TryGetValue(match.Value, out var status)) AddError(errors, status, match.Value);
        }
        return errors;
    }

    /// <summary>gRPC status code → HTTP status, as Microsoft.AspNetCore.Grpc.JsonTranscoding maps them.</summary>
    private static readonly Dictionary<string, int> HttpStatusOf = new(StringComparer.Ordinal)
    {
        ["CANCELLED"] = 408, ["UNKNOWN"] = 500, ["INVALID_ARGUMENT"] = 400, ["DEADLINE_EXCEEDED"] = 504,
        ["NOT_FOUND"] = 404, ["ALREADY_EXISTS"] = 409, ["PERMISSION_DENIED"] = 403, ["RESOURCE_EXHAUSTED"] = 429,
        ["FAILED_PRECONDITION"] = 400, ["ABORTED"] = 409, ["OUT_OF_RANGE"] = 400, ["UNIMPLEMENTED"] = 501,
        ["INTERNAL"] = 500, ["UNAVAILABLE"] = 503, ["DATA_LOSS"] = 500, ["UNAUTHENTICATED"] = 401,
    };

    /// <summary>Adds a reason once per gRPC code, keeping the more detailed text.</summary>
    private static void AddError(SortedDictionary<int, List<string>> errors, int status, string reason)
    {
        if (!errors.TryGetValue(status, out var reasons)) errors[status] = reasons = [];
        var code = reason.Split(':')[0];
        var same = reasons.FindIndex(r => r.Split(':')[0] == code);
        if (same < 0) reasons.Add(reason);
        else if (reason.Length > reasons[same].Length) reasons[same] = reason;
    }

    private static string? FirstSentence(string? comment)
    {
        if (string.IsNullOrWhiteSpace(comment)) return null;
        var text = comment.Replace('\n', ' ');
        var match = Sentence().Match(text);
        return match.Success ? match.Groups[1].Value : text;
    }

    /// <summary><c>{name}</c> or <c>{name=pattern}</c> in an http rule template.</summary>
    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_.]*)(?:=(?<pattern>[^}]*))?\}")]
    private static partial Regex PathVariable();

    [GeneratedRegex(@"\b[A-Z][A-Z_]+[A-Z]\b")]
    private static partial Regex GrpcCodeName();

    [GeneratedRegex(@"^(.+?[.!?])(?:\s|$)")]
    private static partial Regex Sentence();
}
