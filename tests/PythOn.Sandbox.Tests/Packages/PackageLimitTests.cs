using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Packages;

/// <summary>Install limits, on an agent of their own (real process) with a tiny store limit.</summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageLimitTests(SandboxFixture fx)
{
    [Fact]
    public async Task A_store_over_the_size_limit_is_deleted_and_the_install_fails_clearly()
    {
        var id = "test-limits-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(fx.Dir, id);
        await using var agent = await AgentProcess.StartAsync(dir, id, fx.Image, pythonPool: 0, javaScriptPool: 0,
            new Dictionary<string, string>
            {
                ["Agent__Packages__InstallerImage"] = fx.InstallerImage,
                ["Agent__Packages__PipIndexUrl"] = fx.Index.SimpleUrl,
                ["Agent__Packages__MaxStoreSizeMb"] = "0",
            });
        var request = new InstallRequest { Language = "python", Requirements = { "pyth-on-demo==1.0" } };
        using var call = agent.Client.InstallPackages(request, deadline: DateTime.UtcNow.AddMinutes(5));
        InstallResult? result = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == InstallEvent.EventOneofCase.Result)
                result = e.Result;

        Assert.NotNull(result);
        Assert.False(result.Ok);
        Assert.Contains("more than the store limit of 0 MiB", result.Message);
        var stores = Path.Combine(dir, "stores");
        Assert.Empty(Directory.EnumerateDirectories(stores).Where(d => !Path.GetFileName(d).StartsWith('.')));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(stores, ".staging")));
    }
}
