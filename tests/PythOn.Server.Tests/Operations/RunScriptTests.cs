using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Operations;

/// <summary>`./run.sh` as an operator runs it: it keeps the agent and the server up, starting a crashed one again.</summary>
public sealed class RunScriptTests
{

    [Fact]
    public async Task An_agent_killed_under_run_sh_comes_back_and_serves_runs_and_ctrl_c_leaves_nothing_behind()
    {
        var work = TempDirectories.Create("runsh");
        // Short: the agent's unix socket path is limited to 107 bytes.
        var runDir = Path.Combine(Path.GetTempPath(), $"pyth-on-run-{Guid.NewGuid().ToString("N")[..8]}");
        var agentId = $"runsh-{Guid.NewGuid().ToString("N")[..8]}";
        var rest = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        start.ArgumentList.Add(Path.Combine(Repo.Root, "run.sh"));
        foreach (var name in start.Environment.Keys.ToList())
            if (name.StartsWith("PythOn__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Agent__", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("Kestrel__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(name);
        start.Environment["PYTH_ON_SKIP_BUILD"] = "1"; // the suite's Release build is current; rebuilding would replace loaded files
        start.Environment["PYTH_ON_REST_URL"] = rest.ToString().TrimEnd('/');
        start.Environment["PYTH_ON_GRPC_URL"] = $"http://127.0.0.1:{LoopbackPort.Free()}";
        start.Environment["PYTH_ON_DATA_DIR"] = Path.Combine(work, "data");
        start.Environment["PYTH_ON_RUN_DIR"] = runDir;
        start.Environment["PYTH_ON_PACKAGE_STORE"] = Path.Combine(work, "stores");
        start.Environment["PYTH_ON_AGENT_ID"] = agentId;
        start.Environment["Agent__Pool__Python"] = "1";
        start.Environment["Agent__Pool__JavaScript"] = "0";

        var output = new StringBuilder();
        using var script = new Process { StartInfo = start };
        script.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        script.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        script.Start();
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string Log() { lock (output) return output.ToString(); }
        var http = new RestClient(new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(30) });
        var agentPidFile = Path.Combine(runDir, "agent.pid");
        try
        {
            await ReadyAsync(http, script, Log);
            var user = await Users.RegisterAsync(http);
            await RunsAsync(http, user, "before");
            var firstAgent = int.Parse(File.ReadAllText(agentPidFile).Trim());

            Process.GetProcessById(firstAgent).Kill(); // SIGKILL: a crash, no cleanup

            await Poll.UntilAsync(() => Task.FromResult(File.Exists(agentPidFile) && File.ReadAllText(agentPidFile).Trim() is { Length: > 0 } pid
                && int.Parse(pid) != firstAgent), TimeSpan.FromSeconds(60), "run.sh starts the agent again", Log);
            await ReadyAsync(http, script, Log);
            await RunsAsync(http, user, "after");
            Assert.Contains("the agent exited", Log());
        }
        finally
        {
            if (!script.HasExited) ProcessSignals.Terminate(script.Id);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await script.WaitForExitAsync(deadline.Token);
        }
        Assert.Empty(await DockerCli.ContainersOfAgentAsync(agentId));
        Assert.False(File.Exists(agentPidFile), "run.sh left its agent running");
        TempDirectories.Delete(work);
        Directory.Delete(runDir, recursive: true);
    }

    private static Task ReadyAsync(RestClient http, Process script, Func<string> log) =>
        Poll.UntilAsync(async () =>
        {
            if (script.HasExited) throw new InvalidOperationException($"run.sh exited with {script.ExitCode}:\n{log()}");
            try
            {
                return (await http.GetAsync("/health/ready")).Status == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(180), "the service started by run.sh is ready", log);

    private static async Task RunsAsync(RestClient http, TestUser user, string word)
    {
        var response = await http.PostAsync("/api/v1/execute", new { language = "python", code = $"print('{word}')" }, user.Key);
        response.Expect(HttpStatusCode.OK);
        Assert.Equal($"{word}\n", response.Json.Str("output"));
    }
}
