using System.Collections.Concurrent;
using System.Threading.Channels;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Pool;

/// <summary>
/// Keeps started sandboxes ready per language, each with its runner already waiting for a job, so a run
/// skips container creation. A sandbox is handed out once and never comes back: the pool refills in the
/// background. A run that finds the pool empty while warm sandboxes are on their way waits for one of them: it
/// started earlier than a new one could. On start the pool first removes orphans of earlier agent processes.
/// </summary>
public sealed class WarmPool(
    IOptions<AgentOptions> options,
    DockerHost docker,
    SandboxFactory factory,
    SlotAllocator slots,
    ILogger<WarmPool> log) : BackgroundService
{
    private readonly Dictionary<string, Channel<SandboxContainer>> _ready =
        LanguageRuntime.All.ToDictionary(l => l.Name, _ => Channel.CreateUnbounded<SandboxContainer>());
    private readonly ConcurrentDictionary<string, int> _creating = new(LanguageRuntime.All.ToDictionary(l => l.Name, _ => 0));
    private readonly ConcurrentDictionary<string, int> _waiting = new(LanguageRuntime.All.ToDictionary(l => l.Name, _ => 0));
    private readonly SemaphoreSlim _wake = new(0);
    private int _failures;

    private TimeSpan HealthCheckInterval => TimeSpan.FromMilliseconds(Math.Max(100, options.Value.Pool.HealthCheckIntervalMs));
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once orphans are removed (runs wait for it so cleanup cannot race them).</summary>
    public Task Initialized => _initialized.Task;

    public int TargetFor(LanguageRuntime language) => language == LanguageRuntime.Python
        ? Math.Max(0, options.Value.Pool.Python)
        : Math.Max(0, options.Value.Pool.JavaScript);

    public int ReadyCount(LanguageRuntime language) => _ready[language.Name].Reader.Count;

    /// <summary>Warm sandboxes being created whose runner has not said it is ready yet.</summary>
    public int StartingCount(LanguageRuntime language) => Math.Max(0, _creating[language.Name]);

    /// <summary>Takes a warm sandbox. When none is ready but the pool has one on its way that no other run is
    /// waiting for (being created, or about to be as a refill), waits up to <paramref name="maxWait"/> for it. Null
    /// when there is none to wait for or the wait ran out: the caller then creates one on demand.</summary>
    public async Task<SandboxContainer?> TakeAsync(LanguageRuntime language, TimeSpan maxWait, CancellationToken ct)
    {
        var ready = _ready[language.Name].Reader;
        try
        {
            if (ready.TryRead(out var sandbox))
                return sandbox;
            var waiting = _waiting.AddOrUpdate(language.Name, 1, (_, n) => n + 1);
            try
            {
                var onTheirWay = Math.Max(StartingCount(language), TargetFor(language) - ReadyCount(language));
                if (waiting > onTheirWay || maxWait <= TimeSpan.Zero)
                    return null;
                _wake.Release(); // the refill this run counts on
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(maxWait);
                return await ready.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return null;
            }
            finally
            {
                _waiting.AddOrUpdate(language.Name, 0, (_, n) => n - 1);
            }
        }
        finally
        {
            _wake.Release(); // refill what was taken
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        try
        {
            var removed = await docker.RemoveContainersAsync(onlyOtherSessions: true, stop);
            if (removed > 0)
                log.LogInformation("Removed {Count} orphaned sandbox(es) of agent {Agent}", removed, docker.InstanceId);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.LogError("Orphan cleanup failed: {Error}", e.Message);
        }
        finally
        {
            _initialized.TrySetResult();
        }

        var refill = new SemaphoreSlim(Math.Max(1, options.Value.Pool.RefillConcurrency));
        var nextSweep = DateTime.UtcNow + HealthCheckInterval;
        while (!stop.IsCancellationRequested)
        {
            var started = 0;
            foreach (var language in LanguageRuntime.All)
            {
                while (ReadyCount(language) + _creating[language.Name] < TargetFor(language) && refill.Wait(0))
                {
                    var slot = slots.TryAcquire();
                    if (slot is null)
                    {
                        refill.Release();
                        break;
                    }
                    _creating.AddOrUpdate(language.Name, 1, (_, n) => n + 1);
                    started++;
                    _ = FillOneAsync(language, slot.Value, refill, stop).ContinueWith(t =>
                    {
                        if (t.Result)
                            Interlocked.Exchange(ref _failures, 0);
                        else
                            Interlocked.Increment(ref _failures);
                        _wake.Release();
                    }, TaskScheduler.Default);
                }
            }

            if (DateTime.UtcNow >= nextSweep)
            {
                nextSweep = DateTime.UtcNow + HealthCheckInterval;
                await DropDeadAsync(stop);
            }

            try
            {
                var failures = Volatile.Read(ref _failures);
                if (failures > 0)
                {
                    // Docker or the image is broken: back off instead of hammering the engine.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * (1 << Math.Min(failures, 7)))), stop);
                }
                // Wake on take, on a finished creation, or periodically (a slot freed by a removal).
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Drops warm sandboxes whose container is no longer running (e.g. dockerd restarted, or the
    /// runner died), so a run never gets a dead one.</summary>
    private async Task DropDeadAsync(CancellationToken stop)
    {
        HashSet<string> running;
        try
        {
            var list = await docker.Client.Containers.ListContainersAsync(new ContainersListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{DockerHost.SessionLabel}={docker.SessionId}"] = true },
                    ["status"] = new Dictionary<string, bool> { ["running"] = true },
                },
            }, stop);
            running = list.Select(c => c.ID).ToHashSet();
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.LogWarning("Could not check warm sandboxes: {Error}", e.Message);
            return;
        }
        foreach (var channel in _ready.Values)
        {
            var count = channel.Reader.Count;
            for (var i = 0; i < count && channel.Reader.TryRead(out var sandbox); i++)
            {
                if (running.Contains(sandbox.Id))
                {
                    channel.Writer.TryWrite(sandbox);
                    continue;
                }
                log.LogWarning("Warm sandbox {Id} is no longer running; replacing it", sandbox.ShortId);
                factory.DestroyInBackground(sandbox);
            }
        }
    }

    private async Task<bool> FillOneAsync(LanguageRuntime language, int slot, SemaphoreSlim refill, CancellationToken stop)
    {
        try
        {
            var sandbox = await factory.CreateAsync(language, slot, options.Value.Limits.MemoryMb, warm: true, stop);
            if (stop.IsCancellationRequested)
            {
                await factory.DestroyAsync(sandbox);
                return true;
            }
            _ready[language.Name].Writer.TryWrite(sandbox);
            log.LogDebug("Warm {Language} sandbox {Id} ready (uid {Uid})", language.Name, sandbox.ShortId, slots.UidOf(slot));
            return true;
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.LogError("Could not create a warm {Language} sandbox: {Error}", language.Name, e.Message);
            return false;
        }
        catch
        {
            return true;
        }
        finally
        {
            _creating.AddOrUpdate(language.Name, 0, (_, n) => n - 1);
            refill.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var channel in _ready.Values)
            while (channel.Reader.TryRead(out var sandbox))
                await factory.DestroyAsync(sandbox);
    }
}
