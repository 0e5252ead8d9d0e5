using System.Diagnostics;
using System.Text;

namespace PythOn.Client.Tests.Infrastructure;

/// <summary>A long-running child process (the server) whose output is kept for failure messages.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Marker, TaskCompletionSource Seen)> _waiters = [];

    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process) => _process = process;

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited => _exited.Task;

    public string Name { get; private init; } = "";

    public static ChildProcess Start(string name, string dll, string workingDirectory, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        // No model provider from the developer's environment: Generate must behave as "not configured".
        foreach (var variable in new[] { "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL" }) info.Environment.Remove(variable);
        foreach (var variable in info.Environment.Keys.Where(k => k.StartsWith("PythOn__", StringComparison.Ordinal)).ToList()) info.Environment.Remove(variable);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var child = new ChildProcess(new Process { StartInfo = info, EnableRaisingEvents = true }) { Name = name };
        child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.Exited += (_, _) => child.OnExit();
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Completes when a line containing <paramref name="marker"/> is printed; fails if the process exits first.</summary>
    public async Task WaitForLineAsync(string marker, TimeSpan timeout)
    {
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(marker, StringComparison.Ordinal)) return;
            _waiters.Add((marker, seen));
        }
        if (_process.HasExited) OnExit();
        try
        {
            await seen.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not print '{marker}' within {timeout.TotalSeconds} s. Output:\n{Output}");
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var w in _waiters.Where(w => line.Contains(w.Marker, StringComparison.Ordinal)).ToList())
            {
                w.Seen.TrySetResult();
                _waiters.Remove(w);
            }
        }
    }

    private void OnExit()
    {
        _exited.TrySetResult();
        lock (_output)
        {
            foreach (var w in _waiters)
                w.Seen.TrySetException(new InvalidOperationException($"{Name} exited (code {SafeExitCode()}) before printing '{w.Marker}'. Output:\n{_output}"));
            _waiters.Clear();
        }
    }

    private string SafeExitCode()
    {
        try
        {
            return _process.ExitCode.ToString();
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first so it can shut down gracefully; SIGKILL if it does not stop.
            try
            {
                ProcessSignals.Terminate(_process.Id);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }
}
