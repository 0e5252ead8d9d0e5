using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Sandbox.Agent.Runs;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Status;

/// <summary>Docker, image and slot state for GetStatus.</summary>
public sealed class StatusReporter(IOptions<AgentOptions> options, DockerHost docker, SlotPool pool, RunExecutor runs, SlotFactory factory,
    Hosting.ShutdownDrain drain, Packages.StoreCollector stores)
{
    public async Task<AgentStatus> GetAsync(CancellationToken ct)
    {
        var status = new AgentStatus
        {
            Image = options.Value.Image,
            AgentId = docker.InstanceId,
            ActiveRuns = runs.ActiveRuns,
            SandboxesRemoving = factory.RemovingCount,
            RunsServed = pool.RunsServed,
            PackageStores = stores.Totals.Count,
            PackageStoreBytes = stores.Totals.Bytes,
            Draining = drain.Draining,
        };
        foreach (var slot in pool.Slots.Concat(pool.RecyclingSlots).DistinctBy(s => s.Id))
        {
            status.Slots.Add(new SlotStatus
            {
                Id = slot.Id,
                Language = slot.Language.Name,
                State = slot.State switch
                {
                    Slots.SlotState.Starting => V1.SlotState.Starting,
                    Slots.SlotState.Idle => V1.SlotState.Idle,
                    Slots.SlotState.Busy => V1.SlotState.Busy,
                    _ => V1.SlotState.Recycling,
                },
                RunsServed = slot.RunsServed,
                MemoryMb = slot.MemoryMb,
            });
        }
        foreach (var language in LanguageRuntime.All)
        {
            status.Languages.Add(language.Name);
            status.PoolReady[language.Name] = pool.IdleCount(language);
            status.PoolTarget[language.Name] = pool.TargetFor(language);
            status.PoolStarting[language.Name] = pool.StartingCount(language);
        }
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(5));
            status.DockerMessage = await docker.PingAsync(deadline.Token);
            status.DockerOk = true;
            status.ImageOk = await docker.ImageExistsAsync(options.Value.Image, deadline.Token);
            if (!status.ImageOk)
                status.DockerMessage += $"; runtime image '{options.Value.Image}' missing (run scripts/build-runtime-image.sh)";
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            status.DockerOk = false;
            status.DockerMessage = $"Docker engine at {options.Value.DockerEndpoint} does not answer: {e.Message}";
        }
        return status;
    }
}
