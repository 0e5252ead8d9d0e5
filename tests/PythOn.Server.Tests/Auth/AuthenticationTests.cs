using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Auth;

/// <summary>Missing and bad credentials of both schemes are refused on both protocols.</summary>
public abstract class AuthenticationTests(ITestServer server) : IAsyncLifetime
{
    private TestUser _alice = null!;
    private TestUser _bob = null!;

    public async Task InitializeAsync() =>
        (_alice, _bob) = await server.SharedAsync("authentication: alice and bob",
            async () => Tuple.Create(await Users.RegisterAsync(server.Rest), await Users.RegisterAsync(server.Rest)));

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string> BadCredentials =>
    [
        "none",
        "unknown API key",
        "malformed API key",
        "API key with a suffix",
        "garbage bearer token",
        "expired JWT",
        "tampered JWT claiming another user",
        "JWT signed with another key",
        "unsigned JWT (alg none)",
        "API key sent as bearer token",
        "Basic authorization",
    ];

    private Credentials Make(string kind)
    {
        var bobId = Jwts.Payload(_bob.Token).Str("sub");
        return kind switch
        {
            "none" => Credentials.None,
            "unknown API key" => Credentials.ApiKey("pyapi_" + new string('x', 43)),
            "malformed API key" => Credentials.ApiKey("not-a-key"),
            "API key with a suffix" => Credentials.ApiKey(_alice.ApiKey + "x"),
            "garbage bearer token" => Credentials.Bearer("not.a.jwt"),
            "expired JWT" => Credentials.Bearer(Jwts.Expired(server.JwtSigningKey(), Jwts.Payload(_alice.Token).Str("sub"), _alice.Email)),
            "tampered JWT claiming another user" => Credentials.Bearer(Jwts.Tampered(_alice.Token, "sub", bobId)),
            "JWT signed with another key" => Credentials.Bearer(Jwts.SignedWithAnotherKey(bobId, _bob.Email)),
            "unsigned JWT (alg none)" => Credentials.Bearer(Jwts.Unsigned(_alice.Token)),
            "API key sent as bearer token" => Credentials.Bearer(_alice.ApiKey),
            "Basic authorization" => Credentials.Authorization("Basic " + Convert.ToBase64String("a:b"u8.ToArray())),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task A_REST_call_with_bad_or_missing_credentials_is_401_with_code_16(string kind)
    {
        var json = (await server.Rest.GetAsync("/api/v1/secrets", Make(kind))).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        Assert.DoesNotContain("secrets", json.PropertyNames());
    }

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task A_gRPC_call_with_bad_or_missing_credentials_is_UNAUTHENTICATED(string kind) =>
        await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            server.Rpc.Secrets.ListSecretsAsync(new ListSecretsRequest(), Make(kind).Metadata));

    [Fact]
    public async Task The_expired_and_tampered_tokens_are_refused_only_for_their_defect()
    {
        // Guards the forgeries above: the same construction with the real key and a valid lifetime is accepted.
        var genuine = Jwts.Reissued(server.JwtSigningKey(), _alice.Token);
        var json = (await server.Rest.PostAsync("/api/verify", new { }, Credentials.Bearer(genuine))).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(_alice.Email, json.Str("email"));
    }

    [Fact]
    public async Task An_unknown_API_key_and_a_missing_one_get_different_messages()
    {
        var missing = (await server.Rest.GetAsync("/api/v1/secrets")).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        var invalid = (await server.Rest.GetAsync("/api/v1/secrets", Make("unknown API key"))).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        Assert.Contains("x-api-key", missing.Str("message"));
        Assert.NotEqual(missing.Str("message"), invalid.Str("message"));
    }

    public static TheoryData<string, string> AuthenticatedRoutes => new()
    {
        { "POST", "/api/verify" },
        { "GET", "/api/v1/secrets" },
        { "PUT", "/api/v1/secrets/SOME_NAME" },
        { "DELETE", "/api/v1/secrets/SOME_NAME" },
        { "GET", "/api/v1/packages" },
        { "PUT", "/api/v1/packages" },
        { "POST", "/api/v1/packages" },
        { "DELETE", "/api/v1/packages/requests" },
        { "GET", "/api/v1/audit" },
        { "POST", "/api/v1/execute" },
        { "POST", "/api/v1/execute/stream" },
        { "POST", "/api/v1/generate" },
        { "POST", "/api/v1/zk/encrypt" },
        { "PUT", "/api/v1/zk/code/prog" },
        { "DELETE", "/api/v1/zk/code/prog" },
        { "GET", "/api/v1/zk/code" },
        { "POST", "/api/v1/zk/execute/prog" },
        { "POST", "/api/v1/auth/api-key/rotate" },
        { "POST", "/api/v1/auth/revoke-all" },
    };

    [Theory]
    [MemberData(nameof(AuthenticatedRoutes))]
    public async Task Every_authenticated_REST_route_refuses_anonymous_callers_with_401(string method, string path)
    {
        var body = method is "GET" or "DELETE" ? null : "{}";
        (await server.Rest.SendAsync(new HttpMethod(method), path, body)).ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }

    [Fact]
    public async Task Every_authenticated_gRPC_method_refuses_anonymous_callers()
    {
        var rpc = server.Rpc;
        var calls = new Dictionary<string, Func<Task>>
        {
            ["Auth.VerifyToken"] = async () => await rpc.Auth.VerifyTokenAsync(new VerifyTokenRequest()),
            ["Auth.RotateApiKey"] = async () => await rpc.Auth.RotateApiKeyAsync(new RotateApiKeyRequest()),
            ["Auth.RevokeAllCredentials"] = async () => await rpc.Auth.RevokeAllCredentialsAsync(new RevokeAllCredentialsRequest()),
            ["Secrets.PutSecret"] = async () => await rpc.Secrets.PutSecretAsync(new PutSecretRequest { Name = "X", Secret = new SecretInput { Value = "v" } }),
            ["Secrets.DeleteSecret"] = async () => await rpc.Secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = "X" }),
            ["Secrets.ListSecrets"] = async () => await rpc.Secrets.ListSecretsAsync(new ListSecretsRequest()),
            ["Packages.ListPackages"] = async () => await rpc.Packages.ListPackagesAsync(new ListPackagesRequest()),
            ["Packages.SetPackages"] = async () => await rpc.Packages.SetPackagesAsync(new SetPackagesRequest { Language = "python" }),
            ["Packages.AddPackage"] = async () => await rpc.Packages.AddPackageAsync(new AddPackageRequest { Language = "python", Package = "requests" }),
            ["Packages.RemovePackage"] = async () => await rpc.Packages.RemovePackageAsync(new RemovePackageRequest { Name = "requests" }),
            ["Audit.GetAuditLog"] = async () => await rpc.Audit.GetAuditLogAsync(new GetAuditLogRequest()),
            ["Execute.Execute"] = async () => await rpc.Execute.ExecuteAsync(new ExecuteRequest { Code = "print(1)", Language = "python" }),
            ["Execute.ExecuteStream"] = async () =>
            {
                using var call = rpc.Execute.ExecuteStream(new ExecuteRequest { Code = "print(1)", Language = "python" });
                await call.ResponseStream.MoveNext(CancellationToken.None);
            },
            ["Generate.Generate"] = async () => await rpc.Generate.GenerateAsync(new GenerateRequest { Prompt = "x" }),
            ["ZK.Encrypt"] = async () => await rpc.Zk.EncryptAsync(new EncryptRequest()),
            ["ZK.StoreCode"] = async () => await rpc.Zk.StoreCodeAsync(new StoreCodeRequest { Name = "p" }),
            ["ZK.DeleteCode"] = async () => await rpc.Zk.DeleteCodeAsync(new DeleteCodeRequest { Name = "p" }),
            ["ZK.ListCode"] = async () => await rpc.Zk.ListCodeAsync(new ListCodeRequest()),
            ["ZK.ExecuteCode"] = async () => await rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = "p" }),
        };

        var wrong = new List<string>();
        foreach (var (name, call) in calls)
        {
            try
            {
                await call();
                wrong.Add($"{name}: succeeded");
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Unauthenticated)
            {
                wrong.Add($"{name}: {e.StatusCode}");
            }
            catch (RpcException) { }
        }
        Assert.True(wrong.Count == 0, "not refused as UNAUTHENTICATED: " + string.Join("; ", wrong));
    }

    [Theory]
    [InlineData("/api/v1/health")]
    [InlineData("/api/v1/info")]
    public async Task Health_and_info_need_no_credentials(string path) =>
        (await server.Rest.GetAsync(path)).Expect(HttpStatusCode.OK);
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class AuthenticationInProcess(InProcessServer server) : AuthenticationTests(server), IClassFixture<InProcessServer>;

public sealed class AuthenticationOverRealProcess(ProcessServerFixture server) : AuthenticationTests(server), IClassFixture<ProcessServerFixture>;
