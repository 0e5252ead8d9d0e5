using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.PackageInstalls;

/// <summary>
/// A user's package list is really installed (pip in the install container from the test's local index; npm from
/// the npm registry) and importable in runs over REST and gRPC; per-request packages; failures with pip's own
/// message; shared read-only stores. Real Docker, real agent process, the server in process.
/// </summary>
[Collection(PackageInstallCollection.Name)]
public sealed class PackageInstallTests(PackageInstallFixture fx)
{
    private static readonly TimeSpan InstallDeadline = TimeSpan.FromMinutes(4);
    private RestClient Rest => fx.Server.Rest;
    private Rpc Rpc => fx.Server.Rpc;

    private async Task<TestUser> NewUserAsync() => await Users.RegisterAsync(Rest);

    /// <summary>Polls ListPackages (with a deadline) until the package leaves pending/installing; returns its entry.</summary>
    private async Task<JsonElement> SettledAsync(TestUser user, string language, string name)
    {
        JsonElement entry = default;
        await Poll.UntilAsync(async () =>
        {
            var list = (await Rest.GetAsync($"/api/v1/packages?language={language}", user.Key)).Expect(HttpStatusCode.OK).Json.Items("packages");
            entry = list.Single(p => p.Str("name") == name);
            return entry.Str("status") is not ("PACKAGE_STATUS_PENDING" or "PACKAGE_STATUS_INSTALLING");
        }, InstallDeadline, $"{name} leaves pending/installing", () => $"{entry.Str("status")}\n{fx.AgentLog}");
        return entry;
    }

    private async Task<JsonElement> RunRestAsync(TestUser user, string language, string code, string[]? packages = null) =>
        (await Rest.PostAsync("/api/v1/execute", new { language, code, packages = packages ?? [] }, user.Key)).Expect(HttpStatusCode.OK).Json;

    [Fact]
    public async Task A_listed_python_package_imports_over_rest_and_grpc_and_is_gone_after_removal()
    {
        var user = await NewUserAsync();
        var added = (await Rest.PostAsync("/api/v1/packages", new { language = "python", package = "pyth-on-demo==1.0" }, user.Key))
            .Expect(HttpStatusCode.OK).Json;
        Assert.Equal("PACKAGE_STATUS_PENDING", added.Str("status"));

        var entry = await SettledAsync(user, "python", "pyth-on-demo");
        Assert.Equal("PACKAGE_STATUS_READY", entry.Str("status"));
        Assert.Equal("", entry.Str("message"));

        const string code = "import pyth_on_demo\nprint(pyth_on_demo.VALUE)";
        var rest = await RunRestAsync(user, "python", code);
        Assert.Equal("pyth-on-demo 1.0\n", rest.Str("output"));

        var grpc = await Rpc.Execute.ExecuteAsync(new ExecuteRequest { Language = "python", Code = code }, user.Key.Metadata);
        Assert.Equal("pyth-on-demo 1.0\n", grpc.Output);
        Assert.Equal(0, grpc.ExitCode);

        (await Rest.DeleteAsync("/api/v1/packages/pyth-on-demo?language=python", user.Key)).Expect(HttpStatusCode.OK);
        var after = await RunRestAsync(user, "python", code);
        Assert.Equal(1, after.GetProperty("exitCode").GetInt32());
        Assert.Contains("ModuleNotFoundError: No module named 'pyth_on_demo'", after.Str("error"));
    }

    [Fact]
    public async Task A_run_right_after_adding_a_package_waits_for_its_install()
    {
        var user = await NewUserAsync();
        (await Rest.PostAsync("/api/v1/packages", new { language = "python", package = "pyth-on-demo" }, user.Key)).Expect(HttpStatusCode.OK);
        // No polling first: the run itself waits (PythOn:Packages:RunWaitSeconds) for the list to be installed.
        var run = await RunRestAsync(user, "python", "import pyth_on_demo; print(pyth_on_demo.VALUE)");
        Assert.Equal("pyth-on-demo 1.0\n", run.Str("output"));
        Assert.Equal("PACKAGE_STATUS_READY", (await SettledAsync(user, "python", "pyth-on-demo")).Str("status"));
    }

    [Fact]
    public async Task A_version_missing_from_the_index_fails_with_pips_message_and_runs_say_so()
    {
        var user = await NewUserAsync();
        (await Rest.PostAsync("/api/v1/packages", new { language = "python", package = "pyth-on-demo==9.9" }, user.Key)).Expect(HttpStatusCode.OK);
        var entry = await SettledAsync(user, "python", "pyth-on-demo");
        Assert.Equal("PACKAGE_STATUS_FAILED", entry.Str("status"));
        Assert.Contains("ERROR: No matching distribution found for pyth-on-demo==9.9", entry.Str("message"));

        var refused = (await Rest.PostAsync("/api/v1/execute", new { language = "python", code = "print(1)" }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.FailedPrecondition);
        Assert.Contains("pyth-on-demo==9.9", refused.Str("message"));
        Assert.Contains("No matching distribution", refused.Str("message"));

        // The other language is not affected, and fixing the list makes python runs work again.
        Assert.Equal("ok\n", (await RunRestAsync(user, "javascript", "console.log('ok')")).Str("output"));
        (await Rest.PutAsync("/api/v1/packages", new { language = "python", packages = new[] { "pyth-on-demo==1.0" } }, user.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal("pyth-on-demo 1.0\n", (await RunRestAsync(user, "python", "import pyth_on_demo; print(pyth_on_demo.VALUE)")).Str("output"));
    }

    [Fact]
    public async Task A_package_with_only_an_sdist_is_refused()
    {
        var user = await NewUserAsync();
        (await Rest.PostAsync("/api/v1/packages", new { language = "python", package = "pyth-on-sdistonly" }, user.Key)).Expect(HttpStatusCode.OK);
        var entry = await SettledAsync(user, "python", "pyth-on-sdistonly");
        Assert.Equal("PACKAGE_STATUS_FAILED", entry.Str("status"));
        Assert.Contains("No matching distribution found for pyth-on-sdistonly", entry.Str("message"));
    }

    [Fact]
    public async Task Two_users_with_the_same_set_share_one_read_only_store()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        foreach (var user in new[] { alice, bob })
            (await Rest.PutAsync("/api/v1/packages", new { language = "python", packages = new[] { "pyth-on-shared==3.1" } }, user.Key))
                .Expect(HttpStatusCode.OK);
        Assert.Equal("PACKAGE_STATUS_READY", (await SettledAsync(alice, "python", "pyth-on-shared")).Str("status"));
        Assert.Equal("PACKAGE_STATUS_READY", (await SettledAsync(bob, "python", "pyth-on-shared")).Str("status"));

        const string code = """
            import errno, os, pyth_on_shared
            print(pyth_on_shared.__file__)
            try:
                open(os.path.join(os.path.dirname(pyth_on_shared.__file__), "planted.py"), "w")
                print("WROTE")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """;
        var a = (await RunRestAsync(alice, "python", code)).Str("output").Split('\n');
        var b = (await RunRestAsync(bob, "python", code)).Str("output").Split('\n');
        Assert.Equal(a[0], b[0]);
        var storeId = a[0].Split('/')[2];
        Assert.Matches("^py-[0-9a-f]{40}$", storeId);
        Assert.Contains(a[1], new[] { "EROFS", "EACCES" });
        Assert.Contains(b[1], new[] { "EROFS", "EACCES" });
        var holding = fx.Stores().Where(s => Directory.Exists(Path.Combine(fx.StoreRoot, s, "site-packages", "pyth_on_shared"))).ToList();
        Assert.Equal([storeId], holding);
    }

    [Fact]
    public async Task Per_request_packages_are_installed_cached_and_validated()
    {
        var user = await NewUserAsync();
        const string code = "import pyth_on_request; print(pyth_on_request.VALUE)";
        var first = await RunRestAsync(user, "python", code, ["pyth-on-request==0.4"]);
        Assert.Equal("pyth-on-request 0.4\n", first.Str("output"));
        var downloads = fx.Index.Downloads;

        var again = await Rpc.Execute.ExecuteAsync(
            new ExecuteRequest { Language = "python", Code = code, Packages = { "pyth-on-request==0.4" } }, user.Key.Metadata);
        Assert.Equal("pyth-on-request 0.4\n", again.Output);
        Assert.Equal(downloads, fx.Index.Downloads); // the agent answered from its cache: no installer ran

        // Only for that run: the next run without it does not see it.
        Assert.Contains("ModuleNotFoundError", (await RunRestAsync(user, "python", code)).Str("error"));

        (await Rest.PostAsync("/api/v1/execute", new { language = "python", code, packages = new[] { "https://evil.example/x.whl" } }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.InvalidArgument);
        (await Rest.PostAsync("/api/v1/execute", new { language = "python", code, packages = Enumerable.Range(0, 21).Select(i => $"p{i}").ToArray() }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.InvalidArgument);

        var missing = (await Rest.PostAsync("/api/v1/execute", new { language = "python", code, packages = new[] { "pyth-on-request==7" } }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.FailedPrecondition);
        Assert.Contains("No matching distribution found for pyth-on-request==7", missing.Str("message"));
    }

    [Fact]
    public async Task A_javascript_package_from_the_npm_registry_is_requirable_over_grpc()
    {
        var user = await NewUserAsync();
        await Rpc.Packages.AddPackageAsync(new AddPackageRequest { Language = "javascript", Package = "is-number@7.0.0" }, user.Key.Metadata);
        var entry = await SettledAsync(user, "javascript", "is-number");
        Assert.True(entry.Str("status") == "PACKAGE_STATUS_READY", $"{entry}\n{fx.AgentLog}");

        var response = await Rpc.Execute.ExecuteAsync(new ExecuteRequest
        {
            Language = "javascript",
            Code = "const isNumber = require('is-number'); console.log(isNumber(42), isNumber('nope'))",
        }, user.Key.Metadata);
        Assert.Equal("true false\n", response.Output);
    }

    [Fact]
    public async Task Zero_knowledge_code_runs_with_per_request_packages()
    {
        var user = await NewUserAsync();
        var payload = (await Rest.PostAsync("/api/v1/zk/encrypt",
            new { code = "import pyth_on_zk\nprint(pyth_on_zk.VALUE)", masterPassword = "MyS3cur3P@ss!" }, user.Key)).Expect(HttpStatusCode.OK).Json;
        (await Rest.PutAsync("/api/v1/zk/code/with-packages", new { encryptedPayload = payload, language = "python" }, user.Key))
            .Expect(HttpStatusCode.OK);
        var run = (await Rest.PostAsync("/api/v1/zk/execute/with-packages",
            new { masterPassword = "MyS3cur3P@ss!", packages = new[] { "pyth-on-zk==1.2" } }, user.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("pyth-on-zk 1.2\n", run.Str("output"));
        Assert.True(run.GetProperty("zeroKnowledge").GetBoolean());
    }
}
