using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// What a run leaves behind end to end: its audit entry, the agent and slot state in health and Docker.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ExecuteAuditAndSlotsTests(SandboxedServerFixture fixture) : ExecuteEndToEnd(fixture)
{
    [Fact]
    public async Task Each_run_is_audited_with_language_duration_exit_code_and_code_hash_but_never_the_code()
    {
        var user = await Users.RegisterAsync(E2e.Rest);
        var marker = $"audit-marker-{Guid.NewGuid():N}";
        var code = $"import sys\n# {marker}\nprint('x')\nsys.exit(5)";

        var result = await E2e.ExecuteAsync(Transport.Grpc, Python(code), user);
        Assert.Equal(5, result.ExitCode);

        var audit = await E2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key);
        audit.Expect(HttpStatusCode.OK);
        Assert.DoesNotContain(marker, audit.Body);
        var run = Assert.Single(audit.Json.Items("entries"), e => e.Str("action") == "execute.run");
        Assert.Equal("failure", run.Str("outcome"));
        var details = run.Prop("details");
        Assert.Equal("python", details.Str("language"));
        Assert.Equal("5", details.Str("exit_code"));
        Assert.Equal(result.DurationMs.ToString(), details.Str("duration_ms"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code))), details.Str("code_sha256"));
    }

    [Fact]
    public async Task A_streamed_run_is_audited_too()
    {
        var user = await Users.RegisterAsync(E2e.Rest);

        await StreamAsync(JavaScript("console.log('streamed')"), user);

        var audit = (await E2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key)).Expect(HttpStatusCode.OK).Json;
        var run = Assert.Single(audit.Items("entries"), e => e.Str("action") == "execute.stream");
        Assert.Equal("javascript", run.Prop("details").Str("language"));
        Assert.Equal("0", run.Prop("details").Str("exit_code"));
        Assert.Equal("success", run.Str("outcome"));
    }

    [Fact]
    public async Task Health_shows_the_agent_reachable_docker_ok_and_the_warm_pool()
    {
        JsonElement health = default;
        // The pool refills in the background after earlier runs: poll until it reports ready containers.
        await Poll.UntilAsync(async () =>
        {
            health = (await E2e.Rest.GetAsync("/api/v1/health", _user.Key)).Expect(HttpStatusCode.OK).Json;
            return health.TryGetProperty("pool", out var pool) && pool.TryGetProperty("python", out var p) && p.GetInt32() >= 1
                && pool.TryGetProperty("javascript", out var j) && j.GetInt32() >= 1;
        }, TimeSpan.FromSeconds(60), "health reports warm containers for both languages", () => health.ToString());

        Assert.Equal("ok", health.Str("status"));
        Assert.True(health.Prop("docker").Prop("ok").GetBoolean());
        var agent = Assert.Single(health.Items("agents"));
        Assert.Equal(E2e.Agent.Address, agent.Str("address"));
        Assert.True(agent.Prop("reachable").GetBoolean());
        Assert.True(agent.Prop("docker").Prop("ok").GetBoolean());
        Assert.InRange(agent.Prop("poolReady").Prop("python").GetInt32(), 1, E2e.Agent.PythonPool);
    }

    [Fact]
    public async Task A_run_happens_in_a_slot_of_the_agent_and_ends_with_its_timeout()
    {
        var request = Python("import time\nwhile True:\n    time.sleep(0.05)");
        request.Timeout = 4;
        var run = E2e.ExecuteAsync(Transport.Rest, request, _user);

        var container = await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(E2e.Agent.InstanceId), TimeSpan.FromSeconds(30),
            "a container of the agent runs the program");
        var labels = await DockerCli.LabelsAsync(container);
        Assert.Equal(E2e.Agent.InstanceId, labels["pyth-on.agent"]);
        Assert.True((await run).TimedOut);

        await Poll.UntilAsync(async () => await DockerCli.RunningPythonProgramsAsync(container) == 0,
            TimeSpan.FromSeconds(30), $"the program in slot {container[..12]} is gone");
    }

    [Fact]
    public async Task After_runs_only_the_slots_are_left_in_Docker_all_idle()
    {
        await E2e.ExecuteAsync(Transport.Rest, Python("print(1)"), _user);
        await E2e.ExecuteAsync(Transport.Grpc, Python("import sys; sys.exit(9)"), _user);
        await E2e.ExecuteAsync(Transport.Rest, JavaScript("process.exit(2)"), _user);
        await E2e.ExecuteAsync(Transport.Grpc, JavaScript("console.log(1)"), _user);
        var timeout = Python("while True: pass");
        timeout.Timeout = 1;
        await E2e.ExecuteAsync(Transport.Grpc, timeout, _user);
        var target = E2e.Agent.PythonPool + E2e.Agent.JavaScriptPool;

        IReadOnlyList<(string Id, string State)> containers = [];
        await Poll.UntilAsync(async () =>
        {
            containers = await DockerCli.ContainersOfAgentAsync(E2e.Agent.InstanceId);
            return containers.Count == target && containers.All(c => c.State == "running")
                && await DockerCli.FindRunningPythonProgramAsync(E2e.Agent.InstanceId) is null;
        }, TimeSpan.FromSeconds(60), $"exactly the {target} slots are left, all waiting for a job",
            () => string.Join(", ", containers.Select(c => $"{c.Id[..12]} {c.State}")));
    }
}
