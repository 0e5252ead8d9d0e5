using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>Its own agent and server: these tests kill the agent with SIGKILL and start it again on the same socket.</summary>
public sealed class AgentOutageFixture : SandboxedServerFixture
{
    protected override string Purpose => "outage";
}

/// <summary>
/// The server while its sandbox agent is dead (kill -9: the socket file stays behind, nothing answers on it) and after
/// the agent is started again on the same socket: 503 and a degraded health while down, recovery without a server restart.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class AgentOutageTests(AgentOutageFixture e2e) : IClassFixture<AgentOutageFixture>, IAsyncLifetime
{
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(60);
    private TestUser _user = null!;

    public async Task InitializeAsync()
    {
        _user = await e2e.SharedAsync("outage user", () => Users.RegisterAsync(e2e.Rest));
        // Every test starts with a working agent, whatever the previous one left.
        if (e2e.Agent.HasExited) await e2e.Agent.RestartAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task While_the_agent_is_down_a_REST_execute_answers_503_with_a_Status_body()
    {
        KillAgent();

        var response = await e2e.Rest.PostAsync("/api/v1/execute", new { code = "print(1)", language = "python" }, _user.Key);

        var json = response.ExpectStatusBody(HttpStatusCode.ServiceUnavailable, (int)StatusCode.Unavailable);
        Assert.Contains("no sandbox agent is reachable", json.Str("message"));
        Assert.DoesNotContain("output", json.PropertyNames());
    }

    [Fact]
    public async Task While_the_agent_is_down_a_gRPC_stream_fails_with_UNAVAILABLE_before_any_chunk()
    {
        KillAgent();
        var chunks = 0;

        var error = await RpcAssert.FailsWith(StatusCode.Unavailable, async () =>
        {
            using var call = e2e.Rpc.Execute.ExecuteStream(Python("print(1)"), _user.Key.Metadata);
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) chunks++;
        });

        Assert.Equal(0, chunks);
        Assert.Contains("no sandbox agent is reachable", error.Status.Detail);
    }

    [Fact]
    public async Task A_run_in_progress_when_the_agent_dies_answers_503_at_once()
    {
        var run = e2e.Rest.PostAsync("/api/v1/execute",
            new { code = "import time\nwhile True:\n    time.sleep(0.05)", language = "python", timeout = 50 }, _user.Key);
        await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(e2e.Agent.InstanceId), TimeSpan.FromSeconds(30),
            "a container of the agent runs the program");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        KillAgent();

        var response = await run;
        response.ExpectStatusBody(HttpStatusCode.ServiceUnavailable, (int)StatusCode.Unavailable);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the answer took {clock.Elapsed.TotalSeconds:0.0} s after the agent died");
    }

    [Fact]
    public async Task While_the_agent_is_down_health_is_degraded_and_names_the_unreachable_agent()
    {
        KillAgent();

        var health = (await e2e.Rest.GetAsync("/api/v1/health", _user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("degraded", health.Str("status"));
        Assert.False(health.Prop("docker").Prop("ok").GetBoolean());
        var agent = Assert.Single(health.Items("agents"));
        Assert.Equal(e2e.Agent.Address, agent.Str("address"));
        Assert.False(agent.Prop("reachable").GetBoolean());
        Assert.Contains(e2e.Agent.Address, agent.Str("message"));
        Assert.True(health.Prop("storage").Prop("ok").GetBoolean());
    }

    [Fact]
    public async Task After_the_agent_restarts_on_the_same_socket_the_server_runs_code_again_by_itself()
    {
        KillAgent();
        (await e2e.Rest.PostAsync("/api/v1/execute", new { code = "print(1)", language = "python" }, _user.Key))
            .Expect(HttpStatusCode.ServiceUnavailable);

        await e2e.Agent.RestartAsync();

        RestResponse? last = null;
        await Poll.UntilAsync(async () =>
        {
            last = await e2e.Rest.PostAsync("/api/v1/execute", new { code = "print('back')", language = "python" }, _user.Key);
            return last.Status == HttpStatusCode.OK;
        }, RecoveryDeadline, "the server runs code again", () => $"{(int?)last?.Status} {last?.Body}");
        Assert.Equal("back\n", last!.Json.Str("output"));
        var grpc = await e2e.Rpc.Execute.ExecuteAsync(JavaScript("console.log('grpc back')"), _user.Key.Metadata);
        Assert.Equal("grpc back\n", grpc.Output);
    }

    [Fact]
    public async Task After_the_agent_restarts_health_is_ok_again()
    {
        KillAgent();
        Assert.Equal("degraded", (await e2e.Rest.GetAsync("/api/v1/health", _user.Key)).Json.Str("status"));

        await e2e.Agent.RestartAsync();

        JsonElement health = default;
        await Poll.UntilAsync(async () =>
        {
            health = (await e2e.Rest.GetAsync("/api/v1/health", _user.Key)).Json;
            return health.Str("status") == "ok";
        }, RecoveryDeadline, "health is ok", () => health.ToString());
        Assert.True(Assert.Single(health.Items("agents")).Prop("reachable").GetBoolean());
    }

    [Fact]
    public async Task The_restarted_agent_removes_the_containers_the_killed_one_left_behind()
    {
        var before = await DockerCli.ContainersOfAgentAsync(e2e.Agent.InstanceId);
        Assert.NotEmpty(before); // the warm pool
        KillAgent();

        await e2e.Agent.RestartAsync();

        await Poll.UntilAsync(async () =>
        {
            var now = await DockerCli.ContainersOfAgentAsync(e2e.Agent.InstanceId);
            return !now.Any(c => before.Any(b => b.Id == c.Id));
        }, RecoveryDeadline, "no container of the killed agent is left");
    }

    /// <summary>kill -9 the agent; its socket file stays, so the server must cope with a socket nobody answers on.</summary>
    private void KillAgent()
    {
        e2e.Agent.Kill();
        Assert.True(File.Exists(e2e.Agent.SocketPath), "kill -9 should leave the agent's socket file behind");
    }
}
