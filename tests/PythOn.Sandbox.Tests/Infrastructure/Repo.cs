using System.Diagnostics;
using System.Reflection;

namespace PythOn.Sandbox.Tests.Infrastructure;

/// <summary>Paths in the repository and running its scripts.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PythOn.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"PythOn.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The agent built in the same configuration as these tests.</summary>
    public static string AgentDll
    {
        get
        {
            var configuration = typeof(Repo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(Root, "src", "Sandbox.Agent", "bin", configuration, "net10.0", "PythOn.Sandbox.Agent.dll");
            if (!File.Exists(path))
                throw new InvalidOperationException($"agent not built: {path} is missing (dotnet build src/Sandbox.Agent -c {configuration})");
            return path;
        }
    }

    /// <summary>Runs a repository script; throws with its output when it fails.</summary>
    public static async Task<string> RunScriptAsync(string script, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Root, "scripts", script));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
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
