using System.Net;
using PythOn.Api.V1;
using PythOn.Server.Auth;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>Creates accounts with unique emails.</summary>
public static class Users
{
    public const string Password = "correct-Horse-7";

    public static string UniqueEmail(string hint = "user") => $"{hint}-{Guid.NewGuid():N}@example.com";

    /// <summary>Registers over REST (POST /api/register) and returns the issued credentials.</summary>
    public static async Task<TestUser> RegisterAsync(RestClient rest, string? email = null, string password = Password)
    {
        email ??= UniqueEmail();
        var json = (await rest.PostAsync("/api/register", new { email, password })).Expect(HttpStatusCode.Created).Json;
        return new TestUser(email.ToLowerInvariant(), password, json.Str("apiKey"), json.Str("token"), json.Str("refreshToken"));
    }

    /// <summary>Registers over gRPC.</summary>
    public static async Task<TestUser> RegisterAsync(Rpc rpc, string? email = null, string password = Password)
    {
        email ??= UniqueEmail();
        var response = await rpc.Auth.RegisterAsync(new AuthRequest { Email = email, Password = password });
        return new TestUser(email.ToLowerInvariant(), password, response.ApiKey, response.Token, response.RefreshToken);
    }

    /// <summary>Registers straight through the server's account service: no HTTP, no rate limiter.</summary>
    public static async Task<TestUser> SeedAsync(InProcessServer server, string? email = null, string password = Password)
    {
        email ??= UniqueEmail();
        var response = await server.Get<AccountService>().RegisterAsync(email, password, "127.0.0.1");
        return new TestUser(email.ToLowerInvariant(), password, response.ApiKey, response.Token, response.RefreshToken);
    }
}
