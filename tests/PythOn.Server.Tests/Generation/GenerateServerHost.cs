using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace PythOn.Server.Tests.Generation;

/// <summary>
/// The real server in process (WebApplicationFactory over Program) with a throw-away data directory and the given
/// settings. Model variables of the test process's environment are blanked, so only what a test configures counts.
/// </summary>
public sealed class GenerateServerHost : WebApplicationFactory<Program>
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "pyth-on-generate-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _settings;

    public GenerateServerHost(IReadOnlyDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["PythOn:DataDirectory"] = _dataDirectory,
            ["ANTHROPIC_API_KEY"] = "",
            ["ANTHROPIC_BASE_URL"] = "",
            ["OPENAI_API_KEY"] = "",
            ["OPENAI_BASE_URL"] = "",
            // A socket that does not exist: a run that reaches for the sandbox fails loudly instead of finding one by chance.
            ["PythOn:Agents:0"] = "unix:" + Path.Combine(_dataDirectory, "no-agent.sock"),
            // Health shows its details to this key (GetJsonAsync sends it), as to a monitoring system.
            ["PythOn:OperatorKey"] = OperatorKey,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    /// <summary>Settings for a provider served by <paramref name="model"/>.</summary>
    public static Dictionary<string, string?> ModelSettingsFor(ScriptedModelServer model, double timeoutSeconds = 30) => new()
    {
        ["PythOn:Model:Provider"] = model.Protocol == ModelProtocol.Anthropic ? "anthropic" : "openai",
        ["PythOn:Model:Name"] = model.Model,
        ["PythOn:Model:BaseUrl"] = model.BaseUrl,
        ["PythOn:Model:ApiKey"] = model.ApiKey,
        ["PythOn:Model:TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, LoopbackClient>());
        builder.ConfigureLogging(logging => { logging.ClearProviders(); if (Environment.GetEnvironmentVariable("PYTHON_TEST_SERVER_LOG") == "1") logging.AddConsole(); });
    }

    /// <summary>Registers a fresh user and returns a client that sends its API key.</summary>
    public async Task<HttpClient> UserClientAsync()
    {
        var client = CreateClient();
        var email = $"gen-{Guid.NewGuid():N}@example.com";
        using var response = await client.PostAsJsonAsync("/api/register", new { email, password = "secureP@ss123" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register answered {(int)response.StatusCode}: {body}");
        client.DefaultRequestHeaders.Add("x-api-key", JsonDocument.Parse(body).RootElement.GetProperty("apiKey").GetString());
        return client;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GenerateAsync(HttpClient client, object request)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/generate", request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public const string OperatorKey = "generate-tests-operator-key";

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-operator-key", OperatorKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>TestServer leaves RemoteIpAddress empty; a real connection always has one.</summary>
    private sealed class LoopbackClient : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress ??= IPAddress.Loopback;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
