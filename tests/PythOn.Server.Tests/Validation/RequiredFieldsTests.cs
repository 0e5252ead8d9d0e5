using System.Net;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Validation;

/// <summary>Every RPC's required body fields, sent missing and empty: a clear 400 (INVALID_ARGUMENT) that names what to
/// fix, never a 500. Path parameters are required by the route itself.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class RequiredFieldsTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    public static TheoryData<string, string, string, string> Cases => new()
    {
        // method, path, body, a word the message must contain
        { "POST", "/api/register", "{}", "email" },
        { "POST", "/api/register", """{"email":"","password":"secureP@ss123"}""", "email" },
        { "POST", "/api/register", """{"email":"a@example.com"}""", "password" },
        { "POST", "/api/register", """{"email":"a@example.com","password":""}""", "password" },
        { "POST", "/api/login", "{}", "email" },
        { "POST", "/api/login", """{"email":"a@example.com","password":""}""", "password" },
        { "POST", "/api/refresh", "{}", "refreshToken" },
        { "POST", "/api/refresh", """{"refreshToken":""}""", "refreshToken" },
        { "PUT", "/api/v1/secrets/NAME", "{}", "value" },
        { "PUT", "/api/v1/secrets/NAME", """{"value":""}""", "value" },
        { "POST", "/api/v1/execute", "{}", "language" },
        { "POST", "/api/v1/execute", """{"language":"python","code":""}""", "code" },
        { "POST", "/api/v1/execute", """{"code":"print(1)"}""", "language" },
        { "POST", "/api/v1/execute", """{"code":"print(1)","language":""}""", "language" },
        { "POST", "/api/v1/execute/stream", "{}", "language" },
        { "POST", "/api/v1/generate", "{}", "prompt" },
        { "POST", "/api/v1/generate", """{"prompt":""}""", "prompt" },
        { "PUT", "/api/v1/packages", "{}", "language" },
        { "POST", "/api/v1/packages", "{}", "language" },
        { "POST", "/api/v1/packages", """{"language":"python"}""", "package" },
        { "POST", "/api/v1/packages", """{"language":"python","package":""}""", "package" },
        { "POST", "/api/v1/zk/encrypt", "{}", "masterPassword" },
        { "POST", "/api/v1/zk/encrypt", """{"masterPassword":"MyS3cur3P@ss!"}""", "code" },
        { "POST", "/api/v1/zk/encrypt", """{"code":"print(1)"}""", "masterPassword" },
        { "POST", "/api/v1/zk/encrypt", """{"code":"print(1)","masterPassword":""}""", "masterPassword" },
        { "PUT", "/api/v1/zk/code/prog", "{}", "language" },
        { "PUT", "/api/v1/zk/code/prog", """{"language":"python"}""", "encryptedPayload" },
        { "PUT", "/api/v1/zk/code/prog", """{"encryptedPayload":{"v":1,"salt":"","nonce":"","ciphertext":""},"language":"python"}""", "salt" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_missing_or_empty_required_field_is_400_naming_it(string method, string path, string body, string field)
    {
        var user = await Users.SeedAsync(server);
        var response = await server.Rest.SendAsync(new HttpMethod(method), path, body, user.Key);
        Assert.True(response.Status == HttpStatusCode.BadRequest, $"{method} {path} {body}: {response}");
        var json = response.ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains(field, json.Str("message"), StringComparison.OrdinalIgnoreCase);
    }
}
