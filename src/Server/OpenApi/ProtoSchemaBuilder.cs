using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using Microsoft.OpenApi;

namespace PythOn.Server.OpenApi;

/// <summary>
/// Builds JSON schemas for protobuf messages as they appear on the wire in proto3 JSON (the mapping JSON
/// transcoding uses), and registers them in <c>components/schemas</c> under the message's short name.
/// </summary>
/// <remarks>
/// Mapping: property names are the fields' JSON names (lowerCamelCase or <c>json_name</c>); 64-bit integers
/// are strings; enums are strings holding the value names; bytes are base64 strings; maps are objects with
/// <c>additionalProperties</c>; repeated fields are arrays; Timestamp is an RFC 3339 date-time string,
/// Duration a string like "1.5s", Empty an empty object, wrappers the bare (nullable) value.
/// No property is listed as required: proto3 accepts any field being absent on input. proto3 <c>optional</c>
/// fields and oneof members are omitted from output when unset, which their descriptions say.
/// Messages are referenced with $ref, so recursive messages need nothing special.
/// </remarks>
internal sealed class ProtoSchemaBuilder
{
    public const string ErrorSchemaName = "Error";

    private readonly OpenApiDocument _document;
    private readonly ProtoDocComments _comments;
    private readonly IDictionary<string, IOpenApiSchema> _schemas;
    // Component name -> protobuf full name, to keep two types with the same short name apart.
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    public ProtoSchemaBuilder(OpenApiDocument document, ProtoDocComments comments)
    {
        _document = document;
        _comments = comments;
        document.Components ??= new OpenApiComponents();
        _schemas = document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
    }

    /// <summary>The schema of a whole message: a $ref to its component, or inline for well-known types.</summary>
    public IOpenApiSchema Message(MessageDescriptor message) =>
        (IOpenApiSchema?)WellKnown(message) ?? Reference(ComponentFor(message));

    /// <summary>The schema of a field's value, including repeated/map and (unless told not to) the field's comment.</summary>
    public IOpenApiSchema Field(FieldDescriptor field, bool describe = true)
    {
        var description = describe ? FieldDescription(field) : null;
        if (field.IsMap)
        {
            var value = field.MessageType.FindFieldByNumber(2);
            return new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = SingleValue(value),
                Description = description,
            };
        }
        if (field.IsRepeated)
        {
            return new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Items = SingleValue(field),
                Description = description,
            };
        }
        return WithDescription(SingleValue(field), description);
    }

    /// <summary>
    /// An inline object schema with the message's fields except <paramref name="excluded"/> (the fields a
    /// route binds from the path), for <c>body: "*"</c> requests.
    /// </summary>
    public OpenApiSchema MessageWithout(MessageDescriptor message, IReadOnlySet<string> excluded)
    {
        var schema = NewObject(message);
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            if (!excluded.Contains(field.Name)) schema.Properties![field.JsonName] = Field(field);
        }
        schema.Description = AppendNote(schema.Description, OneofNote(message, excluded));
        return schema;
    }

    /// <summary>The <c>Error</c> component: google.rpc.Status as JSON transcoding writes it.</summary>
    public IOpenApiSchema Error()
    {
        if (!_schemas.ContainsKey(ErrorSchemaName))
        {
            _owners[ErrorSchemaName] = "google.rpc.Status";
            _schemas[ErrorSchemaName] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "An error: `google.rpc.Status` in JSON. The HTTP status follows the gRPC code " +
                              "(INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, " +
                              "ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, DEADLINE_EXCEEDED 504).",
                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                {
                    ["code"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer, Format = "int32",
                        Description = "The gRPC status code, e.g. 3 for INVALID_ARGUMENT.",
                    },
                    ["message"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String, Description = "A developer-facing error message.",
                    },
                    ["details"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Description = "Error details (google.protobuf.Any, each with an `@type`); usually empty.",
                        Items = AnySchema(),
                    },
                },
            };
        }
        return Reference(ErrorSchemaName);
    }

    private IOpenApiSchema SingleValue(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Double => Scalar(JsonSchemaType.Number, "double"),
        FieldType.Float => Scalar(JsonSchemaType.Number, "float"),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 =>
            Scalar(JsonSchemaType.String, "int64", "A 64-bit integer, as a decimal string (proto3 JSON)."),
        FieldType.UInt64 or FieldType.Fixed64 =>
            Scalar(JsonSchemaType.String, "uint64", "An unsigned 64-bit integer, as a decimal string (proto3 JSON)."),
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Scalar(JsonSchemaType.Integer, "int32"),
        FieldType.UInt32 or FieldType.Fixed32 => Scalar(JsonSchemaType.Integer, "uint32"),
        FieldType.Bool => Scalar(JsonSchemaType.Boolean, null),
        FieldType.String => Scalar(JsonSchemaType.String, null),
        FieldType.Bytes => Scalar(JsonSchemaType.String, "byte", "Base64-encoded bytes."),
        FieldType.Enum => Reference(ComponentFor(field.EnumType)),
        FieldType.Message or FieldType.Group => Message(field.MessageType),
        _ => new OpenApiSchema(),
    };

    private static OpenApiSchema Scalar(JsonSchemaType type, string? format, string? description = null) =>
        new() { Type = type, Format = format, Description = description };

    private string ComponentFor(MessageDescriptor message)
    {
        if (_names.TryGetValue(message.FullName, out var existing)) return existing;
        var name = Register(message.Name, message.FullName);
        var schema = NewObject(message);
        _schemas[name] = schema; // before the fields: a recursive field then finds the name and refers to it
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            schema.Properties![field.JsonName] = Field(field);
        }
        schema.Description = AppendNote(schema.Description, OneofNote(message, new HashSet<string>()));
        return name;
    }

    private string ComponentFor(EnumDescriptor @enum)
    {
        if (_names.TryGetValue(@enum.FullName, out var existing)) return existing;
        var name = Register(@enum.Name, @enum.FullName);
        var values = @enum.Values.Select(v => (v.Name, Comment: _comments.For(v))).ToList();
        var list = string.Join("\n", values.Select(v => v.Comment is null ? $"- `{v.Name}`" : $"- `{v.Name}`: {v.Comment}"));
        _schemas[name] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = values.Select(v => (JsonNode)JsonValue.Create(v.Name)!).ToList(),
            Description = AppendNote(_comments.For(@enum), list),
        };
        return name;
    }

    private string Register(string shortName, string fullName)
    {
        var name = shortName;
        if (_owners.TryGetValue(name, out var owner) && owner != fullName)
        {
            name = fullName.Replace('.', '_'); // a second type with the same short name from another package
        }
        _owners[name] = fullName;
        _names[fullName] = name;
        return name;
    }

    private OpenApiSchema NewObject(MessageDescriptor message) => new()
    {
        Type = JsonSchemaType.Object,
        Description = _comments.For(message),
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal),
    };

    private OpenApiSchemaReference Reference(string name) => new(name, _document);

    private string? FieldDescription(FieldDescriptor field)
    {
        var text = _comments.For(field);
        if (field.RealContainingOneof is { } oneof)
        {
            var members = string.Join(", ", oneof.Fields.Select(f => $"`{f.JsonName}`"));
            text = AppendNote(text, $"Member of oneof `{oneof.Name}`: at most one of {members} is present.");
        }
        else if (field.ContainingOneof is { IsSynthetic: true })
        {
            text = AppendNote(text, "Optional: omitted when unset.");
        }
        return text;
    }

    private static string? OneofNote(MessageDescriptor message, IReadOnlySet<string> excluded)
    {
        var notes = message.Oneofs.Where(o => !o.IsSynthetic)
            .Select(o => o.Fields.Where(f => !excluded.Contains(f.Name)).Select(f => $"`{f.JsonName}`").ToList())
            .Where(members => members.Count > 0)
            .Select(members => $"At most one of {string.Join(", ", members)} is present (a protobuf oneof).")
            .ToList();
        return notes.Count == 0 ? null : string.Join("\n", notes);
    }

    private static string? AppendNote(string? text, string? note) =>
        string.IsNullOrEmpty(note) ? text : string.IsNullOrEmpty(text) ? note : text + "\n\n" + note;

    private static IOpenApiSchema WithDescription(IOpenApiSchema schema, string? description)
    {
        if (description is null) return schema;
        switch (schema)
        {
            case OpenApiSchemaReference reference:
                reference.Description = description; // a sibling of $ref (OpenAPI 3.1)
                return reference;
            case OpenApiSchema inline:
                inline.Description = AppendNote(description, inline.Description);
                return inline;
            default:
                return schema;
        }
    }

    /// <summary>Well-known types with a special JSON form; fresh instances, so callers may annotate them.</summary>
    private static OpenApiSchema? WellKnown(MessageDescriptor message) => message.FullName switch
    {
        "google.protobuf.Timestamp" => Scalar(JsonSchemaType.String, "date-time", "An RFC 3339 UTC timestamp."),
        "google.protobuf.Duration" => new OpenApiSchema
        {
            Type = JsonSchemaType.String, Pattern = @"^-?\d+(\.\d{1,9})?s$", Description = "A duration, e.g. \"1.5s\".",
        },
        "google.protobuf.Empty" => new OpenApiSchema
        {
            Type = JsonSchemaType.Object, Description = "An empty object (`google.protobuf.Empty`).",
            Properties = new Dictionary<string, IOpenApiSchema>(),
        },
        "google.protobuf.FieldMask" => Scalar(JsonSchemaType.String, null, "Comma-separated lowerCamelCase field paths."),
        "google.protobuf.Struct" => new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalPropertiesAllowed = true },
        "google.protobuf.Value" => new OpenApiSchema { Description = "Any JSON value." },
        "google.protobuf.ListValue" => new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema() },
        "google.protobuf.Any" => AnySchema(),
        "google.protobuf.DoubleValue" => Scalar(JsonSchemaType.Number | JsonSchemaType.Null, "double"),
        "google.protobuf.FloatValue" => Scalar(JsonSchemaType.Number | JsonSchemaType.Null, "float"),
        "google.protobuf.Int64Value" => Scalar(JsonSchemaType.String | JsonSchemaType.Null, "int64"),
        "google.protobuf.UInt64Value" => Scalar(JsonSchemaType.String | JsonSchemaType.Null, "uint64"),
        "google.protobuf.Int32Value" => Scalar(JsonSchemaType.Integer | JsonSchemaType.Null, "int32"),
        "google.protobuf.UInt32Value" => Scalar(JsonSchemaType.Integer | JsonSchemaType.Null, "uint32"),
        "google.protobuf.BoolValue" => Scalar(JsonSchemaType.Boolean | JsonSchemaType.Null, null),
        "google.protobuf.StringValue" => Scalar(JsonSchemaType.String | JsonSchemaType.Null, null),
        "google.protobuf.BytesValue" => Scalar(JsonSchemaType.String | JsonSchemaType.Null, "byte"),
        _ => null,
    };

    private static OpenApiSchema AnySchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "A google.protobuf.Any: `@type` names the message, the other properties are its fields.",
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["@type"] = Scalar(JsonSchemaType.String, null, "e.g. type.googleapis.com/google.rpc.BadRequest"),
        },
        AdditionalPropertiesAllowed = true,
    };
}
