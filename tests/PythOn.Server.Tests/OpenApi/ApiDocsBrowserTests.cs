using System.Net;
using Microsoft.Playwright;
using PythOn.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>
/// The API reference (/docs, Scalar) in a real headless chromium against the real server process: the page renders
/// every operation, requests nothing beyond loopback, and its "try it" client reaches the server, with and without
/// an API key. Full tier only (needs chromium), so no Tier.Fast mark. Waits are Playwright's (selectors, responses).
/// </summary>
public sealed class ApiDocsBrowserTests(ApiDocsBrowser browser) : IClassFixture<ApiDocsBrowser>
{
    [Fact]
    public async Task The_page_shows_the_title_of_every_operation_in_the_document()
    {
        var operations = await OperationTitlesByTagAsync();
        Assert.Contains("Execute code", operations["Execute"]);
        Assert.Contains("API info", operations["System"]);
        var page = await browser.OpenDocsAsync();

        foreach (var (tag, titles) in operations)
        {
            await ExpandTagAsync(page, tag);
            foreach (var title in titles)
            {
                await Expect(page.GetByText(title, new() { Exact = true }).First).ToBeVisibleAsync();
            }
        }
    }

    [Fact]
    public async Task Loading_and_trying_the_page_requests_nothing_beyond_loopback()
    {
        var page = await browser.OpenDocsAsync();
        await OpenTryItAsync(page, "System", "API info", "get", "/api/v1/info");
        await SendAsync(page, "/api/v1/info");
        await Expect(ResponseStatus(page)).ToHaveTextAsync("200 OK");

        // The interception saw the page's traffic (a guard that sees nothing proves nothing)...
        Assert.Contains(browser.Requests, r => r.EndsWith("/openapi/v1.json", StringComparison.Ordinal));
        Assert.Contains(browser.Requests, r => r.EndsWith("/docs/scalar.js", StringComparison.Ordinal));
        Assert.Contains(browser.Requests, r => r.EndsWith("/api/v1/info", StringComparison.Ordinal));
        // ...and none of it, in this test or any other of the class so far, was for another machine.
        Assert.Empty(browser.OffMachineRequests);
    }

    [Fact]
    public async Task A_request_the_page_makes_to_another_machine_is_caught_and_never_answered()
    {
        var page = await browser.OpenDocsAsync();

        var outcome = await page.EvaluateAsync<string>(
            "url => fetch(url).then(r => 'answered ' + r.status, e => 'failed: ' + e.message)", ApiDocsBrowser.GuardProbeUrl);

        Assert.StartsWith("failed", outcome);
        Assert.True(browser.CaughtGuardProbe, "the request guard did not see the page's request to " + ApiDocsBrowser.GuardProbeUrl);
    }

    [Fact]
    public async Task Trying_api_info_from_the_page_shows_the_servers_200_answer()
    {
        var version = (await browser.Server.Rest.GetAsync("/api/v1/info")).Expect(HttpStatusCode.OK).Json.Str("version");
        var page = await browser.OpenDocsAsync();
        await OpenTryItAsync(page, "System", "API info", "get", "/api/v1/info");

        var response = await SendAsync(page, "/api/v1/info");

        Assert.Equal(200, response.Status);
        Assert.Equal(new Uri(browser.Server.RestAddress, "/api/v1/info").ToString(), response.Url);
        Assert.Equal(version, (await response.JsonAsync())?.GetProperty("version").GetString());
        await Expect(ResponseStatus(page)).ToHaveTextAsync("200 OK");
        await Expect(page.GetByText("\"modelConfigured\"").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Trying_list_all_secrets_with_a_pasted_api_key_shows_the_callers_secrets()
    {
        var user = await Users.RegisterAsync(browser.Server.Rest);
        var secretName = $"BROWSER_{Guid.NewGuid():N}".ToUpperInvariant();
        (await browser.Server.Rest.PutAsync($"/api/v1/secrets/{secretName}", new { value = "not-shown" }, user.Key)).Expect(HttpStatusCode.OK);
        var page = await browser.OpenDocsAsync();
        await OpenTryItAsync(page, "Secrets", "List all secrets", "get", "/api/v1/secrets");

        await page.GetByRole(AriaRole.Button, new() { Name = "Authentication Required" }).ClickAsync();
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Value", Exact = true }).FillAsync(user.ApiKey);
        var response = await SendAsync(page, "/api/v1/secrets");

        Assert.Equal(user.ApiKey, await response.Request.HeaderValueAsync("x-api-key"));
        Assert.Equal(200, response.Status);
        await Expect(ResponseStatus(page)).ToHaveTextAsync("200 OK");
        // Only the server knows this user's secret's name: the page shows the server's answer to this caller.
        await Expect(page.GetByText(secretName).First).ToBeVisibleAsync();
        await Expect(page.GetByText("not-shown")).ToHaveCountAsync(0);
    }

    /// <summary>The status the client shows for the last response (a link to its description).</summary>
    private static ILocator ResponseStatus(IPage page) =>
        page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Link).Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^\d{3} ") });

    /// <summary>Operation titles (summaries) of the served document by tag; operations without one are left out.</summary>
    private async Task<Dictionary<string, List<string>>> OperationTitlesByTagAsync()
    {
        var document = (await browser.Server.Rest.GetAsync("/openapi/v1.json")).Expect(HttpStatusCode.OK).Json;
        var titles = new Dictionary<string, List<string>>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (!operation.Value.TryGetProperty("summary", out var summary)) continue;
                var tag = operation.Value.GetProperty("tags")[0].GetString()!;
                (titles.TryGetValue(tag, out var list) ? list : titles[tag] = []).Add(summary.GetString()!);
            }
        }
        return titles;
    }

    /// <summary>Opens a tag's group in the sidebar (they start collapsed).</summary>
    private static Task ExpandTagAsync(IPage page, string tag) =>
        page.GetByText(tag, new() { Exact = true }).First.ClickAsync();

    /// <summary>Goes to the operation through the sidebar and opens its "Test Request" client.</summary>
    private static async Task OpenTryItAsync(IPage page, string tag, string title, string method, string path)
    {
        await ExpandTagAsync(page, tag);
        await page.GetByText(title, new() { Exact = true }).First.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Test Request ({method} {path})" }).ClickAsync();
    }

    /// <summary>Presses the client's Send (the address bar's; the first of the dialog's two) and returns the server's response.</summary>
    private async Task<IResponse> SendAsync(IPage page, string path)
    {
        var url = new Uri(browser.Server.RestAddress, path).ToString();
        return await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Send" }).First.ClickAsync(),
            response => response.Url == url);
    }
}
