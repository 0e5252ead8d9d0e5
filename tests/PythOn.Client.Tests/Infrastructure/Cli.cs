using System.Diagnostics;
using System.Text;

namespace PythOn.Client.Tests.Infrastructure;

/// <summary>What a pyth-on process did.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real pyth-on (dotnet pyth-on.dll) with HOME and XDG_CONFIG_HOME pointed at a private directory, so each
/// test user has their own config file. No PYTH_ON_* variable of the test runner leaks in.
/// </summary>
public sealed class Cli(string home, string server)
{
    public string Home { get; } = home;
    public string Server { get; } = server;
    public string ConfigPath => Path.Combine(Home, ".config", "pyth-on", "config.json");

    public static Cli ForNewUser(string server) => new(Paths.TempDirectory("home"), server);

    public Task<CliResult> RunAsync(params string[] args) => RunAsync(args, stdin: "");

    public async Task<CliResult> RunAsync(string[] args, string? stdin, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, env);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        await WaitAsync(process, timeout ?? TimeSpan.FromSeconds(90), stdout, stderr);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts pyth-on and leaves its streams to the caller (stdin is redirected and must be closed).</summary>
    public Process Start(string[] args, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Home,
        };
        info.ArgumentList.Add(Paths.Cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("PYTH_ON_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        info.Environment["HOME"] = Home;
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config");
        info.Environment["PYTH_ON_SERVER"] = Server;
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    public static async Task WaitAsync(Process process, TimeSpan timeout, Task<string> stdout, Task<string> stderr)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pyth-on did not finish within {timeout.TotalSeconds} s.\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }
    }

    /// <summary>Registers a fresh account through the CLI and returns its email.</summary>
    public async Task<string> RegisterAsync(string password = "secureP@ss123")
    {
        var email = $"u{Guid.NewGuid():N}@example.com";
        var result = await RunAsync(["register", "--email", email], password + "\n");
        Assert.True(result.ExitCode == 0, result.ToString());
        return email;
    }
}
