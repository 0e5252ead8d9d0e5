using System.Diagnostics;
using System.Reflection;

namespace PythOn.TestSupport;

/// <summary>Paths in the repository, the build outputs of its projects, and running its scripts.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration these tests were built in; a test project builds its references in the same one.</summary>
    public static string Configuration { get; } =
        typeof(Repo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The sandbox agent's build output.</summary>
    public static string AgentDll => Built("src/Sandbox.Agent", "PythOn.Sandbox.Agent.dll");

    /// <summary>The build output <paramref name="dll"/> of the project in <paramref name="project"/> (relative to the root).</summary>
    public static string Built(string project, string dll)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", dll);
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} does not exist: build the solution ({Configuration}) first.");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PythOn.sln"))) return dir.FullName;
        throw new InvalidOperationException($"PythOn.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs scripts/<paramref name="script"/> with bash; returns its trimmed stdout, throws with its output when it fails.</summary>
    public static async Task<string> RunScriptAsync(string script, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Root,
        };
        start.ArgumentList.Add(Path.Combine(Root, "scripts", script));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"scripts/{script} did not finish within {timeout}:\n{await stderr}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/{script} failed with exit code {process.ExitCode}:\n{await stderr}\n{await stdout}");
        return (await stdout).Trim();
    }
}

/// <summary>
/// Docker running and the sandbox images built, through the repository's scripts, once per test run. Every test that
/// needs them fails with the scripts' output when they cannot be had: these tests never skip.
/// </summary>
public static class RuntimeImage
{
    private static readonly Lazy<Task<string>> Tag = new(BuildAsync);
    private static readonly Lazy<Task<string>> InstallerTag = new(async () =>
    {
        await Tag.Value;
        return LastLine(await Repo.RunScriptAsync("build-installer-image.sh", TimeSpan.FromMinutes(15)));
    });

    /// <summary>The runtime image tag (pyth-on-runtime:&lt;hash&gt;); throws with the scripts' output when Docker or the image cannot be had.</summary>
    public static Task<string> TagAsync() => Tag.Value;

    /// <summary>The package installer image tag (pyth-on-installer:&lt;hash&gt;), built when missing.</summary>
    public static Task<string> InstallerTagAsync() => InstallerTag.Value;

    private static async Task<string> BuildAsync()
    {
        await Repo.RunScriptAsync("ensure-docker.sh", TimeSpan.FromMinutes(5));
        return LastLine(await Repo.RunScriptAsync("build-runtime-image.sh", TimeSpan.FromMinutes(10)));
    }

    // The scripts log to stdout too; the tag is their last line.
    private static string LastLine(string output) => output.Split('\n')[^1].Trim();
}

/// <summary>The dotnet host that runs these tests, to start the built projects with the same runtime.</summary>
public static class DotnetHost
{
    public static string Path
    {
        get
        {
            var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli)) return fromCli;
            var current = Environment.ProcessPath;
            if (current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
            return "dotnet";
        }
    }
}
