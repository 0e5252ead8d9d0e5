using System.Collections.Concurrent;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Docker;

/// <summary>Creates hardened sandboxes (create → attach → start → runner ready) and destroys them; tracks every
/// live one so shutdown can remove them all.</summary>
public sealed class SandboxFactory(
    DockerHost docker, SandboxSpec spec, SlotAllocator slots, IOptions<AgentOptions> options, ILogger<SandboxFactory> log)
{
    /// <summary>The runner's first stdout bytes once it is booted and blocked on its job (runtime/README.md).</summary>
    public static readonly byte[] ReadyToken = "\0pyth-on-ready\n"u8.ToArray();

    private readonly ConcurrentDictionary<string, SandboxContainer> _live = new();
    private readonly ConcurrentDictionary<Task, byte> _removals = new();

    public int LiveCount => _live.Count;

    /// <summary>Used sandboxes being killed and removed in the background.</summary>
    public int RemovingCount => _removals.Count;

    /// <summary>Creates and starts a sandbox in a slot the caller already holds; on failure the slot is released.</summary>
    public async Task<SandboxContainer> CreateAsync(LanguageRuntime language, int slot, int memoryMb, bool warm, CancellationToken ct)
    {
        string? id = null;
        try
        {
            var created = await docker.Client.Containers.CreateContainerAsync(spec.Build(language, slots.UidOf(slot), memoryMb), ct);
            id = created.ID;
            // Attach before start so no output can be missed and stdin is connected when the runner reads it.
            var stream = await docker.Client.Containers.AttachContainerAsync(id, tty: false, new ContainerAttachParameters
            {
                Stream = true, Stdin = true, Stdout = true, Stderr = true,
            }, ct);
            var sandbox = new SandboxContainer(id, language, slot, memoryMb, stream, warm);
            _live[id] = sandbox;
            await docker.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct);
            await WaitForRunnerAsync(sandbox, ct);
            return sandbox;
        }
        catch
        {
            if (id is not null)
            {
                if (_live.TryRemove(id, out var s))
                    s.Stream.Dispose();
                await RemoveQuietlyAsync(id);
            }
            slots.Release(slot);
            throw;
        }
    }

    /// <summary>Reads the runner's ready token off the stream, so a sandbox counts as ready only once its interpreter
    /// is loaded (node takes ~100 ms after the container started) and nothing of it is left in the program's output.</summary>
    private async Task WaitForRunnerAsync(SandboxContainer sandbox, CancellationToken ct)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Max(1000, options.Value.Pool.RunnerReadyTimeoutMs));
        var deadline = DateTime.UtcNow + timeout;
        var stdout = new byte[ReadyToken.Length];
        var filled = 0;
        var stderr = new MemoryStream();
        var buffer = new byte[1024];
        while (filled < ReadyToken.Length)
        {
            // Never read past the token: the stream is the run's from then on. A hijacked stream ignores
            // cancellation, so a runner that hangs is dealt with by closing the stream.
            var read = sandbox.Stream.ReadOutputAsync(buffer, 0, ReadyToken.Length - filled, CancellationToken.None);
            MultiplexedStream.ReadResult result;
            try
            {
                result = await read.WaitAsync(TimeSpan.FromTicks(Math.Max(0, (deadline - DateTime.UtcNow).Ticks)), ct);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                sandbox.Stream.Dispose();
                if (e is OperationCanceledException)
                    throw;
                throw new RunnerNotReadyException($"the {sandbox.Language.Name} runner did not get ready within {timeout.TotalSeconds:0} s");
            }
            if (result.EOF)
                throw new RunnerNotReadyException($"the {sandbox.Language.Name} runner exited before it was ready: {Describe(stderr)}");
            if (result.Target == MultiplexedStream.TargetStream.StandardOut)
            {
                buffer.AsSpan(0, result.Count).CopyTo(stdout.AsSpan(filled));
                filled += result.Count;
                if (!stdout.AsSpan(0, filled).SequenceEqual(ReadyToken.AsSpan(0, filled)))
                    throw new RunnerNotReadyException($"the {sandbox.Language.Name} runner wrote something other than its ready token");
            }
            else if (stderr.Length < 4096)
            {
                stderr.Write(buffer, 0, result.Count);
            }
        }

        static string Describe(MemoryStream stderr) => stderr.Length == 0
            ? "no message"
            : Encoding.UTF8.GetString(stderr.GetBuffer(), 0, (int)stderr.Length).Trim();
    }

    /// <summary>Kills the sandbox with SIGKILL through the API (killing a client process does not stop a container).</summary>
    public async Task KillAsync(SandboxContainer sandbox)
    {
        try
        {
            await docker.Client.Containers.KillContainerAsync(sandbox.Id, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None);
        }
        catch (DockerApiException e)
        {
            // 409: already stopped; 404: already gone. Both fine.
            log.LogDebug("Kill {Id}: {Error}", sandbox.ShortId, e.Message);
        }
    }

    /// <summary>Removes the sandbox off the caller's path; the slot is freed once the container is gone.</summary>
    public void DestroyInBackground(SandboxContainer sandbox)
    {
        var task = Task.Run(() => DestroyAsync(sandbox));
        _removals[task] = 0;
        task.ContinueWith(t => _removals.TryRemove(t, out _), TaskScheduler.Default);
    }

    public async Task DestroyAsync(SandboxContainer sandbox)
    {
        if (!_live.TryRemove(sandbox.Id, out _))
            return; // already destroyed
        try
        {
            sandbox.Stream.Dispose();
        }
        catch (Exception e)
        {
            log.LogDebug(e, "Closing the stream of {Id}", sandbox.ShortId);
        }
        // A container that could not be removed keeps its uid: reusing it would share per-uid limits.
        if (await RemoveQuietlyAsync(sandbox.Id))
            slots.Release(sandbox.Slot);
    }

    /// <summary>Shutdown: removes every sandbox this process knows about and waits for pending removals.</summary>
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
            log.LogError("Could not remove sandbox {Id}: {Error}", DockerHost.Short(id), e.Message);
            return false;
        }
    }
}

/// <summary>A new sandbox's runner did not say it was ready (it exited, hung or wrote something else).</summary>
public sealed class RunnerNotReadyException(string message) : Exception(message);
