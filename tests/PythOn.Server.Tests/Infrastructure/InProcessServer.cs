using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>
/// The server hosted in the test process (TestServer) on a fresh temporary data directory. REST goes through
/// <see cref="Rest"/>, gRPC through <see cref="Grpc"/>; both use the TestServer handler, no sockets.
/// Settings are "PythOn:..." configuration keys, e.g. {"PythOn:RateLimits:AuthPerMinute": "3"}.
/// </summary>
public class InProcessServer : WebApplicationFactory<Program>, ITestServer
{
    private readonly Dictionary<string, string?> _settings;
    private readonly IPAddress _clientAddress;
    private RestClient? _rest;
    private GrpcChannel? _channel;
    private readonly bool _ownsDirectory;

    /// <summary>A server with default settings (as a class fixture); use <see cref="TestServers.InProcess"/> for others.</summary>
    public InProcessServer() : this(null) { }

    /// <param name="settings">Configuration overrides.</param>
    /// <param name="clientAddress">The remote address every request appears to come from (TestServer has none).</param>
    /// <param name="dataDirectory">An existing data directory to use (kept on dispose); a fresh one (deleted on dispose) when null.</param>
    internal InProcessServer(IDictionary<string, string?>? settings, string clientAddress = "127.0.0.1", string? dataDirectory = null)
    {
        _ownsDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? TempDirectories.Create("inproc");
        _settings = TestServers.WithDefaults(settings);
        _settings["PythOn:DataDirectory"] = DataDirectory;
        _clientAddress = IPAddress.Parse(clientAddress);
    }

    public string DataDirectory { get; }

    /// <summary>REST/JSON client (HTTP/1.1 semantics through the TestServer handler).</summary>
    public RestClient Rest => _rest ??= new RestClient(new HttpClient(Server.CreateHandler()) { BaseAddress = Server.BaseAddress });

    /// <summary>A gRPC channel through the TestServer handler.</summary>
    public GrpcChannel Grpc => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = Server.CreateHandler(),
        MaxReceiveMessageSize = 16 * 1024 * 1024,
    });

    public Rpc Rpc => new(Grpc);

    /// <summary>A service of the running server (e.g. to seed users without going through the rate limiter).</summary>
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.ClearProviders());
        builder.ConfigureServices(services =>
            services.AddSingleton<IStartupFilter>(new RemoteAddressStartupFilter(_clientAddress)));
    }

    public override async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        await base.DisposeAsync();
        if (_ownsDirectory) TempDirectories.Delete(DataDirectory);
    }

    /// <summary>TestServer leaves Connection.RemoteIpAddress null; give requests a realistic client address.</summary>
    private sealed class RemoteAddressStartupFilter(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, Func<Task> nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress ??= address;
                return nextMiddleware();
            });
            next(app);
        };
    }
}

/// <summary>Fresh, uniquely named directories under the system temp directory.</summary>
public static class TempDirectories
{
    public static string Create(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "pyth-on-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
