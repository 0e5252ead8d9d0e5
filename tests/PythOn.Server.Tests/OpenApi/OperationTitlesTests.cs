using System.Net;
using System.Text.Json;
using Google.Protobuf;
using PythOn.Api.Operations;
using PythOn.Server.Errors;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>
/// The API reference in the seeds' words: every operation's summary and tag, its examples, and the rules of the
/// <c>(pythonapi.v1.operation)</c> option as the served document and the running endpoints apply them.
/// </summary>
public sealed class OperationTitlesTests(ApiDocsHost host) : IClassFixture<ApiDocsHost>
{
    /// <summary>The seeds' operation titles and group names, by operation id (the RPCs of DESIGN.md's API table, plus
    /// the two credential RPCs titled in the same style).</summary>
    public static TheoryData<string, string, string> SeedTitles => new()
    {
        { "Auth_Register", "Register a new user", "Auth" },
        { "Auth_Login", "Login", "Auth" },
        { "Auth_VerifyToken", "Verify token", "Auth" },
        { "Auth_RefreshToken", "Refresh token", "Auth" },
        { "Auth_RotateApiKey", "Rotate the API key", "Auth" },
        { "Auth_RevokeAllCredentials", "Revoke all credentials", "Auth" },
        { "Execute_Execute", "Execute code", "Execute" },
        { "Execute_ExecuteStream", "Execute code and stream its output", "Execute" },
        { "Secrets_PutSecret", "Create or update a secret", "Secrets" },
        { "Secrets_DeleteSecret", "Delete a secret", "Secrets" },
        { "Secrets_ListSecrets", "List all secrets", "Secrets" },
        { "Audit_GetAuditLog", "Get audit log", "Audit" },
        { "System_Health", "Health check", "System" },
        { "System_Info", "API info", "System" },
        { "Generate_Generate", "AI generate and execute code", "Generate" },
        { "Packages_ListPackages", "List persistent packages", "Packages" },
        { "Packages_SetPackages", "Set package list", "Packages" },
        { "Packages_AddPackage", "Add a single package", "Packages" },
        { "Packages_RemovePackage", "Remove a package", "Packages" },
        { "ZK_Encrypt", "Client encryption helper", "Zero-Knowledge" },
        { "ZK_StoreCode", "Store encrypted code", "Zero-Knowledge" },
        { "ZK_DeleteCode", "Delete encrypted code", "Zero-Knowledge" },
        { "ZK_ListCode", "List encrypted code", "Zero-Knowledge" },
        { "ZK_ExecuteCode", "Decrypt and execute in sandbox", "Zero-Knowledge" },
    };

    [Fact]
    public void Every_documented_operation_has_the_seed_title_as_summary_and_the_seed_group_as_tag()
    {
        var documented = Operations().ToDictionary(
            o => o.Operation.GetProperty("operationId").GetString()!,
            o => (o.Operation.GetProperty("summary").GetString(), Assert.Single(o.Operation.GetProperty("tags").EnumerateArray()).GetString()));
        var seeds = SeedTitles.ToDictionary(row => (string)row[0], row => ((string?)row[1], (string?)row[2]));

        Assert.Equal(seeds.OrderBy(s => s.Key), documented.OrderBy(d => d.Key));
    }

    [Fact]
    public void The_tags_are_the_seed_groups_each_described_by_its_service_comment()
    {
        var tags = host.Document.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t);

        Assert.Equal(["Audit", "Auth", "Execute", "Generate", "Packages", "Secrets", "System", "Zero-Knowledge"], tags.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("Zero-knowledge code: programs stored only encrypted", tags["Zero-Knowledge"].GetProperty("description").GetString());
    }

    [Fact]
    public void Every_operation_has_a_response_example_and_an_example_for_each_path_parameter_and_body()
    {
        // Except where the example is {}: Microsoft.OpenApi leaves empty objects out (the page then sends {} from the schema).
        foreach (var (verb, path, operation) in Operations())
        {
            var name = $"{verb} {path}";
            var method = ApiOf(operation).Method;
            var parameters = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
            var pathFields = parameters.Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()).ToHashSet();

            var success = operation.GetProperty("responses").EnumerateObject().Single(r => r.Name is "200" or "201").Value;
            var media = success.GetProperty("content").EnumerateObject().Single().Value;
            if (method.OutputType.Fields.InDeclarationOrder().Count > 0)
                Assert.True(media.TryGetProperty("example", out _), $"{name}: no response example");

            if (operation.TryGetProperty("requestBody", out var body) && method.InputType.Fields.InDeclarationOrder().Any(f => !pathFields.Contains(f.Name)))
                Assert.True(body.GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _), $"{name}: no body example");
            foreach (var parameter in parameters.Where(p => p.GetProperty("in").GetString() == "path"))
                Assert.True(parameter.TryGetProperty("example", out _), $"{name}: no example for {parameter.GetProperty("name")}");
        }
    }

    [Fact]
    public void The_documented_examples_of_the_seeds_are_served_as_given()
    {
        var register = Operation("post", "/api/register");
        Assert.Equal("""{"email":"developer@example.com","password":"secureP@ss123"}""",
            register.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").Compact());

        var zkExecute = Operation("post", "/api/v1/zk/execute/{name}");
        Assert.Equal("""{"masterPassword":"MyS3cur3P@ss!","packages":["requests"]}""",
            zkExecute.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").Compact());
        var result = zkExecute.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal("Hello from zero-knowledge!\n", result.GetProperty("output").GetString());
        Assert.True(result.GetProperty("zeroKnowledge").GetBoolean());

        // The path variable is not repeated in the body: "try it" sends it once, in the path.
        var storeCode = Operation("put", "/api/v1/zk/code/{name}");
        Assert.Equal("hello", Assert.Single(storeCode.GetProperty("parameters").EnumerateArray()).GetProperty("example").GetString());
        Assert.False(storeCode.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").TryGetProperty("name", out _));
    }

    [Fact]
    public void Every_example_parses_as_its_message_in_wire_names()
    {
        // Strict proto3 JSON: an unknown or misspelt field name fails, so an example cannot drift from the contract.
        var parser = new JsonParser(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));
        foreach (var operation in ApiOperations.All)
        {
            Assert.False(string.IsNullOrEmpty(operation.Info.RequestExample), $"{operation.FullName}: no request example");
            Assert.False(string.IsNullOrEmpty(operation.Info.ResponseExample), $"{operation.FullName}: no response example");
            parser.Parse(operation.Info.RequestExample, operation.Method.InputType);
            parser.Parse(operation.Info.ResponseExample, operation.Method.OutputType);
        }
    }

    [Fact]
    public void Every_public_rpc_has_a_summary_and_one_of_the_seed_groups()
    {
        var groups = SeedTitles.Select(row => (string)row[2]).ToHashSet();
        var methods = new[]
            {
                Api.V1.Auth.Descriptor, Api.V1.Execute.Descriptor, Api.V1.Secrets.Descriptor, Api.V1.Audit.Descriptor,
                Api.V1.System.Descriptor, Api.V1.Generate.Descriptor, Api.V1.Packages.Descriptor, Api.V1.ZK.Descriptor,
            }
            .SelectMany(s => s.Methods).Select(ApiOperations.NameOf).Order(StringComparer.Ordinal);

        Assert.Equal(methods, ApiOperations.All.Select(o => o.FullName).Order(StringComparer.Ordinal));
        Assert.All(ApiOperations.All, o => Assert.False(string.IsNullOrWhiteSpace(o.Info.Summary), o.FullName));
        Assert.All(ApiOperations.All, o => Assert.Contains(o.Info.Tag, groups));
    }

    [Fact]
    public async Task Exactly_the_operations_marked_anonymous_answer_callers_without_credentials()
    {
        // The host authenticates nobody: an operation answers anything but 401 only when its option opened it.
        foreach (var (verb, path, operation) in Operations())
        {
            var id = operation.GetProperty("operationId").GetString()!;
            var anonymous = ApiOf(operation).Info.Anonymous;
            using var request = new HttpRequestMessage(new HttpMethod(verb.ToUpperInvariant()), path.Replace("{name}", "x"));
            if (verb is "post" or "put") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

            using var response = await host.Client.SendAsync(request);

            if (anonymous) Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
            else Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{id} answered {(int)response.StatusCode} without credentials");
        }
    }

    [Fact]
    public async Task A_cancelled_call_answers_499_as_the_one_status_mapping_says()
    {
        using var response = await host.Client.GetAsync("/api/v1/health"); // the stub fails with CANCELLED

        Assert.Equal(499, (int)response.StatusCode);
        Assert.Equal(HttpStatuses.For(Grpc.Core.StatusCode.Cancelled), (int)response.StatusCode);
        Assert.Equal(1, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
    }

    private IEnumerable<(string Verb, string Path, JsonElement Operation)> Operations() =>
        from path in host.Document.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        select (operation.Name, path.Name, operation.Value);

    private static ApiOperation ApiOf(JsonElement operation) =>
        ApiOperations.All.Single(o => $"{o.Method.Service.Name}_{o.Method.Name}" == operation.GetProperty("operationId").GetString());

    private JsonElement Operation(string verb, string path) => host.Document.GetProperty("paths").GetProperty(path).GetProperty(verb);
}

internal static class JsonElementText
{
    /// <summary>The element as compact JSON, whatever the document's indentation.</summary>
    public static string Compact(this JsonElement element) => JsonSerializer.Serialize(element);
}
