using System.Net;
using PythOn.Server.Tests.Infrastructure;
using PythOn.Tests.Packages;

namespace PythOn.Server.Tests.PackageInstalls;

/// <summary>A real server process and a real agent whose stores may take 2 MiB in all
/// (Agent:Packages:MaxTotalStoreSizeMb), with three sets of about 800 KiB each on a local index.</summary>
public sealed class SmallStoreTotalFixture : IAsyncLifetime
{
    public PackageIndex Index { get; } = new PackageIndex()
        .AddPaddedWheel("pyth-on-gc-a", "1.0", files: 1, bytesEach: 800 << 10)
        .AddPaddedWheel("pyth-on-gc-b", "1.0", files: 1, bytesEach: 800 << 10)
        .AddPaddedWheel("pyth-on-gc-c", "1.0", files: 1, bytesEach: 800 << 10);

    public AgentProcess Agent { get; private set; } = null!;
    public ServerProcess Server { get; private set; } = null!;
    public string StoreRoot => Path.Combine(Agent.Dir, "stores");

    public async Task InitializeAsync()
    {
        var installer = await RuntimeImage.InstallerTagAsync();
        await Index.StartAsync();
        Agent = await AgentProcess.StartAsync("gc", pythonPool: 1, javaScriptPool: 0, new Dictionary<string, string>
        {
            ["Agent__Packages__InstallerImage"] = installer,
            ["Agent__Packages__PipIndexUrl"] = Index.SimpleUrl,
            ["Agent__Packages__MaxTotalStoreSizeMb"] = "2",
        });
        Server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["PythOn:Agents:0"] = Agent.Address,
            ["PythOn:Packages:RunWaitSeconds"] = "120",
        });
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (Agent is not null) await Agent.DisposeAsync();
        await Index.DisposeAsync();
    }
}

[Collection(PackageInstallCollection.Name)]
public sealed class StoreCollectionTests(SmallStoreTotalFixture fx) : IClassFixture<SmallStoreTotalFixture>
{
    private async Task<string> RunWithAsync(TestUser user, string package, string module)
    {
        var response = await fx.Server.Rest.PostAsync("/api/v1/execute",
            new { language = "python", code = $"import {module}\nprint({module}.VALUE)", packages = new[] { package } }, user.Key);
        return response.Expect(HttpStatusCode.OK).Json.Str("output");
    }

    private bool Installed(string module) => Directory.EnumerateDirectories(fx.StoreRoot)
        .Any(store => Directory.Exists(Path.Combine(store, "site-packages", module)));

    [Fact]
    public async Task A_set_removed_by_the_agents_store_collection_is_installed_again_by_the_servers_next_run_with_it()
    {
        var user = await Users.RegisterAsync(fx.Server.Rest);
        Assert.Equal("pyth-on-gc-a 1.0\n", await RunWithAsync(user, "pyth-on-gc-a==1.0", "pyth_on_gc_a"));
        Assert.Equal("pyth-on-gc-b 1.0\n", await RunWithAsync(user, "pyth-on-gc-b==1.0", "pyth_on_gc_b"));
        Assert.Equal("pyth-on-gc-c 1.0\n", await RunWithAsync(user, "pyth-on-gc-c==1.0", "pyth_on_gc_c"));
        Assert.False(Installed("pyth_on_gc_a"), "the least recently used set should have been removed");
        var downloads = fx.Index.Downloads;

        var output = await RunWithAsync(user, "pyth-on-gc-a==1.0", "pyth_on_gc_a");

        Assert.Equal("pyth-on-gc-a 1.0\n", output);
        Assert.Equal(downloads + 1, fx.Index.Downloads); // installed again, not served from a stale cache entry
        Assert.True(Installed("pyth_on_gc_a"));
    }
}
