using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Secrets;

/// <summary>PutSecret, ListSecrets and DeleteSecret on both protocols; values never come back.</summary>
public abstract class SecretsApiTests(ITestServer server) : IAsyncLifetime
{
    private TestUser _user = null!;

    /// <summary>Shared by the tests of the class: each works on secret names of its own.</summary>
    public async Task InitializeAsync() => _user = await server.SharedAsync("secrets user", () => Users.RegisterAsync(server.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    private static string UniqueName(string hint) => $"{hint}_{Guid.NewGuid():N}".ToUpperInvariant()[..Math.Min(64, hint.Length + 33)];

    [Fact]
    public async Task PutSecret_over_REST_returns_the_name_and_timestamps_but_not_the_value()
    {
        var name = UniqueName("API_TOKEN");
        var response = await server.Rest.PutAsync($"/api/v1/secrets/{name}", new { value = "s3cr3t-put-value" }, _user.Key);

        var json = response.Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["createdAt", "name", "updatedAt"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal(name, json.Str("name"));
        Assert.DoesNotContain("s3cr3t-put-value", response.Body);
    }

    [Fact]
    public async Task ListSecrets_over_REST_shows_names_and_never_values()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PutAsync("/api/v1/secrets/B_SECRET", new { value = "value-of-b-123" }, user.Jwt)).Expect(HttpStatusCode.OK);
        (await server.Rest.PutAsync("/api/v1/secrets/A_SECRET", new { value = "value-of-a-123" }, user.Key)).Expect(HttpStatusCode.OK);

        var response = (await server.Rest.GetAsync("/api/v1/secrets", user.Key)).Expect(HttpStatusCode.OK);

        var secrets = response.Json.Items("secrets");
        Assert.Equal(["A_SECRET", "B_SECRET"], secrets.Select(s => s.Str("name")));
        Assert.All(secrets, s => Assert.Equal(["createdAt", "name", "updatedAt"], s.PropertyNames().Order(StringComparer.Ordinal)));
        Assert.DoesNotContain("value-of-", response.Body);
    }

    [Fact]
    public async Task Putting_a_secret_again_replaces_it_and_keeps_its_creation_time()
    {
        var name = UniqueName("ROTATED");
        var first = (await server.Rest.PutAsync($"/api/v1/secrets/{name}", new { value = "one-1" }, _user.Key)).Expect(HttpStatusCode.OK).Json;
        var second = (await server.Rest.PutAsync($"/api/v1/secrets/{name}", new { value = "two-2" }, _user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(first.Str("createdAt"), second.Str("createdAt"));
        var list = (await server.Rest.GetAsync("/api/v1/secrets", _user.Key)).Json.Items("secrets");
        Assert.Single(list, s => s.Str("name") == name);
    }

    [Fact]
    public async Task DeleteSecret_over_REST_removes_it_and_a_second_delete_is_404()
    {
        var name = UniqueName("GONE");
        (await server.Rest.PutAsync($"/api/v1/secrets/{name}", new { value = "bye-bye-1" }, _user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.DeleteAsync($"/api/v1/secrets/{name}", _user.Key)).Expect(HttpStatusCode.OK);

        var names = (await server.Rest.GetAsync("/api/v1/secrets", _user.Key)).Json.Items("secrets").Select(s => s.Str("name"));
        Assert.DoesNotContain(name, names);
        (await server.Rest.DeleteAsync($"/api/v1/secrets/{name}", _user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
    }

    [Fact]
    public async Task Secrets_put_list_and_delete_over_gRPC()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var auth = user.Jwt.Metadata;

        var stored = await server.Rpc.Secrets.PutSecretAsync(
            new PutSecretRequest { Name = "GRPC_SECRET", Secret = new SecretInput { Value = "grpc-value-1" } }, auth);
        Assert.Equal("GRPC_SECRET", stored.Name);
        Assert.True(stored.CreatedAt.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var listed = await server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), auth);
        Assert.Equal(["GRPC_SECRET"], listed.Secrets.Select(s => s.Name));

        await server.Rpc.Secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = "GRPC_SECRET" }, auth);
        Assert.Empty((await server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), auth)).Secrets);
        await RpcAssert.FailsWith(StatusCode.NotFound, server.Rpc.Secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = "GRPC_SECRET" }, auth));
    }

    [Theory]
    [InlineData("lower_case")]
    [InlineData("1STARTS_WITH_DIGIT")]
    [InlineData("HAS-DASH")]
    [InlineData("HAS.DOT")]
    [InlineData("TOO_LONG_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_bad_secret_name_is_400(string name)
    {
        var json = (await server.Rest.PutAsync($"/api/v1/secrets/{name}", new { value = "v-1" }, _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains("A-Z", json.Str("message"));
    }

    [Fact]
    public async Task A_bad_secret_name_is_INVALID_ARGUMENT_over_gRPC() =>
        await RpcAssert.FailsWith(StatusCode.InvalidArgument, server.Rpc.Secrets.PutSecretAsync(
            new PutSecretRequest { Name = "bad name", Secret = new SecretInput { Value = "v" } }, _user.Key.Metadata));

    [Theory]
    [InlineData("a")]
    [InlineData("ab")]
    public async Task A_secret_value_too_short_to_mask_is_400(string value)
    {
        var json = (await server.Rest.PutAsync("/api/v1/secrets/SHORT", new { value }, _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains("at least 3 characters", json.Str("message"));
    }

    [Fact]
    public async Task A_secret_value_over_64_KiB_is_400()
    {
        var json = (await server.Rest.PutAsync("/api/v1/secrets/BIG", new { value = new string('x', 64 * 1024 + 1) }, _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains("65536", json.Str("message"));
    }

    [Fact]
    public async Task A_secret_value_over_64_KiB_in_UTF8_bytes_is_INVALID_ARGUMENT_over_gRPC() =>
        // 32 769 two-byte characters: under 64 Ki characters, over 64 KiB of UTF-8.
        await RpcAssert.FailsWith(StatusCode.InvalidArgument, server.Rpc.Secrets.PutSecretAsync(
            new PutSecretRequest { Name = "BIG", Secret = new SecretInput { Value = new string('é', 32 * 1024 + 1) } }, _user.Key.Metadata));

    [Fact]
    public async Task A_secret_value_of_exactly_64_KiB_is_accepted() =>
        (await server.Rest.PutAsync("/api/v1/secrets/EXACTLY_64K", new { value = new string('x', 64 * 1024) }, _user.Key)).Expect(HttpStatusCode.OK);

    [Fact]
    public async Task An_empty_secret_value_is_400() =>
        (await server.Rest.PutAsync("/api/v1/secrets/EMPTY", new { value = "" }, _user.Key)).ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task Malformed_JSON_in_a_secret_is_400() =>
        (await server.Rest.SendAsync(HttpMethod.Put, "/api/v1/secrets/MALFORMED", """{"value": "unterminated""", _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task Deleting_a_secret_that_never_existed_is_404() =>
        (await server.Rest.DeleteAsync("/api/v1/secrets/NEVER_EXISTED", _user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class SecretsApiInProcess(InProcessServer server) : SecretsApiTests(server), IClassFixture<InProcessServer>;

public sealed class SecretsApiOverRealProcess(ProcessServerFixture server) : SecretsApiTests(server), IClassFixture<ProcessServerFixture>;
