using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Auth;

/// <summary>Rotating refresh tokens: each works once; reuse revokes the whole family.</summary>
public abstract class RefreshTokenTests(ITestServer server)
{
    private Task<RestResponse> RefreshOverRest(string refreshToken) =>
        server.Rest.PostAsync("/api/refresh", new { refreshToken });

    [Fact]
    public async Task A_refresh_token_is_exchanged_for_a_working_token_and_a_new_refresh_token()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var json = (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["expiresAt", "refreshToken", "token", "user"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.NotEqual(user.RefreshToken, json.Str("refreshToken"));
        var verified = (await server.Rest.PostAsync("/api/verify", new { }, Credentials.Bearer(json.Str("token")))).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(user.Email, verified.Str("email"));
    }

    [Fact]
    public async Task A_refresh_token_used_twice_is_refused_with_401()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.OK);

        (await RefreshOverRest(user.RefreshToken)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }

    [Fact]
    public async Task Reusing_a_refresh_token_also_revokes_the_newer_token_of_the_same_family()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var newer = (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.OK).Json.Str("refreshToken");
        (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.Unauthorized);

        (await RefreshOverRest(newer)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }

    [Fact]
    public async Task Revoking_one_family_leaves_the_refresh_token_of_another_sign_in_working()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var otherSession = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Json.Str("refreshToken");
        (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.OK);
        (await RefreshOverRest(user.RefreshToken)).Expect(HttpStatusCode.Unauthorized);

        (await RefreshOverRest(otherSession)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_token_rotation_over_gRPC_works_once_and_reuse_revokes_the_family()
    {
        var user = await Users.RegisterAsync(server.Rpc);
        var rotated = await server.Rpc.Auth.RefreshTokenAsync(new RefreshTokenRequest { RefreshToken = user.RefreshToken });
        Assert.StartsWith("eyJ", rotated.Token);
        Assert.False(rotated.HasApiKey);

        await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            server.Rpc.Auth.RefreshTokenAsync(new RefreshTokenRequest { RefreshToken = user.RefreshToken }));
        await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            server.Rpc.Auth.RefreshTokenAsync(new RefreshTokenRequest { RefreshToken = rotated.RefreshToken }));
    }

    [Fact]
    public async Task A_refresh_token_redeemed_concurrently_succeeds_at_most_once()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => RefreshOverRest(user.RefreshToken)));

        Assert.Single(attempts, r => r.Status == HttpStatusCode.OK);
        Assert.All(attempts.Where(r => r.Status != HttpStatusCode.OK), r => r.ExpectStatusBody(HttpStatusCode.Unauthorized, 16));
    }

    [Fact]
    public async Task An_unknown_refresh_token_is_refused_with_401() =>
        (await RefreshOverRest("pyrt_" + new string('A', 43))).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);

    [Fact]
    public async Task An_empty_refresh_token_is_400() =>
        (await RefreshOverRest("")).ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task An_API_key_is_not_a_refresh_token()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await RefreshOverRest(user.ApiKey)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class RefreshTokenInProcess(InProcessServer server) : RefreshTokenTests(server), IClassFixture<InProcessServer>;

public sealed class RefreshTokenOverRealProcess(ProcessServerFixture server) : RefreshTokenTests(server), IClassFixture<ProcessServerFixture>;
