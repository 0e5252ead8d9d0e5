using PythOn.Server.Tests.Infrastructure;
using PythOn.Tests.Packages;

namespace PythOn.Server.Tests.PackageInstalls;

/// <summary>
/// Everything real for the package tests: Docker, the runtime and installer images (built by the repository's
/// scripts when missing), a local PEP 503 index with wheels built in the test (no PyPI here), the sandbox agent as
/// its own process on a unix socket with a throw-away store root, and the server in process pointed at it.
/// When Docker or an image cannot be had, every test fails with the reason (never skips).
/// </summary>
public sealed class PackageInstallFixture : IAsyncLifetime
{
    private AgentProcess? _agent;
    private ITestServer? _server;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-pkg-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public string StoreRoot => Path.Combine(Dir, "stores");

    public PackageIndex Index { get; } = new PackageIndex()
        .AddWheel("pyth-on-demo", "1.0")
        .AddWheel("pyth-on-shared", "3.1")
        .AddWheel("pyth-on-request", "0.4")
        .AddWheel("pyth-on-zk", "1.2")
        .AddSdist("pyth-on-sdistonly", "1.0");

    public ITestServer Server => _server ?? throw new InvalidOperationException("not started");

    public string AgentLog => _agent?.Log ?? "";

    /// <summary>Store directories (not the hidden .staging/.requests).</summary>
    public IReadOnlyList<string> Stores() =>
        Directory.EnumerateDirectories(StoreRoot).Select(d => Path.GetFileName(d)!).Where(n => !n.StartsWith('.')).ToList();

    public async Task InitializeAsync()
    {
        var installer = await RuntimeImage.InstallerTagAsync();
        await Index.StartAsync();
        Directory.CreateDirectory(Dir);
        _agent = await AgentProcess.StartAsync("pkg-test", pythonPool: 1, javaScriptPool: 1, new Dictionary<string, string>
        {
            ["Agent__Packages__StoreRoot"] = StoreRoot,
            ["Agent__Packages__InstallerImage"] = installer,
            ["Agent__Packages__PipIndexUrl"] = Index.SimpleUrl,
            ["Agent__Packages__Network"] = "none",
        });

        _server = TestServers.InProcess(new Dictionary<string, string?>
        {
            ["PythOn:Agents:0"] = _agent.Address,
            ["PythOn:Packages:RunWaitSeconds"] = "120",
        });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_agent is not null) await _agent.DisposeAsync();
        await Index.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackageInstallCollection : ICollectionFixture<PackageInstallFixture>
{
    public const string Name = "package-installs";
}
