using System.Text.Json;
using System.Text.RegularExpressions;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>The document at /openapi/v1.json, built from the transcoded gRPC endpoints of <see cref="ApiDocsHost"/>.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class OpenApiDocumentTests(ApiDocsHost host) : IClassFixture<ApiDocsHost>
{
    private JsonElement Doc => host.Document;
    private JsonElement Schemas => Doc.GetProperty("components").GetProperty("schemas");

    /// <summary>The API table of DESIGN.md: every REST route, its verb and its operation id.</summary>
    public static TheoryData<string, string, string> ApiTable => new()
    {
        { "post", "/api/register", "Auth_Register" },
        { "post", "/api/login", "Auth_Login" },
        { "post", "/api/verify", "Auth_VerifyToken" },
        { "post", "/api/refresh", "Auth_RefreshToken" },
        { "post", "/api/v1/auth/api-key/rotate", "Auth_RotateApiKey" },
        { "post", "/api/v1/auth/revoke-all", "Auth_RevokeAllCredentials" },
        { "post", "/api/v1/execute", "Execute_Execute" },
        { "post", "/api/v1/execute/stream", "Execute_ExecuteStream" },
        { "put", "/api/v1/secrets/{name}", "Secrets_PutSecret" },
        { "delete", "/api/v1/secrets/{name}", "Secrets_DeleteSecret" },
        { "get", "/api/v1/secrets", "Secrets_ListSecrets" },
        { "get", "/api/v1/audit", "Audit_GetAuditLog" },
        { "get", "/api/v1/health", "System_Health" },
        { "get", "/api/v1/info", "System_Info" },
        { "post", "/api/v1/generate", "Generate_Generate" },
        { "get", "/api/v1/packages", "Packages_ListPackages" },
        { "put", "/api/v1/packages", "Packages_SetPackages" },
        { "post", "/api/v1/packages", "Packages_AddPackage" },
        { "delete", "/api/v1/packages/{name}", "Packages_RemovePackage" },
        { "post", "/api/v1/zk/encrypt", "ZK_Encrypt" },
        { "put", "/api/v1/zk/code/{name}", "ZK_StoreCode" },
        { "delete", "/api/v1/zk/code/{name}", "ZK_DeleteCode" },
        { "get", "/api/v1/zk/code", "ZK_ListCode" },
        { "post", "/api/v1/zk/execute/{name}", "ZK_ExecuteCode" },
    };

    private static readonly string[] AnonymousOperations =
        ["Auth_Register", "Auth_Login", "Auth_RefreshToken", "System_Health", "System_Info"];

    [Theory]
    [MemberData(nameof(ApiTable))]
    public void Every_route_of_the_API_table_is_documented_with_its_verb_and_operation_id(string verb, string path, string operationId)
    {
        var operation = Operation(verb, path);
        Assert.Equal(operationId, operation.GetProperty("operationId").GetString());
        Assert.Equal(operationId.Split('_')[0], Assert.Single(operation.GetProperty("tags").EnumerateArray()).GetString());
    }

    [Fact]
    public void The_document_holds_exactly_the_operations_of_the_API_table()
    {
        var documented = Operations().Select(o => $"{o.Verb} {o.Path}").Order().ToList();
        var expected = ApiTable.Select(row => $"{row[0]} {row[1]}").Order().ToList();
        Assert.Equal(expected, documented);
    }

    [Fact]
    public void Register_answers_201_with_AuthResponse_and_other_methods_200()
    {
        var register = Operation("post", "/api/register").GetProperty("responses");
        Assert.False(register.TryGetProperty("200", out _));
        Assert.Equal("#/components/schemas/AuthResponse", JsonSchemaRef(register.GetProperty("201")));
        Assert.Equal("#/components/schemas/AuthRequest",
            Operation("post", "/api/register").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());

        var login = Operation("post", "/api/login").GetProperty("responses");
        Assert.False(login.TryGetProperty("201", out _));
        Assert.Equal("#/components/schemas/AuthResponse", JsonSchemaRef(login.GetProperty("200")));
    }

    [Fact]
    public void PutSecret_takes_name_from_the_path_and_SecretInput_as_body()
    {
        var operation = Operation("put", "/api/v1/secrets/{name}");
        var parameter = Assert.Single(operation.GetProperty("parameters").EnumerateArray());
        Assert.Equal("name", parameter.GetProperty("name").GetString());
        Assert.Equal("path", parameter.GetProperty("in").GetString());
        Assert.True(parameter.GetProperty("required").GetBoolean());
        Assert.Equal("#/components/schemas/SecretInput",
            operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/SecretMetadata", JsonSchemaRef(operation.GetProperty("responses").GetProperty("200")));
        Assert.Equal(["value"], PropertyNames(Schemas.GetProperty("SecretInput")));
    }

    [Fact]
    public void GetAuditLog_has_pageSize_and_pageToken_query_parameters_and_no_body()
    {
        var operation = Operation("get", "/api/v1/audit");
        Assert.False(operation.TryGetProperty("requestBody", out _));
        var parameters = operation.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["pageSize", "pageToken"], parameters.Keys.Order());
        Assert.All(parameters.Values, p => Assert.Equal("query", p.GetProperty("in").GetString()));
        Assert.Equal("integer", parameters["pageSize"].GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("string", parameters["pageToken"].GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("#/components/schemas/AuditEntry",
            Schemas.GetProperty("GetAuditLogResponse").GetProperty("properties").GetProperty("entries").GetProperty("items").GetProperty("$ref").GetString());
    }

    [Fact]
    public void RemovePackage_binds_the_catch_all_name_from_the_path_and_language_from_the_query()
    {
        var operation = Operation("delete", "/api/v1/packages/{name}");
        var parameters = operation.GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("in").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["name"] = "path", ["language"] = "query" }, parameters);
        Assert.False(operation.GetProperty("responses").GetProperty("200").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema").TryGetProperty("$ref", out _)); // Empty is inline {}
        Assert.Equal("object", JsonSchema(operation.GetProperty("responses").GetProperty("200")).GetProperty("type").GetString());
        Assert.DoesNotContain(Doc.GetProperty("paths").EnumerateObject(), p => p.Name.Contains('='));
    }

    [Fact]
    public void StoreCode_body_is_the_request_without_the_path_field_in_wire_names()
    {
        var body = Operation("put", "/api/v1/zk/code/{name}").GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema");
        Assert.Equal(["description", "encryptedPayload", "language"], PropertyNames(body));
        Assert.Equal("#/components/schemas/ZKPayload", body.GetProperty("properties").GetProperty("encryptedPayload").GetProperty("$ref").GetString());
        Assert.Equal(["ciphertext", "nonce", "salt", "v"], PropertyNames(Schemas.GetProperty("ZKPayload")));

        var executeCode = Operation("post", "/api/v1/zk/execute/{name}").GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema");
        Assert.Contains("masterPassword", PropertyNames(executeCode));
        Assert.DoesNotContain("name", PropertyNames(executeCode));
        Assert.Equal(["description", "language", "name", "stored", "zeroKnowledge"], PropertyNames(Schemas.GetProperty("StoreCodeResponse")));
    }

    [Fact]
    public void Property_names_are_the_camelCase_json_names_of_the_wire()
    {
        Assert.Equal(["apiKey", "expiresAt", "refreshToken", "token", "user"], PropertyNames(Schemas.GetProperty("AuthResponse")));
        Assert.Equal(["authMethod", "createdAt", "email"], PropertyNames(Schemas.GetProperty("UserInfo")));
        Assert.Contains("exitCode", PropertyNames(Schemas.GetProperty("ExecuteResponse")));
        Assert.Contains("zeroKnowledge", PropertyNames(Schemas.GetProperty("ExecuteResponse")));

        var camel = new Regex("^[a-z][A-Za-z0-9]*$");
        foreach (var schema in Schemas.EnumerateObject().Where(s => s.Name != "Error"))
        {
            foreach (var name in PropertyNames(schema.Value))
            {
                Assert.True(camel.IsMatch(name), $"{schema.Name}.{name} is not a proto3 JSON name");
            }
        }
    }

    [Fact]
    public void Json_mapping_types_follow_proto3_json()
    {
        var execute = Schemas.GetProperty("ExecuteResponse").GetProperty("properties");
        AssertType(execute.GetProperty("durationMs"), "string", "int64");       // int64 -> string
        AssertType(execute.GetProperty("exitCode"), "integer", "int32");
        AssertType(execute.GetProperty("timedOut"), "boolean", null);
        AssertType(Schemas.GetProperty("EncryptedCodeMetadata").GetProperty("properties").GetProperty("size"), "string", "int64");
        AssertType(Schemas.GetProperty("Limits").GetProperty("properties").GetProperty("maxCodeBytes"), "string", "int64");
        AssertType(Schemas.GetProperty("Limits").GetProperty("properties").GetProperty("defaultTimeoutSeconds"), "number", "double");
        AssertType(Schemas.GetProperty("AuthResponse").GetProperty("properties").GetProperty("expiresAt"), "string", "date-time");

        var request = Schemas.GetProperty("ExecuteRequest").GetProperty("properties");
        Assert.Equal("array", request.GetProperty("args").GetProperty("type").GetString());
        Assert.Equal("string", request.GetProperty("args").GetProperty("items").GetProperty("type").GetString());
        Assert.Equal("object", request.GetProperty("env").GetProperty("type").GetString());
        Assert.Equal("string", request.GetProperty("env").GetProperty("additionalProperties").GetProperty("type").GetString());
        Assert.Equal("integer", Schemas.GetProperty("HealthResponse").GetProperty("properties").GetProperty("pool")
            .GetProperty("additionalProperties").GetProperty("type").GetString());

        // Enums are strings holding the value names.
        Assert.Equal("#/components/schemas/PackageStatus",
            Schemas.GetProperty("PackageInfo").GetProperty("properties").GetProperty("status").GetProperty("$ref").GetString());
        var status = Schemas.GetProperty("PackageStatus");
        Assert.Equal("string", status.GetProperty("type").GetString());
        Assert.Contains("PACKAGE_STATUS_READY", status.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));

        // Nothing is required: proto3 fields may be absent; optional ones say they are omitted when unset.
        Assert.All(Schemas.EnumerateObject(), s => Assert.False(s.Value.TryGetProperty("required", out _), s.Name));
        Assert.Contains("omitted when unset", Schemas.GetProperty("AuthResponse").GetProperty("properties").GetProperty("apiKey").GetProperty("description").GetString());
        Assert.DoesNotContain("omitted when unset", Schemas.GetProperty("AuthResponse").GetProperty("properties").GetProperty("token").GetProperty("description").GetString());
    }

    [Fact]
    public void ExecuteStream_is_documented_as_ndjson_of_ExecuteStreamEvent_with_its_oneof()
    {
        var ok = Operation("post", "/api/v1/execute/stream").GetProperty("responses").GetProperty("200");
        var content = ok.GetProperty("content");
        Assert.Equal(["application/x-ndjson"], content.EnumerateObject().Select(c => c.Name));
        Assert.Equal("#/components/schemas/ExecuteStreamEvent", content.GetProperty("application/x-ndjson").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Contains("newline-delimited JSON", ok.GetProperty("description").GetString());

        var streamEvent = Schemas.GetProperty("ExecuteStreamEvent");
        Assert.Equal(["chunk", "result"], PropertyNames(streamEvent));
        Assert.Contains("oneof", streamEvent.GetProperty("description").GetString());
        Assert.Equal("#/components/schemas/ExecuteResponse", streamEvent.GetProperty("properties").GetProperty("result").GetProperty("$ref").GetString());
    }

    [Fact]
    public void Schemas_are_named_by_message_and_every_reference_resolves()
    {
        string[] expected =
        [
            "AuthRequest", "AuthResponse", "UserInfo", "ExecuteRequest", "ExecuteResponse", "SecretInput", "GenerateRequest",
            "SecretMetadata", "GenerateResponse", "AuditEntry", "PackageInfo", "EncryptedCodeMetadata", "ZKPayload", "HealthResponse", "Error",
        ];
        var names = Schemas.EnumerateObject().Select(s => s.Name).ToHashSet();
        Assert.All(expected, name => Assert.Contains(name, names));

        var references = new List<string>();
        CollectRefs(Doc, references);
        Assert.NotEmpty(references);
        Assert.All(references, r =>
        {
            Assert.StartsWith("#/components/schemas/", r);
            Assert.Contains(r["#/components/schemas/".Length..], names);
        });
    }

    [Fact]
    public void Error_schema_is_google_rpc_Status_and_every_operation_uses_it()
    {
        var error = Schemas.GetProperty("Error");
        Assert.Equal(["code", "details", "message"], PropertyNames(error));
        AssertType(error.GetProperty("properties").GetProperty("code"), "integer", "int32");
        Assert.Equal("array", error.GetProperty("properties").GetProperty("details").GetProperty("type").GetString());

        foreach (var (_, _, operation) in Operations())
        {
            Assert.Equal("#/components/schemas/Error", JsonSchemaRef(operation.GetProperty("responses").GetProperty("default")));
        }
        // Statuses named by the proto comments.
        Assert.Equal("#/components/schemas/Error", JsonSchemaRef(Operation("post", "/api/register").GetProperty("responses").GetProperty("409")));
        Assert.True(Operation("delete", "/api/v1/secrets/{name}").GetProperty("responses").TryGetProperty("404", out _));
        Assert.True(Operation("post", "/api/v1/execute").GetProperty("responses").TryGetProperty("503", out _));
    }

    [Fact]
    public void Both_security_schemes_are_declared()
    {
        var schemes = Doc.GetProperty("components").GetProperty("securitySchemes");
        var apiKey = schemes.GetProperty("ApiKey");
        Assert.Equal("apiKey", apiKey.GetProperty("type").GetString());
        Assert.Equal("header", apiKey.GetProperty("in").GetString());
        Assert.Equal("x-api-key", apiKey.GetProperty("name").GetString());
        var bearer = schemes.GetProperty("Bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.Equal("JWT", bearer.GetProperty("bearerFormat").GetString());
        Assert.False(Doc.TryGetProperty("security", out _)); // no global requirement: it is per operation
    }

    [Fact]
    public void Anonymous_operations_have_no_security_and_all_others_accept_either_scheme()
    {
        var seen = 0;
        foreach (var (_, _, operation) in Operations())
        {
            var id = operation.GetProperty("operationId").GetString()!;
            if (AnonymousOperations.Contains(id))
            {
                Assert.False(operation.TryGetProperty("security", out _), $"{id} should be anonymous");
                if (id.StartsWith("System_", StringComparison.Ordinal))
                {
                    Assert.False(operation.GetProperty("responses").TryGetProperty("401", out _), id);
                }
                continue;
            }
            seen++;
            var alternatives = operation.GetProperty("security").EnumerateArray()
                .Select(requirement => string.Join("+", requirement.EnumerateObject().Select(p => p.Name))).Order().ToList();
            Assert.Equal(["ApiKey", "Bearer"], alternatives);
            Assert.True(operation.GetProperty("responses").TryGetProperty("401", out _), id);
        }
        Assert.Equal(ApiTable.Count() - AnonymousOperations.Length, seen);
    }

    [Fact]
    public void Texts_come_from_the_proto_comments()
    {
        var register = Operation("post", "/api/register");
        Assert.Equal("Creates an account and returns a JWT, a refresh token and the account's API key.", register.GetProperty("summary").GetString());
        Assert.Contains("ALREADY_EXISTS (409)", register.GetProperty("description").GetString());
        Assert.Contains("pythonapi.v1.Auth/Register", register.GetProperty("description").GetString());

        Assert.Equal("Email and password, for Register and Login.", Schemas.GetProperty("AuthRequest").GetProperty("description").GetString());
        Assert.StartsWith("The account's API key (`pyapi_` + 43 characters)",
            Schemas.GetProperty("AuthResponse").GetProperty("properties").GetProperty("apiKey").GetProperty("description").GetString());
        Assert.Contains("`PACKAGE_STATUS_READY`: Installed and importable in runs.", Schemas.GetProperty("PackageStatus").GetProperty("description").GetString());

        var auditParameter = Operation("get", "/api/v1/audit").GetProperty("parameters").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == "pageSize");
        Assert.Equal("Entries per page, 1 to 200; 50 when unset or 0.", auditParameter.GetProperty("description").GetString());

        var tag = Doc.GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "Secrets");
        Assert.StartsWith("Per-user secrets, injected into every run", tag.GetProperty("description").GetString());
    }

    private IEnumerable<(string Verb, string Path, JsonElement Operation)> Operations() =>
        from path in Doc.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        select (operation.Name, path.Name, operation.Value);

    private JsonElement Operation(string verb, string path)
    {
        Assert.True(Doc.GetProperty("paths").TryGetProperty(path, out var item), $"path {path} missing");
        Assert.True(item.TryGetProperty(verb, out var operation), $"{verb} {path} missing");
        return operation;
    }

    private static JsonElement JsonSchema(JsonElement response) =>
        response.GetProperty("content").GetProperty("application/json").GetProperty("schema");

    private static string? JsonSchemaRef(JsonElement response) => JsonSchema(response).GetProperty("$ref").GetString();

    private static List<string> PropertyNames(JsonElement schema) =>
        schema.TryGetProperty("properties", out var properties)
            ? properties.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList()
            : [];

    private static void AssertType(JsonElement schema, string type, string? format)
    {
        Assert.Equal(type, schema.GetProperty("type").GetString());
        Assert.Equal(format, schema.TryGetProperty("format", out var f) ? f.GetString() : null);
    }

    private static void CollectRefs(JsonElement element, List<string> references)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref") references.Add(property.Value.GetString()!);
                    else CollectRefs(property.Value, references);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) CollectRefs(item, references);
                break;
        }
    }
}
