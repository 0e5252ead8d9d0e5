using Google.Api;
using Google.Protobuf.Reflection;
using Microsoft.OpenApi;
using PythOn.Api.Operations;

namespace PythOn.Server.OpenApi;

/// <summary>
/// One OpenAPI operation of a JSON-transcoded RPC: title and tag from its <c>(pythonapi.v1.operation)</c> option,
/// description from its proto comment, parameters and body from the request message as the http rule binds it,
/// examples from the option, and the error responses its comment names.
/// </summary>
internal sealed class TranscodedOperationBuilder(OpenApiDocument document, ProtoSchemaBuilder schemas, ProtoDocComments comments)
{
    public const string NdjsonContentType = "application/x-ndjson";

    public OpenApiOperation Build(ApiOperation api, HttpRule rule, string template)
    {
        var method = api.Method;
        var info = api.Info;
        var comment = comments.For(method);
        var examples = new OperationExamples(info);

        var operation = new OpenApiOperation
        {
            OperationId = $"{method.Service.Name}_{method.Name}",
            Summary = info.Summary,
            Description = (comment is null ? "" : comment + "\n\n") + $"gRPC: `{api.FullName}`.",
            Tags = new HashSet<OpenApiTagReference> { new(info.Tag, document) },
            Parameters = [],
            Responses = new OpenApiResponses(),
        };

        // Path parameters: {field} or {field=pattern}, named as in the template (the proto field path).
        var pathFields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (fieldPath, catchAll) in TranscodedRoutes.PathVariables(template))
        {
            pathFields.Add(fieldPath);
            var field = TranscodedRoutes.ResolveField(method.InputType, fieldPath);
            var description = field is null ? null : comments.For(field);
            if (catchAll) description = (description is null ? "" : description + " ") + "May contain `/`: the rest of the path is taken.";
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = fieldPath,
                In = ParameterLocation.Path,
                Required = true,
                Description = description,
                Schema = field is null ? new OpenApiSchema { Type = JsonSchemaType.String } : schemas.Field(field, describe: false),
                Example = examples.Field(method.InputType, fieldPath),
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
                topLevelPathFields.Count == 0 ? null : $"`{method.InputType.Name}` without the fields bound from the path.",
                examples.WholeBody(method.InputType, topLevelPathFields));
        }
        else if (!string.IsNullOrEmpty(rule.Body) && method.InputType.FindFieldByName(rule.Body) is { } bodyField)
        {
            bodyFields.Add(bodyField.Name);
            operation.RequestBody = JsonBody(schemas.Field(bodyField, describe: false), comments.For(bodyField), examples.FieldBody(bodyField));
        }

        // Query parameters: every remaining field (scalars, enums, repeated scalars; messages flattened).
        if (rule.Body != "*")
        {
            foreach (var (name, field) in TranscodedRoutes.QueryFields(method.InputType, "", pathFields, bodyFields, depth: 0))
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
                    Example = examples.Field(method.InputType, QueryProtoPath(method.InputType, name)),
                });
            }
        }

        AddSuccess(operation, method, rule, info.Created, examples);
        AddErrors(operation, comment, info.Anonymous);
        if (!info.Anonymous) operation.Security = ApiSecuritySchemes.Requirements(document);
        return operation;
    }

    private void AddSuccess(OpenApiOperation operation, MethodDescriptor method, HttpRule rule, bool created, OperationExamples examples)
    {
        var responseType = method.OutputType;
        IOpenApiSchema responseSchema = schemas.Message(responseType);
        if (!string.IsNullOrEmpty(rule.ResponseBody) && responseType.FindFieldByName(rule.ResponseBody) is { } responseField)
            responseSchema = schemas.Field(responseField);
        operation.Responses![created ? "201" : "200"] = method.IsServerStreaming
            ? new OpenApiResponse
            {
                Description =
                    $"A stream of newline-delimited JSON: one `{responseType.Name}` object per line, each line " +
                    "written as soon as the message is produced. The schema is the schema of one line.",
                Content = new Dictionary<string, OpenApiMediaType> { [NdjsonContentType] = new() { Schema = responseSchema, Example = examples.Response } },
            }
            : new OpenApiResponse
            {
                Description = created ? "Created." : "OK.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = responseSchema, Example = examples.Response } },
            };
    }

    // The statuses the comment names, 401/429 on authenticated operations, and a default.
    private void AddErrors(OpenApiOperation operation, string? comment, bool anonymous)
    {
        var errors = new DocumentedErrors(comment);
        if (!anonymous)
        {
            errors.Add(Errors.HttpStatuses.For(Grpc.Core.StatusCode.Unauthenticated), "UNAUTHENTICATED: missing, invalid or expired credentials");
            errors.Add(Errors.HttpStatuses.For(Grpc.Core.StatusCode.ResourceExhausted), "RESOURCE_EXHAUSTED: the caller's request rate limit was reached");
        }
        foreach (var (status, description) in errors.Responses)
            operation.Responses![status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ErrorResponse(description);
        operation.Responses!["default"] = ErrorResponse("Any other error, as a google.rpc.Status.");
    }

    // A query parameter's JSON name path back to its proto field path ("page_size" for "pageSize").
    private static string QueryProtoPath(MessageDescriptor message, string jsonPath)
    {
        var parts = new List<string>();
        foreach (var jsonName in jsonPath.Split('.'))
        {
            var field = message?.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == jsonName);
            if (field is null) return jsonPath;
            parts.Add(field.Name);
            message = field.FieldType == FieldType.Message ? field.MessageType : null!;
        }
        return string.Join('.', parts);
    }

    private static OpenApiRequestBody JsonBody(IOpenApiSchema schema, string? description, System.Text.Json.Nodes.JsonNode? example) => new()
    {
        Required = true,
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema, Example = example } },
    };

    private OpenApiResponse ErrorResponse(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schemas.Error() } },
    };
}
