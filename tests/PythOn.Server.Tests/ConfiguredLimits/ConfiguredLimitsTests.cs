using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.ConfiguredLimits;

/// <summary>An in-process server with small per-user limits.</summary>
public sealed class SmallLimitsServer() : InProcessServer(new Dictionary<string, string?>
{
    ["PythOn:Limits:MaxSecretsPerUser"] = "2",
    ["PythOn:Limits:MaxSecretBytes"] = "16",
    ["PythOn:Limits:MaxPackagesPerLanguage"] = "2",
});

/// <summary>The PythOn:Limits settings are enforced and reported.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class ConfiguredLimitsTests(SmallLimitsServer server) : IClassFixture<SmallLimitsServer>
{
    [Fact]
    public async Task Info_reports_the_configured_limits()
    {
        var limits = (await server.Rest.GetAsync("/api/v1/info")).Expect(HttpStatusCode.OK).Json.Prop("limits");
        Assert.Equal(2, limits.Prop("maxSecrets").GetInt32());
        Assert.Equal("16", limits.Prop("maxSecretBytes").ToString());
        Assert.Equal(2, limits.Prop("maxPackages").GetInt32());
    }

    [Fact]
    public async Task A_secret_past_the_per_user_count_is_429_with_code_8_and_replacing_one_still_works()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PutAsync("/api/v1/secrets/ONE", new { value = "one" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PutAsync("/api/v1/secrets/TWO", new { value = "two2" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.PutAsync("/api/v1/secrets/THREE", new { value = "three" }, user.Key)).ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
        (await server.Rest.PutAsync("/api/v1/secrets/TWO", new { value = "two" }, user.Key)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_secret_past_the_per_user_count_is_RESOURCE_EXHAUSTED_over_gRPC()
    {
        var user = await Users.RegisterAsync(server.Rest);
        foreach (var name in new[] { "ONE", "TWO" })
            await server.Rpc.Secrets.PutSecretAsync(new PutSecretRequest { Name = name, Secret = new SecretInput { Value = "vvv" } }, user.Key.Metadata);

        await RpcAssert.FailsWith(StatusCode.ResourceExhausted, server.Rpc.Secrets.PutSecretAsync(
            new PutSecretRequest { Name = "THREE", Secret = new SecretInput { Value = "vvv" } }, user.Key.Metadata));
    }

    [Fact]
    public async Task A_secret_over_the_configured_size_is_400() =>
        (await server.Rest.PutAsync("/api/v1/secrets/BIG", new { value = new string('x', 17) }, (await Users.RegisterAsync(server.Rest)).Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task Adding_a_package_past_the_per_language_limit_is_400_but_the_other_language_has_its_own_limit()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "flask" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "numpy" }, user.Key)).ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "lodash" }, user.Key)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Setting_more_packages_than_the_limit_is_400_and_keeps_the_old_list()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.PutAsync("/api/v1/packages", new { language = "python", packages = new[] { "flask", "numpy", "pandas" } }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

        Assert.Equal(["requests"], (await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages").Select(p => p.Str("name")));
    }
}
