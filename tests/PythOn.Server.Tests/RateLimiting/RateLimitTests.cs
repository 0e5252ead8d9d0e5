using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.RateLimiting;

/// <summary>
/// Per-address limits on sign-in and per-user limits on authenticated calls: REST answers 429 with Retry-After and a
/// Status body with code 8; gRPC answers RESOURCE_EXHAUSTED (not UNAVAILABLE). Each test gets a server of its own.
/// </summary>
public abstract class RateLimitTests
{
    protected abstract Task<ITestServer> StartAsync(IDictionary<string, string?> settings);

    private Task<ITestServer> StartWithAuthLimit(int perMinute) =>
        StartAsync(new Dictionary<string, string?> { ["PythOn:RateLimits:AuthPerMinute"] = perMinute.ToString() });

    private Task<ITestServer> StartWithUserLimit(int perMinute) =>
        StartAsync(new Dictionary<string, string?> { ["PythOn:RateLimits:UserPerMinute"] = perMinute.ToString() });

    private static void AssertRetryAfter(RestResponse response)
    {
        var retryAfter = response.Headers.RetryAfter;
        Assert.True(retryAfter?.Delta is not null, $"{response}: no Retry-After header in seconds");
        Assert.InRange(retryAfter!.Delta!.Value.TotalSeconds, 1, 60);
    }

    [Fact]
    public async Task The_fourth_login_from_one_address_within_a_minute_is_429_with_Retry_After_and_code_8()
    {
        await using var server = await StartWithAuthLimit(3);
        for (var i = 0; i < 3; i++)
            (await server.Rest.PostAsync("/api/login", new { email = "nobody@example.com", password = "wrong-Password-1" })).Expect(HttpStatusCode.Unauthorized);

        var fourth = await server.Rest.PostAsync("/api/login", new { email = "nobody@example.com", password = "wrong-Password-1" });

        fourth.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
        AssertRetryAfter(fourth);
    }

    [Fact]
    public async Task The_fourth_login_over_gRPC_is_RESOURCE_EXHAUSTED_not_UNAVAILABLE()
    {
        await using var server = await StartWithAuthLimit(3);
        var request = new AuthRequest { Email = "nobody@example.com", Password = "wrong-Password-1" };
        for (var i = 0; i < 3; i++)
            await RpcAssert.FailsWith(StatusCode.Unauthenticated, server.Rpc.Auth.LoginAsync(request));

        var error = await RpcAssert.FailsWith(StatusCode.ResourceExhausted, server.Rpc.Auth.LoginAsync(request));
        Assert.Contains("retry after", error.Status.Detail);
    }

    [Fact]
    public async Task Register_counts_against_the_same_per_address_limit()
    {
        await using var server = await StartWithAuthLimit(3);
        for (var i = 0; i < 3; i++) await Users.RegisterAsync(server.Rest);

        (await server.Rest.PostAsync("/api/register", new { email = Users.UniqueEmail(), password = Users.Password }))
            .ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
    }

    [Fact]
    public async Task The_per_user_limit_answers_429_with_Retry_After_on_an_authenticated_REST_call()
    {
        await using var server = await StartWithUserLimit(3);
        var user = await Users.RegisterAsync(server.Rest);
        for (var i = 0; i < 3; i++) (await server.Rest.GetAsync("/api/v1/secrets", user.Key)).Expect(HttpStatusCode.OK);

        var fourth = await server.Rest.GetAsync("/api/v1/secrets", user.Key);

        fourth.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
        AssertRetryAfter(fourth);
    }

    [Fact]
    public async Task The_per_user_limit_answers_RESOURCE_EXHAUSTED_over_gRPC_whatever_the_credential()
    {
        await using var server = await StartWithUserLimit(3);
        var user = await Users.RegisterAsync(server.Rest);
        await server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), user.Key.Metadata);
        await server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), user.Jwt.Metadata);
        await server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), user.Key.Metadata);

        await RpcAssert.FailsWith(StatusCode.ResourceExhausted,
            server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), user.Jwt.Metadata));
    }

    [Fact]
    public async Task One_user_reaching_the_limit_does_not_throttle_another()
    {
        await using var server = await StartWithUserLimit(3);
        var alice = await Users.RegisterAsync(server.Rest);
        var bob = await Users.RegisterAsync(server.Rest);
        for (var i = 0; i < 3; i++) (await server.Rest.GetAsync("/api/v1/secrets", alice.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.GetAsync("/api/v1/secrets", alice.Key)).Expect(HttpStatusCode.TooManyRequests);

        (await server.Rest.GetAsync("/api/v1/secrets", bob.Key)).Expect(HttpStatusCode.OK);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class RateLimitInProcess : RateLimitTests
{
    protected override Task<ITestServer> StartAsync(IDictionary<string, string?> settings) => Task.FromResult(TestServers.InProcess(settings));

    [Fact]
    public async Task Valid_logins_are_throttled_too()
    {
        await using var server = (InProcessServer)TestServers.InProcess(new Dictionary<string, string?> { ["PythOn:RateLimits:AuthPerMinute"] = "3" });
        var user = await Users.SeedAsync(server); // not through HTTP: uses no permit
        for (var i = 0; i < 3; i++)
            (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Expect(HttpStatusCode.OK);

        (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password }))
            .ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
    }
}

public sealed class RateLimitOverRealProcess : RateLimitTests
{
    protected override Task<ITestServer> StartAsync(IDictionary<string, string?> settings) => TestServers.ProcessAsync(settings);
}
