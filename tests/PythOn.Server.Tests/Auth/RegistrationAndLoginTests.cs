using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Auth;

/// <summary>Register, Login and VerifyToken on both protocols.</summary>
public abstract partial class RegistrationAndLoginTests(ITestServer server)
{
    [GeneratedRegex("^pyapi_[A-Za-z0-9_-]{43}$")]
    private static partial Regex ApiKeyShape();

    [Fact]
    public async Task The_documented_register_example_answers_201_with_token_apiKey_and_user_email()
    {
        var response = await server.Rest.SendAsync(HttpMethod.Post, "/api/register",
            """{"email":"developer@example.com","password":"secureP@ss123"}""");

        var json = response.Expect(HttpStatusCode.Created).Json;
        Assert.Equal(["apiKey", "expiresAt", "refreshToken", "token", "user"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.StartsWith("eyJ", json.Str("token"));
        var apiKey = json.Str("apiKey");
        Assert.StartsWith("pyapi_", apiKey);
        Assert.True(apiKey.Length >= 6 + 43, $"API key too short: {apiKey.Length} characters");
        Assert.Matches(ApiKeyShape(), apiKey);
        Assert.Equal("developer@example.com", json.Prop("user").Str("email"));
        Assert.Equal(["createdAt", "email"], json.Prop("user").PropertyNames().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Register_over_gRPC_returns_a_JWT_an_API_key_and_a_refresh_token()
    {
        var email = Users.UniqueEmail("grpc-register");
        var response = await server.Rpc.Auth.RegisterAsync(new AuthRequest { Email = email, Password = Users.Password });

        Assert.StartsWith("eyJ", response.Token);
        Assert.True(response.HasApiKey);
        Assert.Matches(ApiKeyShape(), response.ApiKey);
        Assert.StartsWith("pyrt_", response.RefreshToken);
        Assert.Equal(email, response.User.Email);
        Assert.True(response.ExpiresAt.ToDateTimeOffset() > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Register_lower_cases_the_email()
    {
        var email = Users.UniqueEmail("MixedCase").ToUpperInvariant();
        var json = (await server.Rest.PostAsync("/api/register", new { email, password = Users.Password })).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(email.ToLowerInvariant(), json.Prop("user").Str("email"));
    }

    [Fact]
    public async Task Login_over_REST_returns_a_token_and_a_refresh_token_but_no_apiKey()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var json = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["expiresAt", "refreshToken", "token", "user"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.StartsWith("eyJ", json.Str("token"));
        Assert.StartsWith("pyrt_", json.Str("refreshToken"));
        Assert.NotEqual(user.RefreshToken, json.Str("refreshToken"));
        Assert.Equal(user.Email, json.Prop("user").Str("email"));
    }

    [Fact]
    public async Task Login_over_gRPC_returns_a_token_and_a_refresh_token_but_no_API_key()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var response = await server.Rpc.Auth.LoginAsync(new AuthRequest { Email = user.Email, Password = user.Password });

        Assert.StartsWith("eyJ", response.Token);
        Assert.StartsWith("pyrt_", response.RefreshToken);
        Assert.False(response.HasApiKey, "Login must not return an API key");
        Assert.Equal(user.Email, response.User.Email);
    }

    [Fact]
    public async Task Login_accepts_the_email_in_another_case()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var json = (await server.Rest.PostAsync("/api/login", new { email = user.Email.ToUpperInvariant(), password = user.Password }))
            .Expect(HttpStatusCode.OK).Json;
        Assert.Equal(user.Email, json.Prop("user").Str("email"));
    }

    [Fact]
    public async Task A_token_from_login_authenticates_calls()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var token = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Json.Str("token");

        var json = (await server.Rest.PostAsync("/api/verify", new { }, Credentials.Bearer(token))).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(user.Email, json.Str("email"));
    }

    [Fact]
    public async Task Login_with_a_wrong_password_is_401_over_REST()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = "wrong-Password-1" }))
            .ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
    }

    [Fact]
    public async Task Login_with_an_unknown_email_gives_the_same_answer_as_a_wrong_password()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var wrongPassword = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = "wrong-Password-1" }))
            .ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        var unknownEmail = (await server.Rest.PostAsync("/api/login", new { email = Users.UniqueEmail("nobody"), password = "wrong-Password-1" }))
            .ExpectStatusBody(HttpStatusCode.Unauthorized, 16);
        Assert.Equal(wrongPassword.Str("message"), unknownEmail.Str("message"));
    }

    [Fact]
    public async Task Login_with_a_wrong_password_is_UNAUTHENTICATED_over_gRPC()
    {
        var user = await Users.RegisterAsync(server.Rest);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            server.Rpc.Auth.LoginAsync(new AuthRequest { Email = user.Email, Password = "wrong-Password-1" }));
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("jwt")]
    public async Task VerifyToken_over_REST_names_the_caller_and_the_method_used(string method)
    {
        var user = await Users.RegisterAsync(server.Rest);
        var credentials = method == "api_key" ? user.Key : user.Jwt;

        var json = (await server.Rest.PostAsync("/api/verify", new { }, credentials)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["authMethod", "createdAt", "email"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal(user.Email, json.Str("email"));
        Assert.Equal(method, json.Str("authMethod"));
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("jwt")]
    public async Task VerifyToken_over_gRPC_names_the_caller_and_the_method_used(string method)
    {
        var user = await Users.RegisterAsync(server.Rest);
        var credentials = method == "api_key" ? user.Key : user.Jwt;

        var info = await server.Rpc.Auth.VerifyTokenAsync(new VerifyTokenRequest(), credentials.Metadata);

        Assert.Equal(user.Email, info.Email);
        Assert.Equal(method, info.AuthMethod);
        Assert.True(info.CreatedAt.ToDateTimeOffset() <= DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Registering_an_email_twice_in_another_case_is_409_over_REST()
    {
        var email = Users.UniqueEmail("dup");
        await Users.RegisterAsync(server.Rest, email);

        (await server.Rest.PostAsync("/api/register", new { email = email.ToUpperInvariant(), password = Users.Password }))
            .ExpectStatusBody(HttpStatusCode.Conflict, 6);
    }

    [Fact]
    public async Task Registering_an_email_twice_in_another_case_is_ALREADY_EXISTS_over_gRPC()
    {
        var email = Users.UniqueEmail("Dup");
        await Users.RegisterAsync(server.Rest, email);

        await RpcAssert.FailsWith(StatusCode.AlreadyExists,
            server.Rpc.Auth.RegisterAsync(new AuthRequest { Email = email.ToLowerInvariant(), Password = Users.Password }));
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_email_create_exactly_one_account()
    {
        var email = Users.UniqueEmail("race");
        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            server.Rest.PostAsync("/api/register", new { email = i % 2 == 0 ? email : email.ToUpperInvariant(), password = Users.Password })));

        Assert.Single(attempts, r => r.Status == HttpStatusCode.Created);
        Assert.All(attempts.Where(r => r.Status != HttpStatusCode.Created), r => r.ExpectStatusBody(HttpStatusCode.Conflict, 6));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-email")]
    [InlineData("someone@localhost")]
    [InlineData("two words@example.com")]
    [InlineData("@example.com")]
    [InlineData("a@b@example.com")]
    public async Task Registering_an_invalid_email_is_400_over_REST(string email) =>
        (await server.Rest.PostAsync("/api/register", new { email, password = Users.Password }))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task Registering_an_invalid_email_is_INVALID_ARGUMENT_over_gRPC() =>
        await RpcAssert.FailsWith(StatusCode.InvalidArgument,
            server.Rpc.Auth.RegisterAsync(new AuthRequest { Email = "not-an-email", Password = Users.Password }));

    [Theory]
    [InlineData("Short1!", "8 to 256 characters")]
    [InlineData("onlyletters", "at least one letter and at least one digit or symbol")]
    [InlineData("1234567890", "at least one letter and at least one digit or symbol")]
    public async Task A_weak_password_is_400_and_the_message_states_the_policy(string password, string policy)
    {
        var json = (await server.Rest.PostAsync("/api/register", new { email = Users.UniqueEmail("weak"), password }))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains(policy, json.Str("message"));
    }

    [Fact]
    public async Task A_weak_password_is_INVALID_ARGUMENT_over_gRPC()
    {
        var error = await RpcAssert.FailsWith(StatusCode.InvalidArgument,
            server.Rpc.Auth.RegisterAsync(new AuthRequest { Email = Users.UniqueEmail("weak"), Password = "short" }));
        Assert.Contains("8 to 256 characters", error.Status.Detail);
    }

    [Fact]
    public async Task A_password_longer_than_256_characters_is_refused() =>
        (await server.Rest.PostAsync("/api/register", new { email = Users.UniqueEmail("long"), password = new string('a', 256) + "1" }))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Theory]
    [InlineData("/api/register", """{"email":"x@example.com","password":""")]
    [InlineData("/api/login", "{not json")]
    [InlineData("/api/register", "[1,2,3]")]
    [InlineData("/api/login", """{"email": 42, "password": {}}""")]
    public async Task Malformed_JSON_is_400(string path, string body) =>
        (await server.Rest.SendAsync(HttpMethod.Post, path, body)).ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task A_failed_login_is_audited_on_the_account_with_the_client_address()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = "wrong-Password-1" })).Expect(HttpStatusCode.Unauthorized);

        var entries = (await server.Rest.GetAsync("/api/v1/audit", user.Key)).Expect(HttpStatusCode.OK).Json.Items("entries");

        var failure = Assert.Single(entries, e => e.Str("action") == "auth.login" && e.Str("outcome") == "failure");
        Assert.Equal("127.0.0.1", failure.Str("clientAddress"));
        Assert.Equal($"user/{user.Email}", failure.Str("resource"));
        Assert.DoesNotContain("wrong-Password-1", failure.GetRawText());
    }

    [Fact]
    public async Task A_failed_login_over_gRPC_is_audited_too()
    {
        var user = await Users.RegisterAsync(server.Rest);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            server.Rpc.Auth.LoginAsync(new AuthRequest { Email = user.Email, Password = "wrong-Password-2" }));

        var log = await server.Rpc.Audit.GetAuditLogAsync(new GetAuditLogRequest(), user.Key.Metadata);

        var failure = Assert.Single(log.Entries, e => e.Action == "auth.login" && e.Outcome == "failure");
        Assert.Equal("127.0.0.1", failure.ClientAddress);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class RegistrationAndLoginInProcess(InProcessServer server)
    : RegistrationAndLoginTests(server), IClassFixture<InProcessServer>;

public sealed class RegistrationAndLoginOverRealProcess(ProcessServerFixture server)
    : RegistrationAndLoginTests(server), IClassFixture<ProcessServerFixture>;
