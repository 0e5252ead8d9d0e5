using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using PythOn.Client.Tests.Infrastructure;

namespace PythOn.Client.Tests;

/// <summary>
/// The pyth-on package as a user gets it: `dotnet pack` of the tool, `dotnet tool install` from that package only,
/// then the installed command run on a .NET installation that has the plain runtime (Microsoft.NETCore.App) and no
/// ASP.NET Core shared framework, so a dependency on ASP.NET Core would stop it from starting.
/// </summary>
public sealed class InstalledTool : IAsyncLifetime
{
    private static readonly TimeSpan DotnetTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Where `dotnet tool install --tool-path` put the pyth-on command.</summary>
    public string ToolPath { get; private set; } = "";
    /// <summary>The installed tool's own files (pyth-on.dll, its runtimeconfig.json, the dependencies).</summary>
    public string ToolDirectory { get; private set; } = "";
    /// <summary>A .NET root with host/, the dotnet muxer and shared/Microsoft.NETCore.App only.</summary>
    public string RuntimeOnlyRoot { get; private set; } = "";
    public string Scratch { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Scratch = Paths.TempDirectory("tool");
        var packages = Path.Combine(Scratch, "packages");
        // The package as the tests' own build made it (the same bits the other CLI tests run).
        var pack = await DotnetAsync(["pack", Path.Combine(Repo.Root, "src/Client/Cli/PythOn.Cli.csproj"), "-c", Repo.Configuration,
            "--no-build", "--no-restore", "-nologo", "-o", packages]);
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed: {pack}");
        var package = Assert.Single(Directory.GetFiles(packages, "PythOn.Cli.*.nupkg"), p => !p.EndsWith(".snupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["PythOn.Cli.".Length..];

        // Only that folder as a source, so nothing of the same name can come from anywhere else.
        var config = Path.Combine(Scratch, "nuget.config");
        await File.WriteAllTextAsync(config,
            $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="packed" value="{packages}" /></packageSources></configuration>""");
        ToolPath = Path.Combine(Scratch, "tools");
        var install = await DotnetAsync(["tool", "install", "PythOn.Cli", "--version", version, "--tool-path", ToolPath, "--configfile", config]);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed: {install}");
        ToolDirectory = Path.GetDirectoryName(
            Assert.Single(Directory.GetFiles(Path.Combine(ToolPath, ".store"), "pyth-on.dll", SearchOption.AllDirectories)))!;

        RuntimeOnlyRoot = MakeRuntimeOnlyRoot(Path.Combine(Scratch, "dotnet-runtime-only"));
    }

    public Task DisposeAsync() => Task.CompletedTask; // Scratch is under Paths.TestRoot, which the server fixture removes.

    /// <summary>Runs the installed pyth-on through its apphost with DOTNET_ROOT at <see cref="RuntimeOnlyRoot"/>.</summary>
    public Task<CliResult> RunAsync(string server, params string[] args)
    {
        var home = Paths.TempDirectory("home");
        return Command.RunAsync(Path.Combine(ToolPath, "pyth-on"), args, home, RuntimeOnlyEnvironment(new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["PYTH_ON_SERVER"] = server,
        }), TimeSpan.FromSeconds(90));
    }

    /// <summary>Runs the muxer of <see cref="RuntimeOnlyRoot"/> (e.g. `dotnet exec ...`).</summary>
    public Task<CliResult> RunMuxerAsync(params string[] args) =>
        Command.RunAsync(Path.Combine(RuntimeOnlyRoot, "dotnet"), args, Scratch, RuntimeOnlyEnvironment([]), TimeSpan.FromSeconds(90));

    private Dictionary<string, string> RuntimeOnlyEnvironment(Dictionary<string, string> extra)
    {
        // DOTNET_ROOT is where an apphost looks for the runtime; the architecture-specific variable would win over it.
        extra["DOTNET_ROOT"] = RuntimeOnlyRoot;
        extra[$"DOTNET_ROOT_{RuntimeInformation.OSArchitecture.ToString().ToUpperInvariant()}"] = RuntimeOnlyRoot;
        extra["DOTNET_NOLOGO"] = "1";
        return extra;
    }

    private static Task<CliResult> DotnetAsync(string[] args)
    {
        var home = Paths.TempDirectory("dotnet-home");
        return Command.RunAsync(DotnetHost.Path, args, home, new Dictionary<string, string>
        {
            // A private packages folder: never a PythOn.Cli of the same version cached by an earlier run.
            ["NUGET_PACKAGES"] = Path.Combine(home, "nuget-packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        }, DotnetTimeout);
    }

    /// <summary>
    /// A .NET root made of the running installation's host (copied) and its Microsoft.NETCore.App (linked): the layout
    /// of a machine with only the .NET Runtime installed. shared/Microsoft.AspNetCore.App is deliberately absent.
    /// </summary>
    private static string MakeRuntimeOnlyRoot(string root)
    {
        // .../shared/Microsoft.NETCore.App/<version>/ -> the installation's root.
        var installed = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        CopyDirectory(Path.Combine(installed, "host"), Path.Combine(root, "host"));
        File.Copy(Path.Combine(installed, "dotnet"), Path.Combine(root, "dotnet"));
        Directory.CreateDirectory(Path.Combine(root, "shared"));
        Directory.CreateSymbolicLink(Path.Combine(root, "shared", "Microsoft.NETCore.App"), Path.Combine(installed, "shared", "Microsoft.NETCore.App"));
        return root;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}

/// <summary>The packed, installed pyth-on needs the plain .NET runtime only (no ASP.NET Core shared framework).</summary>
[Collection(ServerCollection.Name)]
public sealed class InstalledToolTests(PythOnServer server, InstalledTool tool) : IClassFixture<InstalledTool>
{
    [Fact]
    public void The_installed_tool_asks_for_Microsoft_NETCore_App_only()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tool.ToolDirectory, "pyth-on.runtimeconfig.json")))!["runtimeOptions"]!;
        // One framework is written as "framework", several as "frameworks".
        var frameworks = config["frameworks"]?.AsArray().Select(f => (string)f!["name"]!).ToList()
            ?? [(string)config["framework"]!["name"]!];
        Assert.Equal(["Microsoft.NETCore.App"], frameworks);
    }

    [Fact]
    public async Task The_installed_tool_talks_to_a_server_on_a_runtime_without_ASP_NET_Core()
    {
        var health = await tool.RunAsync(server.GrpcAddress, "health", "--json");

        Assert.True(health.ExitCode == 0, health.ToString());
        Assert.Contains(JsonDocument.Parse(health.Stdout).RootElement.GetProperty("status").GetString(), new[] { "ok", "degraded" });
    }

    [Fact]
    public async Task The_runtime_only_root_cannot_start_an_app_that_needs_ASP_NET_Core()
    {
        // The same tool, told it needs ASP.NET Core too: on that root it must not start. This is what makes the
        // test above mean something (the root really lacks the framework, it does not fall back to the machine's).
        var config = Path.Combine(tool.Scratch, "needs-aspnetcore.runtimeconfig.json");
        await File.WriteAllTextAsync(config, """
            {"runtimeOptions":{"tfm":"net10.0","frameworks":[
              {"name":"Microsoft.NETCore.App","version":"10.0.0"},{"name":"Microsoft.AspNetCore.App","version":"10.0.0"}]}}
            """);
        var plain = await tool.RunMuxerAsync("exec", Path.Combine(tool.ToolDirectory, "pyth-on.dll"), "--help");
        var withAspNet = await tool.RunMuxerAsync("exec", "--runtimeconfig", config, Path.Combine(tool.ToolDirectory, "pyth-on.dll"), "--help");

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.NotEqual(0, withAspNet.ExitCode);
        Assert.Contains("Microsoft.AspNetCore.App", withAspNet.Stdout + withAspNet.Stderr);
    }
}
