using System.Diagnostics;
using System.Text.Json;

namespace PythOn.TestSupport;

/// <summary>The Docker CLI, to look at what the agent left in the engine (labels, state, processes, configuration).</summary>
public static class DockerCli
{
    public static async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the docker CLI");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"docker {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    /// <summary>Runs a docker command and returns its exit code (for commands whose failure is the answer).</summary>
    public static async Task<int> ExitCodeAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the docker CLI");
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    /// <summary>Every container (any state) labelled pyth-on.agent=<paramref name="agentId"/>: id and state ("running", "exited", ...).</summary>
    public static async Task<IReadOnlyList<(string Id, string State)>> ContainersOfAgentAsync(string agentId)
    {
        var lines = await RunAsync("ps", "-a", "--no-trunc", "--filter", $"label=pyth-on.agent={agentId}", "--format", "{{.ID}} {{.State}}");
        return lines.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2)).Select(p => (p[0], p.Length > 1 ? p[1] : "")).ToList();
    }

    /// <summary>The command lines of the processes in a running container (`docker top`); empty when it is gone or not running.</summary>
    public static async Task<IReadOnlyList<string>> ProcessesAsync(string containerId) =>
        // `docker top` needs the pid column; the command line follows it.
        (await TopAsync(containerId, "pid,args")).Select(columns => columns[^1]).ToList();

    /// <summary>`docker top` with these ps columns (the last one may hold spaces), one row per process; empty when the
    /// container is gone or not running.</summary>
    private static async Task<IReadOnlyList<string[]>> TopAsync(string containerId, string columns)
    {
        string output;
        try
        {
            output = await RunAsync("top", containerId, "-o", columns);
        }
        catch (InvalidOperationException)
        {
            return [];
        }
        var count = columns.Split(',').Length;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)
            .Select(l => l.Split(' ', count, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(row => row.Length == count).ToList();
    }

    /// <summary>A container of the agent whose Python slot is running a program, or null.</summary>
    public static async Task<string?> FindRunningPythonProgramAsync(string agentId)
    {
        foreach (var (id, state) in await ContainersOfAgentAsync(agentId))
        {
            if (state != "running") continue;
            if (await RunningPythonProgramsAsync(id) > 0) return id;
        }
        return null;
    }

    /// <summary>Python programs running in a slot: children of a run sandbox's init (`pyth-on-init`) named `python3`.
    /// A ready run sandbox's program process waits for its job as `pyth-on-ready` and renames itself when it gets it
    /// (runtime/README.md); 0 when the container is gone or not running.</summary>
    public static async Task<int> RunningPythonProgramsAsync(string containerId)
    {
        var processes = (await TopAsync(containerId, "pid,ppid,comm")).Select(p => (Pid: p[0], Parent: p[1], Name: p[2])).ToList();
        var inits = processes.Where(p => p.Name == "pyth-on-init").Select(p => p.Pid).ToHashSet();
        return processes.Count(p => inits.Contains(p.Parent) && p.Name == "python3");
    }

    /// <summary>`docker inspect` of one container as raw JSON text.</summary>
    public static Task<string> InspectAsync(string containerId) => RunAsync("inspect", containerId);

    /// <summary>The labels of a container.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> LabelsAsync(string containerId)
    {
        using var document = JsonDocument.Parse(await InspectAsync(containerId));
        return document.RootElement[0].GetProperty("Config").GetProperty("Labels").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
    }
}
