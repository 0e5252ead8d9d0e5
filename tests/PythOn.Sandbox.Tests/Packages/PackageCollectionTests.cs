using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Packages;

/// <summary>
/// Garbage collection of stores (Agent:Packages:MaxTotalStoreSizeMb = 2) on an agent of its own: the sets
/// pyth-on-gc-a/b/c install about 800 KiB each, so two fit and a third removes the least recently used.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageCollectionTests(SandboxFixture fx) : IAsyncLifetime
{
    private AgentProcess _agent = null!;
    private string _stores = "";

    public async Task InitializeAsync()
    {
        var id = "test-gc-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(fx.Dir, id);
        _stores = Path.Combine(dir, "stores");
        _agent = await AgentProcess.StartAsync(dir, id, fx.Image, pythonPool: 1, javaScriptPool: 0,
            new Dictionary<string, string>
            {
                ["Agent__Packages__InstallerImage"] = fx.InstallerImage,
                ["Agent__Packages__PipIndexUrl"] = fx.Index.SimpleUrl,
                ["Agent__Packages__MaxTotalStoreSizeMb"] = "2",
            });
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private async Task<InstallResult> InstallAsync(string requirement)
    {
        using var call = _agent.Client.InstallPackages(new InstallRequest { Language = "python", Requirements = { requirement } },
            deadline: DateTime.UtcNow.AddMinutes(5));
        InstallResult? result = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == InstallEvent.EventOneofCase.Result)
                result = e.Result;
        Assert.NotNull(result);
        Assert.True(result.Ok, result.Message);
        return result;
    }

    private bool Exists(InstallResult store) => Directory.Exists(Path.Combine(_stores, store.StoreId));

    private static RunRequest Importing(string module, InstallResult store) =>
        new() { Language = "python", Code = $"import {module}\nprint({module}.VALUE)", PackageStores = { store.StoreId } };

    [Fact]
    public async Task Installing_a_set_over_the_total_removes_the_least_recently_used_store_not_the_oldest()
    {
        var a = await InstallAsync("pyth-on-gc-a==1.0");
        var b = await InstallAsync("pyth-on-gc-b==1.0");
        Assert.Equal(0, (await _agent.Client.RunAsync(Importing("pyth_on_gc_a", a))).Result.ExitCode); // A is now used after B

        var c = await InstallAsync("pyth-on-gc-c==1.0");

        Assert.True(Exists(a), "the recently used store A was removed");
        Assert.False(Exists(b), "the least recently used store B was kept over the total");
        Assert.True(Exists(c));
        var status = await _agent.StatusAsync();
        Assert.Equal(2, status.PackageStores);
        Assert.InRange(status.PackageStoreBytes, 1_600_000, 2 << 20);
    }

    [Fact]
    public async Task A_store_in_use_by_a_running_program_is_not_removed()
    {
        var a = await InstallAsync("pyth-on-gc-a==1.0");
        using var call = _agent.Client.Interact(deadline: DateTime.UtcNow.AddMinutes(5));
        var start = Importing("pyth_on_gc_a", a);
        start.Code = "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n" + start.Code;
        start.TimeoutMs = 120_000; // outlives the two installs below
        start.IdleTimeoutMs = 120_000;
        await call.RequestStream.WriteAsync(new InteractRequest { Start = start });
        var stdout = new System.Text.StringBuilder();
        while (!stdout.ToString().Contains("ready\n"))
        {
            Assert.True(await call.ResponseStream.MoveNext(), "the run ended before it was ready");
            if (call.ResponseStream.Current.EventCase == RunEvent.EventOneofCase.Chunk)
                stdout.Append(call.ResponseStream.Current.Chunk.Data.ToStringUtf8());
        }

        var b = await InstallAsync("pyth-on-gc-b==1.0");
        var c = await InstallAsync("pyth-on-gc-c==1.0"); // A is the least recently used, but in use

        Assert.True(Exists(a), $"a store in use was removed\n{_agent.Log}");
        Assert.False(Exists(b));
        await call.RequestStream.WriteAsync(new InteractRequest { StdinClose = true });
        RunResult? result = null;
        while (await call.ResponseStream.MoveNext())
        {
            var e = call.ResponseStream.Current;
            if (e.EventCase == RunEvent.EventOneofCase.Chunk)
                stdout.Append(e.Chunk.Data.ToStringUtf8());
            else if (e.EventCase == RunEvent.EventOneofCase.Result)
                result = e.Result;
        }
        Assert.Equal(0, result?.ExitCode);
        Assert.Equal("ready\npyth-on-gc-a 1.0\n", stdout.ToString());
        Assert.True(Exists(c));
    }

    [Fact]
    public async Task A_removed_set_is_installed_again_on_its_next_use_and_its_cache_entry_is_gone()
    {
        var a = await InstallAsync("pyth-on-gc-a==1.0");
        await InstallAsync("pyth-on-gc-b==1.0");
        await InstallAsync("pyth-on-gc-c==1.0");
        Assert.False(Exists(a));
        var refused = await Assert.ThrowsAsync<RpcException>(() => _agent.Client.RunAsync(Importing("pyth_on_gc_a", a)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);

        var downloads = fx.Index.Downloads;
        var again = await InstallAsync("pyth-on-gc-a==1.0");

        Assert.False(again.Cached, "the request cache still named the removed store");
        Assert.Equal(downloads + 1, fx.Index.Downloads);
        Assert.Equal(a.StoreId, again.StoreId); // the same files give the same id
        var run = await _agent.Client.RunAsync(Importing("pyth_on_gc_a", again));
        Assert.Equal("pyth-on-gc-a 1.0\n", run.Stdout);
    }
}
