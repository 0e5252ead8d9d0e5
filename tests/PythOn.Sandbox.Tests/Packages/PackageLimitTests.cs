using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Packages;

/// <summary>Store limits enforced while the install runs, each on an agent of its own (real process) with tiny limits.</summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageLimitTests(SandboxFixture fx)
{
    private async Task<(AgentProcess Agent, string Stores)> StartAgentAsync(string setting, string value)
    {
        var id = "test-limits-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(fx.Dir, id);
        var agent = await AgentProcess.StartAsync(dir, id, fx.Image, pythonPool: 0, javaScriptPool: 0,
            new Dictionary<string, string>
            {
                ["Agent__Packages__InstallerImage"] = fx.InstallerImage,
                ["Agent__Packages__PipIndexUrl"] = fx.Index.SimpleUrl,
                [$"Agent__Packages__{setting}"] = value,
            });
        return (agent, Path.Combine(dir, "stores"));
    }

    private static async Task<(InstallResult Result, string Progress)> InstallAsync(AgentProcess agent, string requirement)
    {
        var request = new InstallRequest { Language = "python", Requirements = { requirement } };
        using var call = agent.Client.InstallPackages(request, deadline: DateTime.UtcNow.AddMinutes(5));
        InstallResult? result = null;
        var progress = new List<string>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            if (e.EventCase == InstallEvent.EventOneofCase.Result)
                result = e.Result;
            else
                progress.Add(e.Progress.Line);
        }
        Assert.NotNull(result);
        return (result, string.Join("\n", progress));
    }

    private static void AssertNothingLeft(string stores)
    {
        Assert.DoesNotContain(Directory.EnumerateDirectories(stores), d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(stores, ".staging")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(stores, ".requests")));
    }

    [Fact]
    public async Task A_wheel_bigger_than_the_store_limit_is_stopped_by_the_kernel_while_installing_and_leaves_nothing()
    {
        var (agent, stores) = await StartAgentAsync("MaxStoreSizeMb", "1");
        await using var _ = agent;

        var (result, progress) = await InstallAsync(agent, "pyth-on-big==1.0"); // one 3 MiB file

        Assert.False(result.Ok);
        Assert.Equal("the installed packages exceed the store limit of 1 MiB (Agent:Packages:MaxStoreSizeMb)", result.Message);
        // The install container's own write failed: the quota held while pip ran, not only when the agent measured.
        Assert.Contains("No space left on device", progress);
        AssertNothingLeft(stores);
    }

    [Fact]
    public async Task A_wheel_with_more_files_than_the_store_file_limit_fails_naming_the_setting()
    {
        var (agent, stores) = await StartAgentAsync("MaxStoreFiles", "30");
        await using var _ = agent;

        var (result, progress) = await InstallAsync(agent, "pyth-on-many==1.0"); // 60 small files

        Assert.False(result.Ok, progress);
        Assert.Equal("the installed packages exceed the store limit of 30 files (Agent:Packages:MaxStoreFiles)", result.Message);
        AssertNothingLeft(stores);
    }

    [Fact]
    public async Task A_set_within_a_small_store_limit_installs_with_read_only_file_modes()
    {
        var (agent, stores) = await StartAgentAsync("MaxStoreSizeMb", "1");
        await using var _ = agent;

        var (result, progress) = await InstallAsync(agent, "pyth-on-demo==1.0");

        Assert.True(result.Ok, $"{result.Message}\n{progress}");
        var module = Path.Combine(stores, result.StoreId, "site-packages", "pyth_on_demo", "__init__.py");
        Assert.Equal("VALUE = \"pyth-on-demo 1.0\"\n", File.ReadAllText(module));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(module));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(stores, ".staging")));
    }
}
