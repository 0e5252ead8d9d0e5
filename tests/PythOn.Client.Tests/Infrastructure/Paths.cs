using System.Reflection;

namespace PythOn.Client.Tests.Infrastructure;

/// <summary>Where the built processes are: the same configuration as this test assembly.</summary>
public static class Paths
{
    public static readonly string Configuration =
        typeof(Paths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static readonly string RepositoryRoot = FindRoot();

    public static string Server => Built("src/Server", "PythOn.Server.dll");
    public static string Agent => Built("src/Sandbox.Agent", "PythOn.Sandbox.Agent.dll");
    public static string Cli => Built("src/Client/Cli", "pyth-on.dll");

    private static string Built(string project, string dll)
    {
        var path = Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0", dll);
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} does not exist: build the solution ({Configuration}) first.");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PythOn.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no PythOn.sln above {AppContext.BaseDirectory}");
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Everything this test run writes (homes, config files, server data); removed when the server fixture ends.</summary>
    public static readonly string TestRoot = Path.Combine(Path.GetTempPath(), $"pyth-on-client-tests-{Environment.ProcessId}");

    public static string TempDirectory(string prefix)
    {
        var dir = Path.Combine(TestRoot, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
