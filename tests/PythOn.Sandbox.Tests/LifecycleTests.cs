using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

[Collection(SandboxCollection.Name)]
public sealed class LifecycleTests(SandboxFixture fx)
{
    [Fact]
    public async Task Status_reports_docker_the_image_and_a_full_warm_pool()
    {
        var status = await fx.Client.GetStatusAsync(new GetStatusRequest());
        Assert.True(status.DockerOk, status.DockerMessage);
        Assert.True(status.ImageOk);
        Assert.Equal(fx.Image, status.Image);
        Assert.Equal(fx.InstanceId, status.AgentId);
        Assert.Equal(SandboxFixture.PythonPool, status.PoolTarget["python"]);
        Assert.Equal(SandboxFixture.JavaScriptPool, status.PoolTarget["javascript"]);
        await Poll.UntilAsync(async () =>
        {
            var s = await fx.Client.GetStatusAsync(new GetStatusRequest());
            return s.PoolReady["python"] == SandboxFixture.PythonPool && s.PoolReady["javascript"] == SandboxFixture.JavaScriptPool;
        }, TimeSpan.FromSeconds(30), "the warm pool is full");
    }

    [Fact]
    public async Task A_run_uses_a_warm_sandbox_and_the_pool_refills()
    {
        await WaitForFullPoolAsync();
        var run = await fx.Client.RunAsync(Runs.Python("print(1)"));
        Assert.True(run.Started.Warm);
        Assert.True(run.Result.Warm);
        await WaitForFullPoolAsync();
    }

    [Fact]
    public async Task Once_status_shows_nothing_starting_or_removing_only_the_warm_pool_is_left()
    {
        await fx.Client.RunAsync(Runs.Python("print(1)"));
        await fx.Client.RunAsync(Runs.JavaScript("console.log(1)"));
        await Poll.UntilAsync(async () =>
        {
            var s = await fx.Client.GetStatusAsync(new GetStatusRequest());
            return s.ActiveRuns == 0 && s.SandboxesRemoving == 0 && s.PoolStarting.Values.All(n => n == 0)
                && s.PoolReady["python"] == SandboxFixture.PythonPool && s.PoolReady["javascript"] == SandboxFixture.JavaScriptPool;
        }, TimeSpan.FromSeconds(30), "the agent is idle with a full pool");

        var containers = await fx.ContainersOfAsync(fx.InstanceId);
        Assert.Equal(SandboxFixture.PythonPool + SandboxFixture.JavaScriptPool, containers.Count);
        Assert.All(containers, c => Assert.Equal("running", c.State));
    }

    [Fact]
    public async Task A_runner_that_exits_before_it_is_ready_is_unavailable_with_its_message()
    {
        var detail = await RunDetailWithBrokenImageAsync(
            "printf 'import sys\\nsys.stderr.write(\"runner broke at boot\\\\n\")\\nsys.exit(1)\\n' > /opt/pyth-on/zygote.py");
        Assert.Contains("exited before it was ready: the zygote exited with status 1", detail);
        Assert.Contains("runner broke at boot", detail);
    }

    [Fact]
    public async Task A_javascript_slot_whose_zygote_cannot_go_on_in_c_is_unavailable_with_the_reason()
    {
        // The Python zygote execs pyth-on-zygote once the slot is set up; what fails until then reaches the slot's
        // diagnostics, not /dev/null.
        var detail = await RunDetailWithBrokenImageAsync("rm /opt/pyth-on/pyth-on-zygote", Runs.JavaScript("console.log(1)"));
        Assert.Contains("exited before it was ready: the zygote exited with status 1", detail);
        Assert.Contains("exec /opt/pyth-on/pyth-on-zygote: No such file or directory", detail);
    }

    [Fact]
    public async Task A_run_sandbox_that_cannot_be_built_ends_its_slot_at_once_with_the_reason()
    {
        // Every run sandbox fails while its init builds the filesystems (no /run to put its scratch tmpfs on): the
        // slot says why instead of waiting for its start timeout (Pool:SlotStartTimeoutMs, 30 s, whose message
        // would be "did not get ready").
        var detail = await RunDetailWithBrokenImageAsync("rm -rf /run && ! test -e /run");
        Assert.Contains("a run sandbox failed to start", detail);
        Assert.Contains("SetupError: mount /run: No such file or directory", detail);
    }

    [Fact]
    public async Task An_agent_stopped_while_its_slots_start_leaves_none_of_its_containers()
    {
        var id = $"stop-early-{Guid.NewGuid():N}"[..20];
        var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 3, javaScriptPool: 2,
            waitForPool: false);
        await using (agent)
        {
            // Its pool starts filling as soon as it listens: stop it while those slots are being created.
            await agent.StopAsync();
        }
        Assert.Empty(await fx.ContainersOfAsync(id));
    }

    /// <summary>Starts an agent on the runtime image changed by <paramref name="script"/> (run as root and committed:
    /// no registry here), asks it for <paramref name="run"/> (a python run by default), which must fail as
    /// unavailable, and returns the error's detail once the failed sandboxes are removed.</summary>
    private async Task<string> RunDetailWithBrokenImageAsync(string script, RunRequest? run = null)
    {
        run ??= Runs.Python("print(1)");
        var javaScript = run.Language == "javascript";
        var tag = $"pyth-on-test-broken-runtime:{Guid.NewGuid():N}";
        var builder = await fx.Docker.Containers.CreateContainerAsync(new Docker.DotNet.Models.CreateContainerParameters
        {
            Image = fx.Image,
            User = "0",
            Cmd = ["/bin/sh", "-c", script],
            HostConfig = new Docker.DotNet.Models.HostConfig { NetworkMode = "none" },
        });
        await fx.Docker.Containers.StartContainerAsync(builder.ID, new Docker.DotNet.Models.ContainerStartParameters());
        var built = await fx.Docker.Containers.WaitContainerAsync(builder.ID);
        Assert.Equal(0, built.StatusCode);
        var image = await fx.Docker.Images.CommitContainerChangesAsync(new Docker.DotNet.Models.CommitContainerChangesParameters
        {
            ContainerID = builder.ID, RepositoryName = tag.Split(':')[0], Tag = tag.Split(':')[1],
        });
        await fx.Docker.Containers.RemoveContainerAsync(builder.ID, new Docker.DotNet.Models.ContainerRemoveParameters { Force = true });
        try
        {
            var id = $"broken-{Guid.NewGuid():N}"[..16];
            await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, tag,
                pythonPool: javaScript ? 0 : 1, javaScriptPool: javaScript ? 1 : 0, waitForPool: false);

            var error = await Assert.ThrowsAsync<RpcException>(() => agent.Client.RunAsync(run));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            await Poll.UntilAsync(async () => (await fx.ContainersOfAsync(id)).Count == 0, TimeSpan.FromSeconds(30),
                "the failed sandbox is removed");
            return error.Status.Detail;
        }
        finally
        {
            await fx.Docker.Images.DeleteImageAsync(image.ID, new Docker.DotNet.Models.ImageDeleteParameters { Force = true });
        }
    }

    [Fact]
    public async Task An_idle_slot_that_died_is_replaced_and_runs_still_work()
    {
        await WaitForFullPoolAsync();
        var warm = (await fx.ContainersOfAsync(fx.InstanceId))
            .First(c => c.State == "running" && c.Labels["pyth-on.language"] == "python");
        await fx.Docker.Containers.KillContainerAsync(warm.ID, new Docker.DotNet.Models.ContainerKillParameters { Signal = "KILL" });
        await Poll.UntilAsync(async () => !await fx.ContainerExistsAsync(warm.ID), TimeSpan.FromSeconds(15),
            "the dead slot is dropped and removed");
        await WaitForFullPoolAsync();
        var run = await fx.Client.RunAsync(Runs.Python("print('ok')"));
        Assert.Equal("ok\n", run.Stdout);
        Assert.True(run.Started.Warm);
    }

    [Fact]
    public async Task With_RunsPerSlot_1_every_run_gets_a_container_of_its_own_which_is_removed_after_it()
    {
        var id = $"once-{Guid.NewGuid():N}"[..16];
        await using var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 0,
            new Dictionary<string, string> { ["Agent__Pool__RunsPerSlot"] = "1" });
        var first = await agent.Client.RunAsync(Runs.Python("open('/work/left-behind', 'w').write('x')\nprint('wrote')"));
        var second = await agent.Client.RunAsync(Runs.Python("import os\nprint(os.path.exists('/work/left-behind'))"));
        Assert.NotEqual(first.Started.SandboxId, second.Started.SandboxId);
        Assert.Equal("False\n", second.Stdout);
        await Poll.UntilAsync(async () => !await fx.ContainerExistsAsync(first.Started.SandboxId),
            TimeSpan.FromSeconds(15), $"slot {first.Started.SandboxId[..12]} is removed");
    }

    [Fact]
    public async Task Output_streams_to_the_caller_while_the_program_still_runs()
    {
        var request = Runs.Python("import time\nprint('first', flush=True)\nwhile True:\n    time.sleep(0.05)");
        request.TimeoutMs = 30_000;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = fx.Client.Run(request, cancellationToken: cts.Token);
        var sandboxId = (await IsolationTests.NextAsync(call, RunEvent.EventOneofCase.Started)).Started.SandboxId;
        Assert.Equal("first\n", await IsolationTests.StdoutLineAsync(call));
        // The program has not ended: its container is still running.
        var inspect = await fx.Docker.Containers.InspectContainerAsync(sandboxId);
        Assert.True(inspect.State.Running);
        cts.Cancel();
    }

    [Fact]
    public async Task Cancelling_a_run_kills_its_processes_and_the_slot_serves_the_next_run()
    {
        var request = Runs.JavaScript("console.log('up'); setInterval(() => {}, 1000);");
        request.TimeoutMs = 60_000;
        using var cts = new CancellationTokenSource();
        using var call = fx.Client.Run(request, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext());
        var slotId = call.ResponseStream.Current.Started.SandboxId;
        Assert.True(await call.ResponseStream.MoveNext());
        cts.Cancel();
        await Poll.UntilAsync(async () =>
        {
            var s = await fx.Client.GetStatusAsync(new GetStatusRequest());
            return s.Slots.Any(x => x.Id == slotId && x.State == SlotState.Idle);
        }, TimeSpan.FromSeconds(15), "the slot of the cancelled run is idle again");
        // Only the next run's pre-started node is left in the slot (a process whose command is node: the zygote's
        // command line names node too, as what it starts).
        var top = await fx.Docker.Containers.ListProcessesAsync(slotId, new Docker.DotNet.Models.ContainerListProcessesParameters());
        var command = top.Titles.IndexOf("CMD");
        Assert.Single(top.Processes, p => p[command].StartsWith("/usr/local/bin/node ", StringComparison.Ordinal));
        Assert.Equal("1\n", (await fx.Client.RunAsync(Runs.JavaScript("console.log(1)"))).Stdout);
    }

    [Fact]
    public async Task Orphans_of_a_killed_agent_are_removed_when_it_restarts()
    {
        var id = "orphan-test-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(fx.Dir, id);
        var first = await AgentProcess.StartAsync(dir, id, fx.Image, pythonPool: 2, javaScriptPool: 0);
        // The slots the agent serves from; on a loaded machine a slot may have been replaced during start, so every
        // container the agent ever labelled counts as its own, not only these.
        var slots = (await first.StatusAsync()).Slots.Where(s => s.State == SlotState.Idle).Select(s => s.Id).ToList();
        Assert.Equal(2, slots.Count);
        var before = (await fx.ContainersOfAsync(id)).Select(c => c.ID).ToList();
        Assert.Subset(before.ToHashSet(), slots.ToHashSet());

        first.Kill(); // kill -9: the agent cannot clean up
        Assert.Subset((await fx.ContainersOfAsync(id)).Select(c => c.ID).ToHashSet(), slots.ToHashSet());
        Assert.True(File.Exists(first.SocketPath)); // stale socket left behind too

        await using var second = await AgentProcess.StartAsync(dir, id, fx.Image, pythonPool: 1, javaScriptPool: 0);
        await Poll.UntilAsync(async () =>
        {
            var now = (await fx.ContainersOfAsync(id)).Select(c => c.ID).ToHashSet();
            return !before.Any(now.Contains);
        }, TimeSpan.FromSeconds(30), "the killed agent's containers are removed");
        var run = await second.Client.RunAsync(Runs.Python("print('after restart')"));
        Assert.Equal("after restart\n", run.Stdout);
    }

    [Fact]
    public async Task Stopping_the_agent_removes_all_its_sandboxes()
    {
        var id = "stop-test-" + Guid.NewGuid().ToString("N")[..8];
        var agent = await AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 1, javaScriptPool: 1);
        var slots = (await agent.StatusAsync()).Slots.Select(s => s.Id).ToHashSet();
        Assert.Equal(2, slots.Count);
        Assert.Subset((await fx.ContainersOfAsync(id)).Select(c => c.ID).ToHashSet(), slots);
        await agent.StopAsync(TimeSpan.FromSeconds(30));
        await agent.DisposeAsync();
        Assert.Empty(await fx.ContainersOfAsync(id));
    }

    private Task WaitForFullPoolAsync() => Poll.UntilAsync(async () =>
    {
        var s = await fx.Client.GetStatusAsync(new GetStatusRequest());
        return s.PoolReady["python"] == SandboxFixture.PythonPool;
    }, TimeSpan.FromSeconds(30), "the Python pool is full");
}
