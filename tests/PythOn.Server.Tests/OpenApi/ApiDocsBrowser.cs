using System.Collections.Concurrent;
using System.Net;
using Microsoft.Playwright;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>
/// The real server as its own process on loopback and Debian's chromium (/usr/bin/chromium, installed by
/// scripts/ensure-chromium.sh) driven headless through Microsoft.Playwright, with a new empty profile and the
/// browser's own background traffic switched off. Every request any page makes is intercepted: one that would leave
/// 127.0.0.1 is aborted and recorded in <see cref="OffMachineRequests"/>, every one is recorded in <see cref="Requests"/>.
/// </summary>
public sealed class ApiDocsBrowser : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>No GPU, no QUIC, no first-run, sync, component-update or other background fetches of the browser's own.</summary>
    private static readonly string[] ChromiumFlags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>
    /// An address the guard's own control test asks for (TEST-NET-1, RFC 5737: routed nowhere), so that the guard is
    /// seen to catch a request; <see cref="OffMachineRequests"/> leaves it out, every other off-machine URL stays in.
    /// </summary>
    public const string GuardProbeUrl = "http://192.0.2.1/pyth-on-guard-probe";

    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _offMachine = new();
    private IPlaywright? _playwright;
    private IBrowserContext? _browser;
    private string? _profile;

    public ServerProcess Server { get; private set; } = null!;

    /// <summary>The reference page, e.g. http://127.0.0.1:PORT/docs/.</summary>
    public string DocsUrl => new Uri(Server.RestAddress, "/docs/").ToString();

    /// <summary>Every URL requested by any page so far (method and URL).</summary>
    public IReadOnlyCollection<string> Requests => _requests.ToArray();

    /// <summary>Requests to anywhere but loopback (aborted before they left), but for <see cref="GuardProbeUrl"/>.</summary>
    public IReadOnlyCollection<string> OffMachineRequests => _offMachine.Where(r => !r.EndsWith(" " + GuardProbeUrl, StringComparison.Ordinal)).ToArray();

    /// <summary>Whether the guard caught (and aborted) a request for <see cref="GuardProbeUrl"/>.</summary>
    public bool CaughtGuardProbe => _offMachine.Any(r => r.EndsWith(" " + GuardProbeUrl, StringComparison.Ordinal));

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: run scripts/ensure-chromium.sh (test.sh does) to install Debian's chromium");
        }
        Server = await ServerProcess.StartAsync();
        _profile = TempDirectories.Create("chromium-profile");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium, // never a browser Playwright downloads
            Headless = true,
            Args = ChromiumFlags,
        });
        _browser.Request += (_, request) => _requests.Enqueue($"{request.Method} {request.Url}");
        await _browser.RouteAsync("**/*", async route =>
        {
            if (StaysOnTheMachine(route.Request.Url))
            {
                await route.ContinueAsync();
                return;
            }
            _offMachine.Enqueue($"{route.Request.Method} {route.Request.Url}");
            await route.AbortAsync("blockedbyclient");
        });
    }

    /// <summary>A new tab on the reference page, loaded.</summary>
    public async Task<IPage> OpenDocsAsync()
    {
        var page = await _browser!.NewPageAsync();
        var response = await page.GotoAsync(DocsUrl);
        if (response is not { Status: 200 })
        {
            throw new InvalidOperationException($"GET {DocsUrl} answered {response?.Status}");
        }
        return page;
    }

    /// <summary>Loopback over HTTP(S)/WS(S), or data the page already holds (data:, blob:).</summary>
    public static bool StaysOnTheMachine(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        if (uri.Scheme is "data" or "blob") return true;
        return uri.Scheme is "http" or "https" or "ws" or "wss"
            && IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        if (_profile is not null) TempDirectories.Delete(_profile);
    }
}
