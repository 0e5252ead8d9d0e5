using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Packages;

/// <summary>
/// InstallPackages through the real agent process: pip in the install container (host network) from the local
/// PEP 503 index the fixture serves, npm from the npm registry; the stores mounted read-only into warm sandboxes.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageInstallTests(SandboxFixture fx)
{
    private static readonly TimeSpan InstallDeadline = TimeSpan.FromMinutes(5);

    private async Task<(InstallResult Result, List<string> Progress)> InstallAsync(string language, params string[] requirements)
    {
        var request = new InstallRequest { Language = language };
        request.Requirements.AddRange(requirements);
        using var call = fx.Client.InstallPackages(request, deadline: DateTime.UtcNow + InstallDeadline);
        var progress = new List<string>();
        InstallResult? result = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            Assert.Null(result); // nothing follows the result
            if (e.EventCase == InstallEvent.EventOneofCase.Progress)
                progress.Add(e.Progress.Line);
            else
                result = e.Result;
        }
        Assert.NotNull(result);
        return (result, progress);
    }

    private static RunRequest WithStore(RunRequest request, string storeId)
    {
        request.PackageStores.Add(storeId);
        return request;
    }

    private IReadOnlyList<string> StoreDirectories() =>
        Directory.EnumerateDirectories(fx.StoreRoot).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).ToList()!;

    [Fact]
    public async Task A_python_wheel_from_the_index_is_importable_in_a_run()
    {
        var (result, progress) = await InstallAsync("python", "pyth-on-demo==1.0");
        Assert.True(result.Ok, $"install failed: {result.Message}\n{string.Join("\n", progress)}");
        Assert.Matches("^py-[0-9a-f]{40}$", result.StoreId);
        Assert.Equal(["pyth-on-demo==1.0"], result.Resolved);
        Assert.True(Directory.Exists(Path.Combine(fx.StoreRoot, result.StoreId, "site-packages", "pyth_on_demo")));

        var run = await fx.Client.RunAsync(WithStore(Runs.Python(
            "import pyth_on_demo, sys\nprint(pyth_on_demo.VALUE)\nprint(pyth_on_demo.__file__)"), result.StoreId));
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal($"pyth-on-demo 1.0\n/packages/{result.StoreId}/site-packages/pyth_on_demo/__init__.py\n", run.Stdout);
        Assert.True(run.Started.Warm, "a run with packages must use a warm sandbox");
        Assert.True(run.Result.Warm);
    }

    [Fact]
    public async Task The_same_set_again_is_answered_from_the_cache_and_equal_resolved_sets_share_one_store()
    {
        var (first, _) = await InstallAsync("python", "pyth-on-other==2.5");
        Assert.True(first.Ok, first.Message);
        var downloads = fx.Index.Downloads;

        var (again, againProgress) = await InstallAsync("python", "pyth-on-other==2.5");
        Assert.True(again.Ok, again.Message);
        Assert.True(again.Cached);
        Assert.Empty(againProgress);
        Assert.Equal(first.StoreId, again.StoreId);
        Assert.Equal(downloads, fx.Index.Downloads); // no installer ran

        // A different request that resolves to the same set: the installer runs, the store is shared.
        var (other, _) = await InstallAsync("python", "pyth-on-other");
        Assert.True(other.Ok, other.Message);
        Assert.False(other.Cached);
        Assert.Equal(first.StoreId, other.StoreId);
        Assert.Single(StoreDirectories(), d => d == first.StoreId);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(fx.StoreRoot, ".staging"))); // nothing left behind
    }

    [Fact]
    public async Task A_wheel_whose_installed_metadata_lies_does_not_change_another_users_set()
    {
        // The liar installs first and makes its installed metadata claim to be the victim's set.
        var (liar, _) = await InstallAsync("python", "pyth-on-liar==1.0");
        Assert.True(liar.Ok, liar.Message);
        // The precondition of the attack: the installer's manifest (from the installed metadata) claims the victim's set.
        Assert.Equal(["pyth-on-victim==2.0"], liar.Resolved);
        var (victim, _) = await InstallAsync("python", "pyth-on-victim==2.0");
        Assert.True(victim.Ok, victim.Message);

        Assert.True(liar.StoreId != victim.StoreId,
            $"the victim got the liar's store (the liar claimed to be: {string.Join(", ", liar.Resolved)})");
        var run = await fx.Client.RunAsync(WithStore(Runs.Python("import pyth_on_victim\nprint(pyth_on_victim.VALUE)"), victim.StoreId));
        Assert.Equal("pyth-on-victim 2.0\n", run.Stdout + run.Stderr);
    }

    [Theory]
    [InlineData("pyth-on-loopback-trap==1.0")] // another port on the host's loopback (this server's, an agent's)
    [InlineData("pyth-on-named-trap==1.0")]    // an allowed host name that resolves to a loopback address
    [InlineData("pyth-on-metadata-trap==1.0")] // link-local cloud metadata: refused by the policy, never connected to
    public async Task An_install_cannot_reach_anything_but_the_configured_index(string requirement)
    {
        var before = fx.Trap.Connections;
        var (result, _) = await InstallAsync("python", requirement);

        Assert.False(result.Ok, "the install fetched from a destination it must not reach");
        Assert.Equal(before, fx.Trap.Connections);
        Assert.Contains("Install egress refused", fx.Agent.Log);
    }

    [Fact]
    public async Task A_version_that_does_not_exist_fails_with_pips_message()
    {
        var (result, _) = await InstallAsync("python", "pyth-on-demo==9.9");
        Assert.False(result.Ok);
        Assert.Equal("", result.StoreId);
        Assert.Contains("No matching distribution found for pyth-on-demo==9.9", result.Message);
    }

    [Fact]
    public async Task A_package_that_exists_only_as_an_sdist_is_refused_and_never_built()
    {
        var (result, progress) = await InstallAsync("python", "pyth-on-sdistonly");
        Assert.False(result.Ok);
        Assert.Contains("No matching distribution found for pyth-on-sdistonly", result.Message);
        Assert.DoesNotContain(progress, l => l.Contains("setup.py ran"));
    }

    [Fact]
    public async Task A_sandbox_cannot_write_into_a_store_and_sees_only_its_own_stores()
    {
        var (result, _) = await InstallAsync("python", "pyth-on-demo==1.0");
        Assert.True(result.Ok, result.Message);
        var run = await fx.Client.RunAsync(WithStore(Runs.Python("""
            import errno, os, pyth_on_demo
            d = os.path.dirname(pyth_on_demo.__file__)
            for target in (os.path.join(d, "planted.py"), pyth_on_demo.__file__):
                try:
                    open(target, "a").write("x")
                    print("WROTE", target)
                except OSError as e:
                    print(errno.errorcode[e.errno])
            print(os.listdir("/packages"))
            """), result.StoreId));
        Assert.Equal(0, run.Result.ExitCode);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines[..2], l => Assert.Contains(l, new[] { "EROFS", "EACCES" }));
        Assert.Equal($"['{result.StoreId}']", lines[2]); // the job's store and no other
    }

    [Fact]
    public async Task A_javascript_package_from_the_npm_registry_is_requirable_in_a_run()
    {
        var (result, progress) = await InstallAsync("javascript", "is-number@7.0.0");
        Assert.True(result.Ok, $"install failed: {result.Message}\n{string.Join("\n", progress)}");
        Assert.Matches("^js-[0-9a-f]{40}$", result.StoreId);
        Assert.Contains("is-number@7.0.0", result.Resolved);

        var run = await fx.Client.RunAsync(WithStore(Runs.JavaScript(
            "const isNumber = require('is-number'); console.log(isNumber(5), isNumber('x'), require.resolve('is-number'))"), result.StoreId));
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal($"true false /packages/{result.StoreId}/node_modules/is-number/index.js\n", run.Stdout);
        Assert.True(run.Started.Warm);
    }

    [Fact]
    public async Task A_run_without_its_store_does_not_see_the_package_and_unknown_stores_are_refused()
    {
        var run = await fx.Client.RunAsync(Runs.Python("import pyth_on_demo"));
        Assert.NotEqual(0, run.Result.ExitCode);
        Assert.Contains("ModuleNotFoundError", run.Stderr);

        var missing = WithStore(Runs.Python("print(1)"), "py-" + new string('0', 40));
        var e = await Assert.ThrowsAsync<RpcException>(() => fx.Client.RunAsync(missing));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);

        var (js, _) = await InstallAsync("javascript", "is-number@7.0.0");
        Assert.True(js.Ok, js.Message);
        var wrongLanguage = WithStore(Runs.Python("print(1)"), js.StoreId);
        e = await Assert.ThrowsAsync<RpcException>(() => fx.Client.RunAsync(wrongLanguage));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task Requirements_that_look_like_options_urls_or_paths_are_refused()
    {
        foreach (var bad in new[] { "--index-url=http://evil", "https://x/y.whl", "../etc", "file:/tmp/x" })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => InstallAsync("python", bad));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }
    }
}
