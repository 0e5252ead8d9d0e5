using PythOn.Server.Agents;

namespace PythOn.Server.Tests.Agents;

/// <summary>Least-loaded routing on made-up loads: which agent a run goes to, no processes involved.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AgentPickerTests
{
    private static AgentLoad Idle(int slots) => new(true, false, slots, slots, 0, 0, 0);

    [Fact]
    public void The_agent_with_the_most_idle_slots_comes_first()
    {
        var loads = new[] { Idle(4) with { IdleAtStatus = 1 }, Idle(4) with { IdleAtStatus = 3 }, Idle(4) with { IdleAtStatus = 2 } };

        Assert.Equal([1, 2, 0], AgentPicker.Order(loads, rotation: 0));
    }

    [Fact]
    public void Runs_this_server_started_since_the_last_status_count_against_an_agent_so_a_burst_spreads()
    {
        // Both had 2 idle slots at their last status; since then this server sent 2 runs to the first.
        var loads = new[] { Idle(2) with { OursNow = 2, OursTotal = 2 }, Idle(2) };

        Assert.Equal([1, 0], AgentPicker.Order(loads, rotation: 0));
        Assert.Equal(0, AgentPicker.FreeSlots(loads[0]));
    }

    [Fact]
    public void Our_runs_the_status_already_counted_are_not_counted_twice()
    {
        // The status saw 1 of 2 slots busy, and that was our run (still in flight): one slot is free, not zero.
        var load = new AgentLoad(true, false, 2, 1, OursAtStatus: 1, OursNow: 1, OursTotal: 1);

        Assert.Equal(1, AgentPicker.FreeSlots(load));
    }

    [Fact]
    public void Other_servers_runs_seen_in_the_status_count_as_busy()
    {
        // 3 of 4 busy at the status, none of them ours.
        Assert.Equal(1, AgentPicker.FreeSlots(new AgentLoad(true, false, 4, 1, 0, 0, 0)));
    }

    [Fact]
    public void Agents_out_of_rotation_shutting_down_or_without_slots_for_the_language_are_not_offered()
    {
        var loads = new[] { Idle(2) with { InRotation = false }, Idle(2) with { Draining = true }, Idle(0), Idle(1) };

        Assert.Equal([3], AgentPicker.Order(loads, rotation: 0));
    }

    [Fact]
    public void An_agent_not_yet_probed_is_offered_after_agents_known_to_have_room()
    {
        var loads = new[] { new AgentLoad(true, false, null, 0, 0, 0, 0), Idle(1) };

        Assert.Equal([1, 0], AgentPicker.Order(loads, rotation: 0));
    }

    [Fact]
    public void Equal_agents_take_turns()
    {
        var loads = new[] { Idle(2), Idle(2), Idle(2) };

        var firsts = Enumerable.Range(0, 6).Select(r => AgentPicker.Order(loads, r)[0]).ToList();

        Assert.Equal([0, 1, 2, 0, 1, 2], firsts);
    }

    [Fact]
    public void When_every_agent_is_full_the_least_overloaded_comes_first()
    {
        var loads = new[] { Idle(1) with { IdleAtStatus = 0, OursNow = 3, OursTotal = 3 }, Idle(1) with { IdleAtStatus = 0, OursNow = 1, OursTotal = 1 } };

        Assert.Equal([1, 0], AgentPicker.Order(loads, rotation: 0));
    }
}
