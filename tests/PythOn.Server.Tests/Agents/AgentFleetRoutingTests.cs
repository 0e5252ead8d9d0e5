using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.V1;
using PythOn.Server.Agents;
using PythOn.Server.Hosting;

namespace PythOn.Server.Tests.Agents;

/// <summary>
/// The fleet's choice for a run as agents' states change (probe answers and failures set by the test, no agent
/// processes): who is offered, in which order, and why the others are not.
/// </summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AgentFleetRoutingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pyth-on-fleet-").FullName;
    private readonly AgentFleet _fleet;

    public AgentFleetRoutingTests()
    {
        // Socket files that exist (nobody listens: nothing here calls the agents).
        string Socket(string name)
        {
            var path = Path.Combine(_dir, name);
            File.WriteAllText(path, "");
            return "unix:" + path;
        }
        _fleet = new AgentFleet(Options.Create(new PythOnOptions { Agents = [Socket("a.sock"), Socket("b.sock")] }), NullLoggerFactory.Instance);
    }

    private AgentMember A => _fleet.Members[0];
    private AgentMember B => _fleet.Members[1];

    private static AgentStatus Status(int idle, int slots = 2, bool draining = false) => new()
    {
        PoolReady = { ["python"] = idle },
        PoolTarget = { ["python"] = slots, ["javascript"] = 0 },
        Draining = draining,
    };

    private static void Answer(AgentMember agent, AgentStatus status, string? notServing = null) =>
        agent.Answered(status, notServing, new Dictionary<string, int>(agent.OursNow()));

    [Fact]
    public void A_run_goes_to_the_agent_with_more_idle_slots()
    {
        Answer(A, Status(idle: 1));
        Answer(B, Status(idle: 2));

        Assert.Same(B, _fleet.ForRun("python", [])[0]);
    }

    [Fact]
    public void Runs_in_flight_on_an_agent_send_the_next_run_to_the_other_before_any_new_status()
    {
        Answer(A, Status(idle: 2));
        Answer(B, Status(idle: 2));
        using var first = _fleet.ForRun("python", [])[0].Begin("python");
        using var second = _fleet.ForRun("python", [])[0].Begin("python");

        Assert.Equal(1, A.OursNow().GetValueOrDefault("python"));
        Assert.Equal(1, B.OursNow().GetValueOrDefault("python"));
    }

    [Fact]
    public void An_agent_stays_in_rotation_after_one_unanswered_probe_and_is_out_after_two()
    {
        Answer(A, Status(idle: 2));
        Answer(B, Status(idle: 2));

        A.Unanswered("not answering at a", failuresToEject: 2);
        Assert.Equal(2, _fleet.ForRun("python", []).Count);
        A.Unanswered("not answering at a", failuresToEject: 2);
        var skipped = new List<string>();

        Assert.Equal([B], _fleet.ForRun("python", skipped));
        Assert.Equal([$"{A.Address}: not answering at a"], skipped);
    }

    [Fact]
    public void An_agent_a_call_could_not_reach_is_out_at_once_and_back_with_its_next_answer()
    {
        Answer(A, Status(idle: 2));
        Answer(B, Status(idle: 1));

        A.Unreachable("connection refused");
        Assert.Equal([B], _fleet.ForRun("python", []));

        Answer(A, Status(idle: 2));
        Assert.Equal([A, B], _fleet.ForRun("python", []));
    }

    [Fact]
    public void An_agent_shutting_down_or_not_serving_is_skipped_with_its_reason()
    {
        Answer(A, Status(idle: 2, draining: true), notServing: "shutting down");
        Answer(B, Status(idle: 2), notServing: "it reports NOT_SERVING: its slots do not start");
        var skipped = new List<string>();

        Assert.Empty(_fleet.ForRun("python", skipped));
        Assert.Equal([$"{A.Address}: shutting down", $"{B.Address}: it reports NOT_SERVING: its slots do not start"], skipped);
    }

    [Fact]
    public void An_agent_without_slots_for_the_language_is_not_offered_its_runs()
    {
        Answer(A, Status(idle: 2));
        Answer(B, Status(idle: 2));
        var skipped = new List<string>();

        Assert.Empty(_fleet.ForRun("javascript", skipped));
        Assert.All(skipped, reason => Assert.EndsWith("no javascript slots configured", reason));
    }

    [Fact]
    public void An_agent_whose_socket_file_is_gone_is_not_offered()
    {
        File.Delete(A.Endpoint.UnixPath!);
        var skipped = new List<string>();

        Assert.Equal([B], _fleet.ForRun("python", skipped));
        Assert.Contains(skipped, s => s.Contains("no agent socket at", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _fleet.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
