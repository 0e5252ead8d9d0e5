using System.Net;
using System.Text;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Operations;

/// <summary>SIGTERM to the server while a run streams: readiness turns 503, the run finishes, then the process exits.</summary>
public sealed class ServerShutdownTests
{
    [Fact]
    public async Task Sigterm_lets_a_streaming_run_in_flight_finish_before_the_server_exits()
    {
        await using var agent = await AgentProcess.StartAsync("server-drain", pythonPool: 1, javaScriptPool: 0);
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["PythOn:Agents:0"] = agent.Address });
        var user = await Users.RegisterAsync(server.Rest);
        // The program is still running for three seconds after its first line: SIGTERM arrives while it is in flight.
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/execute/stream")
        {
            Content = new StringContent(RestClient.Serialize(new
            {
                language = "python",
                code = "import time\nprint('started', flush=True)\ntime.sleep(3)\nprint('finished', flush=True)",
                timeout = 30,
            }), Encoding.UTF8, "application/json"),
        };
        user.Key.Apply(request);
        using var response = await server.Rest.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var body = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await body.ReadLineAsync();
        Assert.Contains("started", first);

        ProcessSignals.Terminate(server.ProcessId);

        var rest = await body.ReadToEndAsync();
        Assert.Contains("finished", rest);
        Assert.Contains("\"exitCode\":0", rest.Replace(" ", ""));
        await Poll.UntilAsync(() => Task.FromResult(server.HasExited), TimeSpan.FromSeconds(30), "the server exits after the run", () => server.Output);
        Assert.Equal(0, server.ExitCode);
    }
}
