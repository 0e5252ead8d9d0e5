using System.Text.RegularExpressions;
using Google.Api;
using Google.Protobuf.Reflection;

namespace PythOn.Server.OpenApi;

/// <summary>How a <c>google.api.http</c> rule binds a request message: verb and path, path variables and query fields.</summary>
internal static partial class TranscodedRoutes
{
    public static (string Verb, string Template)? Route(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => ("GET", rule.Get),
        HttpRule.PatternOneofCase.Put => ("PUT", rule.Put),
        HttpRule.PatternOneofCase.Post => ("POST", rule.Post),
        HttpRule.PatternOneofCase.Delete => ("DELETE", rule.Delete),
        HttpRule.PatternOneofCase.Patch => ("PATCH", rule.Patch),
        HttpRule.PatternOneofCase.Custom => (rule.Custom.Kind, rule.Custom.Path),
        _ => null,
    };

    /// <summary>The OpenAPI path of a template: <c>{name=**}</c> becomes <c>{name}</c>.</summary>
    public static string OpenApiPath(string template) => PathVariable().Replace(template, m => "{" + m.Groups["name"].Value + "}");

    /// <summary>The template's variables: the proto field path and whether it takes the rest of the path (<c>**</c>).</summary>
    public static IEnumerable<(string FieldPath, bool CatchAll)> PathVariables(string template) =>
        PathVariable().Matches(template).Select(m => (m.Groups["name"].Value, m.Groups["pattern"].Value.Contains("**", StringComparison.Ordinal)));

    public static FieldDescriptor? ResolveField(MessageDescriptor message, string fieldPath)
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
    public static IEnumerable<(string Name, FieldDescriptor Field)> QueryFields(
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

    /// <summary><c>{name}</c> or <c>{name=pattern}</c> in an http rule template.</summary>
    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_.]*)(?:=(?<pattern>[^}]*))?\}")]
    private static partial Regex PathVariable();
}
