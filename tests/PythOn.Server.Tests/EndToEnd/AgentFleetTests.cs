using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>Two real agents (one Python slot each, their own sockets and instance ids) behind one real server.</summary>
public sealed class AgentFleetFixture : IAsyncLifetime
{
    private AgentProcess? _a;
    private AgentProcess? _b;
    private ServerProcess? _server;

    public AgentProcess A => _a!;
    public AgentProcess B => _b!;
    public ServerProcess Server => _server!;
    public IReadOnlyList<AgentProcess> Agents => [A, B];
    public string Logs => $"--- server ---\n{Server.Output}\n--- agent A ---\n{A.Log}\n--- agent B ---\n{B.Log}";

    public async Task InitializeAsync()
    {
        _a = await AgentProcess.StartAsync("fleet-a", pythonPool: 1, javaScriptPool: 0);
        _b = await AgentProcess.StartAsync("fleet-b", pythonPool: 1, javaScriptPool: 0);
        _server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["PythOn:Agents:0"] = A.Address,
            ["PythOn:Agents:1"] = B.Address,
            ["PythOn:Limits:MaxConcurrentRunsPerUser"] = "8",
        });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync();
        if (_b is not null) await _b.DisposeAsync();
    }
}

/// <summary>
/// Least-loaded routing and health over a fleet of two agents: a run goes where a slot is free, a burst spreads, a
/// killed agent is out of rotation at once (runs go to the survivor, none hangs) and back when it is started again.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class AgentFleetTests(AgentFleetFixture fleet) : IClassFixture<AgentFleetFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const string Forever = "import time\nwhile True:\n    time.sleep(0.05)";
    private TestUser _user = null!;

    public async Task InitializeAsync()
    {
        _user = await Users.RegisterAsync(fleet.Server.Rest);
        // Every test starts with both agents up, idle, and seen so by the server.
        foreach (var agent in fleet.Agents)
            if (agent.HasExited) await agent.RestartAsync();
        await Poll.UntilAsync(async () =>
        {
            foreach (var agent in fleet.Agents)
            {
                var status = await agent.StatusAsync();
                if (status.ActiveRuns != 0 || status.PoolReady.GetValueOrDefault("python") != 1) return false;
            }
            var health = await HealthAsync();
            return health.Items("agents").All(a => a.Prop("reachable").GetBoolean() && a.Prop("inRotation").GetBoolean());
        }, Deadline, "both agents are idle and in rotation", () => fleet.Logs);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task While_one_agent_s_only_slot_is_busy_the_next_runs_go_to_the_other()
    {
        using var stop = new CancellationTokenSource();
        var longRun = fleet.Server.Rpc.Execute.ExecuteAsync(Long(), _user.Key.Metadata, cancellationToken: stop.Token);
        var busy = await BusyAgentAsync();
        var other = fleet.Agents.Single(a => a != busy);
        var (busyBefore, otherBefore) = ((await busy.StatusAsync()).RunsServed, (await other.StatusAsync()).RunsServed);

        for (var i = 0; i < 3; i++)
            Assert.Equal($"{i}\n", (await fleet.Server.Rpc.Execute.ExecuteAsync(Python($"print({i})"), _user.Key.Metadata)).Output);

        Assert.Equal(otherBefore + 3, (await other.StatusAsync()).RunsServed);
        Assert.Equal(busyBefore, (await busy.StatusAsync()).RunsServed);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(async () => await longRun);
    }

    [Fact]
    public async Task Two_runs_sent_at_once_go_one_to_each_agent()
    {
        var before = await Task.WhenAll(fleet.Agents.Select(async a => (await a.StatusAsync()).RunsServed));

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            fleet.Server.Rpc.Execute.ExecuteAsync(Python($"import time\ntime.sleep(0.5)\nprint({i})"), _user.Key.Metadata).ResponseAsync));

        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
        var after = await Task.WhenAll(fleet.Agents.Select(async a => (await a.StatusAsync()).RunsServed));
        Assert.Equal([before[0] + 1, before[1] + 1], after);
    }

    [Fact]
    public async Task When_an_agent_is_killed_its_run_in_flight_fails_with_UNAVAILABLE_and_every_next_run_goes_to_the_survivor()
    {
        var longRun = fleet.Server.Rpc.Execute.ExecuteAsync(Long(), _user.Key.Metadata);
        var victim = await BusyAgentAsync();
        var survivor = fleet.Agents.Single(a => a != victim);
        var survivorBefore = (await survivor.StatusAsync()).RunsServed;
        var clock = Stopwatch.StartNew();

        victim.Kill();

        var lost = await Assert.ThrowsAsync<RpcException>(async () => await longRun);
        Assert.Equal(StatusCode.Unavailable, lost.StatusCode);
        for (var i = 0; i < 5; i++)
        {
            var run = Stopwatch.StartNew();
            Assert.Equal($"{i}\n", (await fleet.Server.Rpc.Execute.ExecuteAsync(Python($"print({i})"), _user.Key.Metadata)).Output);
            Assert.True(run.Elapsed < TimeSpan.FromSeconds(10), $"run {i} took {run.Elapsed.TotalSeconds:0.0} s with one agent dead");
        }
        Assert.Equal(survivorBefore + 5, (await survivor.StatusAsync()).RunsServed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{clock.Elapsed.TotalSeconds:0.0} s from the kill to the fifth run");
        var health = await HealthAsync();
        var dead = health.Items("agents").Single(a => a.Str("address") == victim.Address);
        Assert.False(dead.Prop("reachable").GetBoolean());
        Assert.False(dead.Prop("inRotation").GetBoolean());
        Assert.Contains(victim.Address, dead.Str("message"));
        var alive = health.Items("agents").Single(a => a.Str("address") == survivor.Address);
        Assert.True(alive.Prop("inRotation").GetBoolean());
        Assert.Equal(survivor.InstanceId, alive.Str("agentId"));
    }

    [Fact]
    public async Task With_every_agent_dead_a_run_fails_at_once_with_UNAVAILABLE_naming_each_agent()
    {
        fleet.A.Kill();
        fleet.B.Kill();
        var clock = Stopwatch.StartNew();

        var error = await RpcAssert.FailsWith(StatusCode.Unavailable,
            async () => await fleet.Server.Rpc.Execute.ExecuteAsync(Python("print(1)"), _user.Key.Metadata));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the refusal took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("no sandbox agent is reachable", error.Status.Detail);
        Assert.Contains(fleet.A.Address, error.Status.Detail);
        Assert.Contains(fleet.B.Address, error.Status.Detail);
    }

    [Fact]
    public async Task An_agent_killed_and_started_again_on_the_same_socket_gets_runs_again()
    {
        fleet.A.Kill();
        Assert.Equal("down\n", (await fleet.Server.Rpc.Execute.ExecuteAsync(Python("print('down')"), _user.Key.Metadata)).Output);

        await fleet.A.RestartAsync();

        // A restarted agent counts from zero: bursts of two runs until it has served one.
        await Poll.UntilAsync(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
                fleet.Server.Rpc.Execute.ExecuteAsync(Python("import time\ntime.sleep(0.3)"), _user.Key.Metadata).ResponseAsync));
            return (await fleet.A.StatusAsync()).RunsServed > 0;
        }, Deadline, "the restarted agent serves a run", () => fleet.Logs);
    }

    private static ExecuteRequest Long()
    {
        var request = Python(Forever);
        request.Timeout = 50;
        return request;
    }

    [Fact]
    public async Task An_agent_that_stops_answering_is_out_of_rotation_within_seconds_and_back_when_it_answers_again()
    {
        var (frozen, other) = (fleet.A, fleet.B);
        var otherBefore = (await other.StatusAsync()).RunsServed;
        var clock = Stopwatch.StartNew();

        ProcessSignals.Freeze(frozen.ProcessId);
        try
        {
            await Poll.UntilAsync(async () => !(await AgentHealthAsync(frozen)).Prop("inRotation").GetBoolean(),
                TimeSpan.FromSeconds(15), "the frozen agent is out of rotation", () => fleet.Logs);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"taken out after {clock.Elapsed.TotalSeconds:0.0} s");
            for (var i = 0; i < 3; i++)
            {
                var run = Stopwatch.StartNew();
                Assert.Equal($"{i}\n", (await fleet.Server.Rpc.Execute.ExecuteAsync(Python($"print({i})"), _user.Key.Metadata)).Output);
                Assert.True(run.Elapsed < TimeSpan.FromSeconds(10), $"run {i} took {run.Elapsed.TotalSeconds:0.0} s");
            }
            Assert.Equal(otherBefore + 3, (await other.StatusAsync()).RunsServed);
        }
        finally
        {
            ProcessSignals.Thaw(frozen.ProcessId);
        }

        await Poll.UntilAsync(async () => (await AgentHealthAsync(frozen)).Prop("inRotation").GetBoolean(),
            TimeSpan.FromSeconds(15), "the agent is back in rotation", () => fleet.Logs);
    }

    private async Task<JsonElement> AgentHealthAsync(AgentProcess agent) =>
        (await HealthAsync()).Items("agents").Single(a => a.Str("address") == agent.Address);

    /// <summary>The agent the long run landed on.</summary>
    private async Task<AgentProcess> BusyAgentAsync() =>
        await Poll.ForAsync(async () =>
        {
            foreach (var agent in fleet.Agents)
                if ((await agent.StatusAsync()).ActiveRuns > 0) return agent;
            return null;
        }, Deadline, "an agent runs the long program", () => fleet.Logs);

    private async Task<JsonElement> HealthAsync() =>
        (await fleet.Server.Rest.GetAsync("/api/v1/health", _user.Key)).Expect(System.Net.HttpStatusCode.OK).Json;
}
