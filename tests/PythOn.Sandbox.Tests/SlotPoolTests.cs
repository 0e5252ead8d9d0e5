using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;
using PythOn.TestSupport;

namespace PythOn.Sandbox.Tests;

/// <summary>How runs share slots (each test starts its own agent with one Python slot).</summary>
[Collection(SandboxCollection.Name)]
public sealed class SlotPoolTests(SandboxFixture fx)
{
    [Fact]
    public async Task Runs_beyond_the_slots_wait_their_turn_and_all_succeed()
    {
        var id = $"turn-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0);

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => agent.Client.RunAsync(Runs.Python($"print({i})"))));

        Assert.Equal(["0\n", "1\n", "2\n", "3\n"], runs.Select(r => r.Stdout).Order());
        Assert.Single(runs.Select(r => r.Started.SandboxId).Distinct()); // one slot served them all, one at a time
    }

    [Fact]
    public async Task A_run_that_finds_every_slot_busy_past_the_acquire_timeout_is_resource_exhausted()
    {
        var id = $"busy-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0,
            new Dictionary<string, string> { ["Agent__Pool__AcquireTimeoutMs"] = "300" });
        var sleeper = Runs.Python("import time\ntime.sleep(8)"); // outlasts a slow machine's way from the poll to the second call
        var busy = agent.Client.RunAsync(sleeper);
        await Poll.UntilAsync(async () => (await agent.Client.GetStatusAsync(new GetStatusRequest())).ActiveRuns == 1,
            TimeSpan.FromSeconds(10), "the first run holds the slot");

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.Client.RunAsync(Runs.Python("print(1)")));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("slots are busy", error.Status.Detail);
        Assert.Equal(0, (await busy).Result.ExitCode);
    }

    [Fact]
    public async Task A_slot_is_replaced_after_RunsPerSlot_runs()
    {
        var id = $"recy-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0,
            new Dictionary<string, string> { ["Agent__Pool__RunsPerSlot"] = "2" });

        var slots = new List<string>();
        for (var i = 0; i < 4; i++)
            slots.Add((await agent.Client.RunAsync(Runs.Python("print(1)"))).Started.SandboxId);

        Assert.Equal(slots[0], slots[1]);
        Assert.Equal(slots[2], slots[3]);
        Assert.NotEqual(slots[0], slots[2]);
        await Poll.UntilAsync(async () => !await fx.ContainerExistsAsync(slots[0]), TimeSpan.FromSeconds(15), "the used-up slot is removed");
    }

    [Fact]
    public async Task Status_shows_every_slot_with_its_state_and_runs_served()
    {
        var id = $"stat-{Guid.NewGuid():N}"[..16];
        // The pool's debug log says why a slot is recycled, for the messages below.
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 2, javaScriptPool: 1,
            new Dictionary<string, string> { ["Logging__LogLevel__PythOn.Sandbox.Agent.Slots"] = "Debug" });
        var run = await agent.Client.RunAsync(Runs.Python("print(1)"));

        var status = await Poll.ForAsync(async () =>
        {
            var s = await agent.Client.GetStatusAsync(new GetStatusRequest());
            return s.Slots.Count(x => x.State == SlotState.Idle) == 3 ? s : null;
        }, TimeSpan.FromSeconds(20), "three idle slots");

        // Each slot with its state in the message: a slot recycled meanwhile (and why) shows in the agent's log.
        var slots = string.Join("; ", status.Slots.Select(s => $"{s.Language} {s.Id[..12]} {s.State} runs {s.RunsServed}"));
        Assert.True(status.Slots.Count(s => s.Language == "python") == 2, $"two python slots expected: {slots}\n{agent.Log}");
        Assert.True(status.Slots.Count(s => s.Language == "javascript") == 1, $"one javascript slot expected: {slots}\n{agent.Log}");
        Assert.Equal(1, status.Slots.Single(s => s.Id == run.Started.SandboxId).RunsServed);
        Assert.Equal(1, status.RunsServed);
    }
}
