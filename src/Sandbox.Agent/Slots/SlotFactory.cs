using System.Collections.Concurrent;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>Creates slots (socket → create → attach → start → supervisor connects → ready) and removes them; tracks
/// every live one so shutdown can remove them all.</summary>
public sealed class SlotFactory(
    DockerHost docker, SlotSpec spec, UidAllocator uids, IOptions<AgentOptions> options, ILoggerFactory logs)
{
    private readonly ILogger _log = logs.CreateLogger<SlotFactory>();
    private readonly ConcurrentDictionary<string, Slot> _live = new();
    private readonly ConcurrentDictionary<Task, byte> _removals = new();

    /// <summary>Slots being killed and removed in the background.</summary>
    public int RemovingCount => _removals.Count;

    /// <summary>Creates and starts a slot with a uid the caller already holds; on failure the uid is released.</summary>
    public async Task<Slot> CreateAsync(LanguageRuntime language, int uidIndex, CancellationToken ct)
    {
        string? id = null;
        SupervisorDiagnostics? diagnostics = null;
        var memoryMb = options.Value.Limits.MemoryMb;
        var timeout = options.Value.Pool.SlotReadyTimeout;
        var socket = new SupervisorSocket(options.Value.StateDir);
        Slot? slot = null;
        try
        {
            // Not cancelled halfway: dockerd may create the container after the client gave up, and only a known
            // id is removed below.
            var created = await docker.Client.Containers.CreateContainerAsync(
                spec.Build(language, uids.UidOf(uidIndex), memoryMb, socket.HostPath), CancellationToken.None);
            id = created.ID;
            ct.ThrowIfCancellationRequested();
            // Attach before start so none of its own output is missed (frames come over the socket).
            diagnostics = new SupervisorDiagnostics(await docker.Client.Containers.AttachContainerAsync(id, tty: false,
                new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, ct));
            await docker.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct);

            // One deadline from the start to the first ready frame: connecting and preparing the first run sandbox.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            var accept = socket.AcceptAsync(deadline.Token);
            if (await Task.WhenAny(accept, diagnostics.Ended) != accept)
            {
                deadline.Cancel();
                if (accept.IsCompletedSuccessfully)
                    accept.Result.Dispose();
                throw ExitedBeforeReady(diagnostics.Text);
            }
            try
            {
                slot = new Slot(id, language, uidIndex, memoryMb, socket, await accept, diagnostics, _log);
                _live[id] = slot;
                await slot.WhenReady.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new SlotNotReadyException($"the {language.Name} slot did not get ready within {timeout.TotalSeconds:0} s");
            }
            catch (SlotDiedException e)
            {
                // Its output ends with the container; the reason is usually there.
                try
                {
                    await diagnostics.Ended.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
                }
                catch (TimeoutException)
                {
                    // the note stays what it is
                }
                throw ExitedBeforeReady(slot!.DeathNote ?? e.Message);
            }
            slot.State = SlotState.Idle;
            return slot;
        }
        catch
        {
            if (id is not null)
            {
                _live.TryRemove(id, out _);
                await RemoveQuietlyAsync(id);
            }
            if (slot is not null)
                slot.Close();
            else
            {
                diagnostics?.Dispose();
                socket.Dispose();
            }
            uids.Release(uidIndex);
            throw;
        }

        SlotNotReadyException ExitedBeforeReady(string? note) =>
            new($"the {language.Name} slot exited before it was ready: {note ?? "no message"}");
    }

    /// <summary>Docker's view of a slot that died: was it OOM-killed (the supervisor itself, by memory that is in
    /// no process's RSS, such as memfd or tmpfs pages)?</summary>
    public async Task<bool> DiedOfOomAsync(Slot slot)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var wait = await docker.Client.Containers.WaitContainerAsync(slot.Id, deadline.Token);
            var inspect = await docker.Client.Containers.InspectContainerAsync(slot.Id, deadline.Token);
            return inspect.State.OOMKilled || wait.StatusCode == 137;
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Changes the slot's memory limit (memory = memory+swap: no swap); false when Docker refused.</summary>
    public async Task<bool> SetMemoryAsync(Slot slot, int memoryMb)
    {
        const long MiB = 1024 * 1024;
        try
        {
            // Growing: swap limit first (it must stay ≥ memory); shrinking: memory first.
            var grow = memoryMb > slot.MemoryMb;
            await docker.Client.Containers.UpdateContainerAsync(slot.Id, grow
                ? new ContainerUpdateParameters { MemorySwap = memoryMb * MiB, Memory = memoryMb * MiB }
                : new ContainerUpdateParameters { Memory = memoryMb * MiB, MemorySwap = memoryMb * MiB }, CancellationToken.None);
            slot.MemoryMb = memoryMb;
            return true;
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException)
        {
            _log.LogWarning("Could not set slot {Id} memory to {Mb} MiB: {Error}", slot.ShortId, memoryMb, e.Message);
            return false;
        }
    }

    /// <summary>Kills the slot with SIGKILL through the API.</summary>
    public async Task KillAsync(Slot slot)
    {
        try
        {
            await docker.Client.Containers.KillContainerAsync(slot.Id, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None);
        }
        catch (DockerApiException e)
        {
            _log.LogDebug("Kill {Id}: {Error}", slot.ShortId, e.Message);
        }
    }

    /// <summary>Removes the slot off the caller's path; its uid is freed once the container is gone.</summary>
    public void DestroyInBackground(Slot slot)
    {
        slot.State = SlotState.Recycling;
        var task = Task.Run(() => DestroyAsync(slot));
        _removals[task] = 0;
        task.ContinueWith(t => _removals.TryRemove(t, out _), TaskScheduler.Default);
    }

    public async Task DestroyAsync(Slot slot)
    {
        if (!_live.TryRemove(slot.Id, out _))
            return; // already destroyed
        slot.State = SlotState.Recycling;
        // A container that could not be removed keeps its uid: reusing it would share per-uid limits.
        var removed = await RemoveQuietlyAsync(slot.Id);
        try
        {
            slot.Close();
        }
        catch (Exception e)
        {
            _log.LogDebug(e, "Closing the connection of {Id}", slot.ShortId);
        }
        if (removed)
            uids.Release(slot.UidIndex);
    }

    /// <summary>Shutdown: removes every slot this process knows about and waits for pending removals.</summary>
    public async Task DestroyAllAsync()
    {
        await Task.WhenAll(_live.Values.ToList().Select(DestroyAsync));
        await Task.WhenAll(_removals.Keys.ToList());
    }

    private async Task<bool> RemoveQuietlyAsync(string id)
    {
        try
        {
            await docker.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
            return true;
        }
        catch (DockerContainerNotFoundException)
        {
            return true;
        }
        catch (Exception e)
        {
            _log.LogError("Could not remove slot {Id}: {Error}", DockerHost.Short(id), e.Message);
            return false;
        }
    }
}

/// <summary>A new slot's supervisor did not say it was ready (it exited, hung or failed to build a run sandbox).</summary>
public sealed class SlotNotReadyException(string message) : Exception(message);
