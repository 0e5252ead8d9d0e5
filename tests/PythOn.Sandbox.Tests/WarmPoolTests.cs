using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>How runs share the warm pool when it runs dry (each test starts its own agent with one warm sandbox).</summary>
[Collection(SandboxCollection.Name)]
public sealed class WarmPoolTests(SandboxFixture fx)
{
    [Fact]
    public async Task A_run_that_finds_the_pool_empty_waits_for_the_warm_sandbox_already_on_its_way()
    {
        var id = $"wait-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0);

        // The first takes the one warm sandbox; the second finds the pool empty while its refill is starting.
        var runs = await Task.WhenAll(agent.Client.RunAsync(Runs.Python("print(1)")), agent.Client.RunAsync(Runs.Python("print(2)")));

        Assert.All(runs, run => Assert.True(run.Started.Warm, "a run created a cold sandbox while a warm one was on its way"));
        Assert.Equal(["1\n", "2\n"], runs.Select(r => r.Stdout).Order());
    }

    [Fact]
    public async Task Runs_beyond_the_sandboxes_on_their_way_do_not_wait_and_create_their_own()
    {
        var id = $"cold-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0);

        // Three at once against a pool of one: one warm, one waits for the refill, one creates its own.
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => agent.Client.RunAsync(Runs.Python($"print({i})"))));

        Assert.Equal(2, runs.Count(r => r.Started.Warm));
        Assert.Equal(1, runs.Count(r => !r.Started.Warm));
        Assert.All(runs, r => Assert.Equal(0, r.Result.ExitCode));
    }
}
