using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using PythOn.Api.V1;

namespace PythOn.Server.OpenApi;

/// <summary>
/// The examples of an operation, from its <c>(pythonapi.v1.operation)</c> option. The request example is a whole
/// request message in JSON; the route decides which of its fields go to the path, the query and the body, so the
/// reference page's "try it" sends exactly that request.
/// </summary>
internal sealed class OperationExamples(OperationInfo info)
{
    private readonly JsonObject _request = Parse(info.RequestExample) as JsonObject ?? [];

    /// <summary>The example response (one message of a stream), or null when none is given.</summary>
    public JsonNode? Response { get; } = Parse(info.ResponseExample);

    /// <summary>The value of a path or query field (JSON names, nested with '.'), or null when the example leaves it out.</summary>
    public JsonNode? Field(MessageDescriptor message, string protoPath)
    {
        JsonNode? node = _request;
        foreach (var part in protoPath.Split('.'))
        {
            var field = message?.FindFieldByName(part);
            if (field is null || node is not JsonObject obj || !obj.TryGetPropertyValue(field.JsonName, out node)) return null;
            message = field.FieldType == FieldType.Message ? field.MessageType : null!;
        }
        return node?.DeepClone();
    }

    /// <summary>The body for <c>body: "*"</c>: the request without the fields bound from the path.</summary>
    public JsonObject WholeBody(MessageDescriptor message, IReadOnlySet<string> topLevelPathFields)
    {
        var body = (JsonObject)_request.DeepClone();
        foreach (var name in topLevelPathFields)
            if (message.FindFieldByName(name) is { } field) body.Remove(field.JsonName);
        return body;
    }

    /// <summary>The body for <c>body: "field"</c>: that field's value.</summary>
    public JsonNode? FieldBody(FieldDescriptor field) =>
        _request.TryGetPropertyValue(field.JsonName, out var value) ? value?.DeepClone() : null;

    private static JsonNode? Parse(string json) => string.IsNullOrWhiteSpace(json) ? null : JsonNode.Parse(json);
}
