using System.Net;
using Microsoft.AspNetCore.Http;
using PythOn.Server.Auth;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.RateLimiting;

/// <summary>Sign-in cannot be used to exhaust the server: password checks are bounded, an account under attack is
/// throttled before any hashing, and per-address limits count an IPv6 /64 as one address.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class SignInBoundTests
{
    [Fact]
    public async Task Sign_ins_beyond_the_password_check_bound_wait_briefly_then_get_429_with_Retry_After()
    {
        await using var server = (InProcessServer)TestServers.InProcess(new Dictionary<string, string?>
        {
            ["PythOn:Limits:PasswordChecksAtOnce"] = "1",
            ["PythOn:Limits:PasswordCheckWaitMs"] = "1",
            ["PythOn:RateLimits:AuthPerMinute"] = "1000",
        });
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            server.Rest.PostAsync("/api/login", new { email = $"nobody{i}@example.com", password = "wrong-Password-1" })));

        var refused = attempts.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            r.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
            Assert.NotNull(r.Headers.RetryAfter?.Delta);
        });
        Assert.All(attempts.Where(r => r.Status != HttpStatusCode.TooManyRequests), r => r.ExpectStatusBody(HttpStatusCode.Unauthorized, 16));
    }

    [Fact]
    public async Task An_account_with_too_many_failed_sign_ins_is_throttled_even_with_the_right_password()
    {
        await using var server = (InProcessServer)TestServers.InProcess(new Dictionary<string, string?> { ["PythOn:RateLimits:AuthPerMinute"] = "1000" });
        var user = await Users.SeedAsync(server);
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
            (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = "wrong-Password-1" })).Expect(HttpStatusCode.Unauthorized);

        var right = await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password });

        right.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
        Assert.True(right.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(1));
        // Another account is not affected.
        var other = await Users.SeedAsync(server);
        (await server.Rest.PostAsync("/api/login", new { email = other.Email, password = other.Password })).Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("192.0.2.1", "192.0.2.1", true)]
    [InlineData("192.0.2.1", "192.0.2.2", false)]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1", true)]
    public void Per_address_limits_count_an_IPv6_64_as_one_address(string a, string b, bool same)
    {
        static string Key(string address)
        {
            var http = new DefaultHttpContext();
            http.Connection.RemoteIpAddress = IPAddress.Parse(address);
            return http.RateLimitKey();
        }
        Assert.Equal(same, Key(a) == Key(b));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"email":"a@example.com"}""")]
    [InlineData("""{"email":"a@example.com","password":""}""")]
    [InlineData("""{"password":"secureP@ss123"}""")]
    [InlineData("""{"email":"","password":"secureP@ss123"}""")]
    public async Task Login_with_a_missing_or_empty_field_is_400_not_500(string body)
    {
        await using var server = (InProcessServer)TestServers.InProcess(new Dictionary<string, string?>());
        var response = await server.Rest.SendAsync(HttpMethod.Post, "/api/login", body);
        var json = response.ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        Assert.Contains("required", json.Str("message"));
    }
}
