using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>
/// The real server as a separate OS process (`dotnet PythOn.Server.dll`) with Kestrel on two free loopback
/// ports (REST over HTTP/1.1, gRPC over cleartext HTTP/2), its own data directory and captured stdout+stderr.
/// </summary>
public sealed class ServerProcess : ITestServer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private bool _ownsDirectory;
    private RestClient? _rest;
    private GrpcChannel? _channel;

    private ServerProcess(Process process, StringBuilder output, string dataDirectory, int restPort, int grpcPort,
        IReadOnlyDictionary<string, string> settings, bool ownsDirectory)
    {
        _process = process;
        _output = output;
        DataDirectory = dataDirectory;
        RestAddress = new Uri($"http://127.0.0.1:{restPort}");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        _settings = settings;
        _ownsDirectory = ownsDirectory;
    }

    public string DataDirectory { get; }
    public Uri RestAddress { get; }
    public Uri GrpcAddress { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public RestClient Rest => _rest ??= new RestClient(new HttpClient { BaseAddress = RestAddress, Timeout = TimeSpan.FromSeconds(60) });

    public GrpcChannel Grpc => _channel ??= GrpcChannel.ForAddress(GrpcAddress);

    public Rpc Rpc => new(Grpc);

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts a server on a new temporary data directory (deleted on dispose).</summary>
    /// <param name="settings">Configuration keys and values, e.g. {"PythOn:RateLimits:AuthPerMinute": "3"}, over <see cref="TestServers.SuiteDefaults"/>.</param>
    public static Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null) =>
        StartAsync(TempDirectories.Create("process"),
            TestServers.WithDefaults(settings?.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
                .ToDictionary(s => s.Key, s => s.Value ?? ""), ownsDirectory: true);

    /// <summary>Starts a new server process on this one's data directory and settings; this one must have exited.</summary>
    public async Task<ServerProcess> RestartAsync()
    {
        if (!_process.HasExited) throw new InvalidOperationException("stop or kill the server before restarting it on the same data directory");
        var next = await StartAsync(DataDirectory, _settings, _ownsDirectory);
        _ownsDirectory = false;
        return next;
    }

    /// <summary>kill -9: no shutdown code runs.</summary>
    public void Kill() => ProcessSignals.KillHard(_process, StopTimeout, "the server");

    /// <summary>SIGTERM and wait: the host shuts down gracefully (the store is closed).</summary>
    public Task StopAsync() => ProcessSignals.StopAsync(_process, StopTimeout, "the server", () => Output);

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        _rest?.Http.Dispose();
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (_ownsDirectory) TempDirectories.Delete(DataDirectory);
    }

    private static async Task<ServerProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> settings, bool ownsDirectory)
    {
        var serverDll = ServerBuild.Locate();
        Exception? lastFailure = null;
        // A port picked as free can be taken by someone else before the server binds it: retry with new ports.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (restPort, grpcPort) = (LoopbackPort.Free(), LoopbackPort.Free());
            while (grpcPort == restPort) grpcPort = LoopbackPort.Free();
            var server = Launch(serverDll, dataDirectory, restPort, grpcPort, settings, ownsDirectory);
            try
            {
                await server.WaitUntilReadyAsync();
                return server;
            }
            catch (Exception e)
            {
                lastFailure = e;
                var addressInUse = server.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
                server._ownsDirectory = false;
                await server.DisposeAsync();
                if (!addressInUse) break;
            }
        }
        if (ownsDirectory) TempDirectories.Delete(dataDirectory);
        throw lastFailure!;
    }

    private static ServerProcess Launch(string serverDll, string dataDirectory, int restPort, int grpcPort,
        IReadOnlyDictionary<string, string> settings, bool ownsDirectory)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            // The content root is the working directory: the build output holds appsettings.json.
            WorkingDirectory = Path.GetDirectoryName(serverDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(serverDll);
        start.ArgumentList.Add($"--Kestrel:Endpoints:Rest:Url=http://127.0.0.1:{restPort}");
        start.ArgumentList.Add($"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}");
        start.ArgumentList.Add($"--PythOn:DataDirectory={dataDirectory}");
        start.ArgumentList.Add(HostLog.LifetimeAtInformation); // readiness waits for that line
        foreach (var (key, value) in settings) start.ArgumentList.Add($"--{key}={value}");

        // Nothing from the test runner's environment may configure the server behind the test's back.
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("PythOn__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("Kestrel__", StringComparison.OrdinalIgnoreCase) || name is "DOTNET_ENVIRONMENT" or "ANTHROPIC_API_KEY")
                start.Environment.Remove(name);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        if (!process.Start()) throw new InvalidOperationException($"could not start {start.FileName} {serverDll}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServerProcess(process, output, dataDirectory, restPort, grpcPort, settings, ownsDirectory);
    }

    /// <summary>
    /// Waits until this process has bound both ports (the host logs "Application started" after the last one) and
    /// GET /api/v1/info answers 200, the process exits, or the deadline passes. The log line matters: a port picked
    /// as free may be taken by another server meanwhile, and then its answer, not ours, would look like readiness.
    /// </summary>
    private async Task WaitUntilReadyAsync()
    {
        using var probe = new HttpClient { BaseAddress = RestAddress, Timeout = TimeSpan.FromSeconds(5) };
        string lastProblem = "no answer yet";
        await Poll.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // until stdout and stderr are read to their end: the output holds the reason
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode} before it was ready. Output:\n{Output}");
            }
            if (!Output.Contains(HostLog.Started, StringComparison.Ordinal))
            {
                lastProblem = $"the host has not logged \"{HostLog.Started}\"";
                return false;
            }
            try
            {
                using var response = await probe.GetAsync("/api/v1/info");
                if (response.StatusCode == HttpStatusCode.OK) return true;
                lastProblem = $"GET /api/v1/info answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e) { lastProblem = e.Message; }
            catch (TaskCanceledException) { lastProblem = "GET /api/v1/info timed out"; }
            return false;
        }, StartTimeout, "the server answers GET /api/v1/info", () => $"{lastProblem}. Output:\n{Output}");
    }


}

/// <summary>Finds the server's build output for the configuration the tests were built in.</summary>
public static class ServerBuild
{
    private static readonly Lazy<string> Path_ = new(Find);

    public static string Locate() => Path_.Value;

    private static string Find()
    {
        // Tests run from tests/PythOn.Server.Tests/bin/<Configuration>/<tfm>/.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = testOutput.Name;
        var configuration = testOutput.Parent?.Name ?? "Debug";
        var checkedPaths = new List<string>();

        for (var dir = testOutput; dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "PythOn.sln"))) continue;
            var candidate = Path.Combine(dir.FullName, "src", "Server", "bin", configuration, tfm, "PythOn.Server.dll");
            checkedPaths.Add(candidate);
            if (IsRunnable(candidate)) return candidate;
            break;
        }

        // The ProjectReference also copies the server next to the tests (with its runtimeconfig and appsettings).
        var copy = Path.Combine(testOutput.FullName, "PythOn.Server.dll");
        checkedPaths.Add(copy);
        if (IsRunnable(copy) && File.Exists(Path.Combine(testOutput.FullName, "appsettings.json"))) return copy;

        throw new FileNotFoundException(
            "The server build output was not found; build it first (dotnet build). Looked for: " + string.Join(", ", checkedPaths));
    }

    private static bool IsRunnable(string dll) =>
        File.Exists(dll) && File.Exists(System.IO.Path.ChangeExtension(dll, ".runtimeconfig.json"));
}
