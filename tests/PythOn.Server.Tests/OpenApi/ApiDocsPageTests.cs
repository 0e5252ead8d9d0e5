using System.Net;
using System.Text.RegularExpressions;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>
/// The Scalar page and the document are served by the app itself, to anonymous callers (the test host's
/// fallback policy refuses everything not marked anonymous), and the page loads no script from a CDN.
/// </summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed partial class ApiDocsPageTests(ApiDocsHost host) : IClassFixture<ApiDocsHost>
{
    [Fact]
    public async Task The_document_is_served_anonymously_as_json()
    {
        using var response = await host.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.1", host.Document.GetProperty("openapi").GetString());
    }

    [Fact]
    public async Task The_fallback_policy_of_the_test_host_does_refuse_anonymous_callers()
    {
        // Control for the anonymous-access assertions: an authenticated RPC over REST is refused.
        using var response = await host.Client.GetAsync("/api/v1/secrets");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_scalar_page_and_its_scripts_are_served_locally()
    {
        using var page = await host.Client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();

        var scripts = ScriptSource().Matches(html).Select(m => m.Groups["src"].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.DoesNotMatch(AbsoluteUrl(), string.Join("\n", scripts));
        Assert.DoesNotMatch(AbsoluteUrl(), html);            // no stylesheet, font or script from elsewhere
        Assert.Contains("openapi/v1.json", html);
        Assert.Contains("\"withDefaultFonts\":false", html); // the default fonts come from Scalar's CDN

        foreach (var script in scripts)
        {
            using var asset = await host.Client.GetAsync(new Uri(new Uri("http://localhost/docs/"), script));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        }

        // The standalone Scalar bundle (megabytes of JavaScript) is the one embedded in Scalar.AspNetCore.
        var bundle = await host.Client.GetByteArrayAsync("/docs/scalar.js");
        Assert.True(bundle.Length > 1_000_000, $"scalar.js is {bundle.Length} bytes");
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();

    [GeneratedRegex("(?:src|href)\\s*=\\s*\"(?:https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();
}
