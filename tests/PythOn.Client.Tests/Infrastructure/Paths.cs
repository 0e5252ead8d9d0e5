namespace PythOn.Client.Tests.Infrastructure;

/// <summary>Where the built processes are: the same configuration as this test assembly.</summary>
public static class Paths
{
    public static string Server => Repo.Built("src/Server", "PythOn.Server.dll");
    public static string Cli => Repo.Built("src/Client/Cli", "pyth-on.dll");

    /// <summary>Everything this test run writes (homes, config files, server data); removed when the server fixture ends.</summary>
    public static readonly string TestRoot = Path.Combine(Path.GetTempPath(), $"pyth-on-client-tests-{Environment.ProcessId}");

    public static string TempDirectory(string prefix)
    {
        var dir = Path.Combine(TestRoot, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
