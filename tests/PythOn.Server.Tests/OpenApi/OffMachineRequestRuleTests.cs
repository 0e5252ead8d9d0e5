namespace PythOn.Server.Tests.OpenApi;

/// <summary>The rule the browser tests' request guard applies (<see cref="ApiDocsBrowser.StaysOnTheMachine"/>): loopback only.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class OffMachineRequestRuleTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000/docs/")]
    [InlineData("ws://127.0.0.1:5000/api/v1/execute/interactive")]
    [InlineData("http://[::1]:5000/openapi/v1.json")]
    [InlineData("data:image/svg+xml,%3Csvg%3E")]
    public void A_loopback_or_inline_url_stays_on_the_machine(string url) => Assert.True(ApiDocsBrowser.StaysOnTheMachine(url));

    [Theory]
    [InlineData("https://cdn.jsdelivr.net/npm/@scalar/api-reference")]
    [InlineData("https://fonts.scalar.com/inter.woff2")]
    [InlineData("http://localhost.example.com/")]
    [InlineData("http://192.0.2.1/")]
    [InlineData("wss://proxy.scalar.com/")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("not a url")]
    public void Any_other_url_leaves_the_machine(string url) => Assert.False(ApiDocsBrowser.StaysOnTheMachine(url));
}
