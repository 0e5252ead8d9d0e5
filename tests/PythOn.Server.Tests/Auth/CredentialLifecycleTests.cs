using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Auth;

/// <summary>A user whose key leaked: rotate the key, or revoke every credential at once.</summary>
public abstract class CredentialLifecycleTests(ITestServer server)
{
    private Task<RestResponse> Verify(Credentials credentials) => server.Rest.PostAsync("/api/verify", new { }, credentials);

    [Fact]
    public async Task Rotating_the_api_key_returns_a_working_new_key_and_the_old_one_stops_working()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var json = (await server.Rest.PostAsync("/api/v1/auth/api-key/rotate", new { }, user.Key)).Expect(HttpStatusCode.OK).Json;
        var fresh = json.Str("apiKey");

        Assert.StartsWith("pyapi_", fresh);
        Assert.NotEqual(user.ApiKey, fresh);
        (await Verify(user.Key)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        Assert.Equal(user.Email, (await Verify(Credentials.ApiKey(fresh))).Expect(HttpStatusCode.OK).Json.Str("email"));
        (await Verify(user.Jwt)).Expect(HttpStatusCode.OK); // the JWT is not the key: it keeps working
    }

    [Fact]
    public async Task Rotating_over_gRPC_with_a_jwt_works_too()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var rotated = await server.Rpc.Auth.RotateApiKeyAsync(new RotateApiKeyRequest(), user.Jwt.Metadata);
        await server.Rpc.Auth.VerifyTokenAsync(new VerifyTokenRequest(), Credentials.ApiKey(rotated.ApiKey).Metadata);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, server.Rpc.Auth.VerifyTokenAsync(new VerifyTokenRequest(), user.Key.Metadata));
    }

    [Fact]
    public async Task Revoking_everything_ends_the_api_key_the_refresh_token_and_earlier_jwts()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var login = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Expect(HttpStatusCode.OK).Json;

        var json = (await server.Rest.PostAsync("/api/v1/auth/revoke-all", new { }, user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(1, json.Prop("apiKeysRevoked").GetInt32());
        Assert.Equal(2, json.Prop("refreshTokensRevoked").GetInt32()); // register's and login's
        (await Verify(user.Key)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        (await Verify(user.Jwt)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        (await Verify(Credentials.Bearer(login.Str("token")))).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        (await server.Rest.PostAsync("/api/refresh", new { refreshToken = login.Str("refreshToken") })).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }

    [Fact]
    public async Task After_revoking_everything_a_new_sign_in_works_and_can_get_a_new_key()
    {
        var user = await Users.RegisterAsync(server.Rest);
        await server.Rpc.Auth.RevokeAllCredentialsAsync(new RevokeAllCredentialsRequest(), user.Jwt.Metadata);

        var login = await server.Rpc.Auth.LoginAsync(new AuthRequest { Email = user.Email, Password = user.Password });
        var jwt = Credentials.Bearer(login.Token);
        (await Verify(jwt)).Expect(HttpStatusCode.OK);
        var key = (await server.Rpc.Auth.RotateApiKeyAsync(new RotateApiKeyRequest(), jwt.Metadata)).ApiKey;
        (await Verify(Credentials.ApiKey(key))).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rotation_and_revocation_are_in_the_audit_log()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var key = (await server.Rpc.Auth.RotateApiKeyAsync(new RotateApiKeyRequest(), user.Key.Metadata)).ApiKey;
        var audit = (await server.Rest.GetAsync("/api/v1/audit?pageSize=10", Credentials.ApiKey(key))).Expect(HttpStatusCode.OK).Body;
        Assert.Contains("auth.key.rotate", audit);
        Assert.DoesNotContain(key, audit);
        await server.Rpc.Auth.RevokeAllCredentialsAsync(new RevokeAllCredentialsRequest(), Credentials.ApiKey(key).Metadata);
        var login = await server.Rpc.Auth.LoginAsync(new AuthRequest { Email = user.Email, Password = user.Password });
        var after = (await server.Rest.GetAsync("/api/v1/audit?pageSize=10", Credentials.Bearer(login.Token))).Expect(HttpStatusCode.OK).Body;
        Assert.Contains("auth.revoke_all", after);
    }

    [Fact]
    public async Task Both_need_credentials()
    {
        (await server.Rest.PostAsync("/api/v1/auth/api-key/rotate", new { }, Credentials.None)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        (await server.Rest.PostAsync("/api/v1/auth/revoke-all", new { }, Credentials.None)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class CredentialLifecycleInProcess(InProcessServer server) : CredentialLifecycleTests(server), IClassFixture<InProcessServer>;
