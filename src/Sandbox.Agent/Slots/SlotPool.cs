using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// Keeps <c>Pool:Python</c> and <c>Pool:JavaScript</c> slots alive. A run takes an idle slot (its run sandbox
/// already waiting), and gives it back afterwards: back to idle once its supervisor has the next run sandbox
/// ready, or recycled (removed and replaced in the background) after <c>Pool:RunsPerSlot</c> runs, at
/// <c>Pool:SlotMaxAgeSeconds</c>, or at once after an anomaly. On start it first removes orphans of earlier
/// agent processes.
/// </summary>
public sealed class SlotPool(
    IOptions<AgentOptions> options,
    DockerHost docker,
    SlotFactory factory,
    UidAllocator uids,
    ILogger<SlotPool> log) : BackgroundService
{
    private readonly Dictionary<string, Channel<Slot>> _idle =
        LanguageRuntime.All.ToDictionary(l => l.Name, _ => Channel.CreateUnbounded<Slot>());
    private readonly ConcurrentDictionary<string, Slot> _slots = new();
    private readonly ConcurrentDictionary<string, int> _starting = new(LanguageRuntime.All.ToDictionary(l => l.Name, _ => 0));
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, string> _lastStartError = new();
    private long _runsServed;
    private int _failures;

    /// <summary>Completes once orphans are removed (runs wait for it so cleanup cannot race them).</summary>
    public Task Initialized => _initialized.Task;

    public long RunsServed => Interlocked.Read(ref _runsServed);

    public int TargetFor(LanguageRuntime language) => language == LanguageRuntime.Python
        ? Math.Max(0, options.Value.Pool.Python)
        : Math.Max(0, options.Value.Pool.JavaScript);

    public int IdleCount(LanguageRuntime language) =>
        _slots.Values.Count(s => s.Language == language && s.State == SlotState.Idle && !s.IsDead);

    public int StartingCount(LanguageRuntime language) => Math.Max(0, _starting[language.Name]);

    /// <summary>Why the last slot of the language failed to start, while none of its slots is alive.</summary>
    public string? StartFailure(LanguageRuntime language) =>
        LiveCount(language) == 0 && _lastStartError.TryGetValue(language.Name, out var e) ? e : null;

    /// <summary>Every slot this pool holds (starting ones once their container exists, busy, idle, recycling).</summary>
    public IReadOnlyCollection<Slot> Slots => _slots.Values.ToList();

    /// <summary>Takes an idle slot of the language, waiting up to <paramref name="maxWait"/> for one; null when
    /// none became idle.</summary>
    public async Task<Slot?> TakeAsync(LanguageRuntime language, TimeSpan maxWait, CancellationToken ct)
    {
        if (TargetFor(language) == 0)
            return null;
        // No slot alive and none on its way after a failed start (Docker or the image is broken): fail at once
        // with the reason instead of holding the caller for the whole wait.
        if (IdleCount(language) == 0 && StartingCount(language) == 0 && StartFailure(language) is not null)
            return null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(maxWait);
        try
        {
            while (true)
            {
                var slot = await _idle[language.Name].Reader.ReadAsync(timeout.Token);
                if (slot.IsDead)
                {
                    Recycle(slot, "it died while idle");
                    continue;
                }
                if (DateTimeOffset.UtcNow - slot.CreatedAt > TimeSpan.FromSeconds(Math.Max(1, options.Value.Pool.SlotMaxAgeSeconds)))
                {
                    Recycle(slot, "its age");
                    continue;
                }
                slot.State = SlotState.Busy;
                return slot;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Gives a slot back after a run. <paramref name="anomaly"/> (a reason) recycles it at once.</summary>
    public void Return(Slot slot, string? anomaly)
    {
        Interlocked.Increment(ref _runsServed);
        var pool = options.Value.Pool;
        var reason = anomaly;
        if (reason is null && slot.RunsServed >= Math.Max(1, pool.RunsPerSlot))
            reason = $"it served {slot.RunsServed} run(s)";
        if (reason is null && DateTimeOffset.UtcNow - slot.CreatedAt > TimeSpan.FromSeconds(Math.Max(1, pool.SlotMaxAgeSeconds)))
            reason = "its age";
        if (reason is not null || slot.IsDead)
        {
            Recycle(slot, reason ?? "it died");
            return;
        }
        _ = ReturnWhenReadyAsync(slot);
    }

    /// <summary>Back to idle once the slot's next run sandbox is ready, with the default memory limit again if the run
    /// had its own. The limit waits for that readiness too: the supervisor reports a run's end as soon as its program
    /// is reaped, and the run's other processes die with its init a moment later, before the zygote creates the next
    /// sandbox; a looser limit set earlier would apply to them.</summary>
    private async Task ReturnWhenReadyAsync(Slot slot)
    {
        try
        {
            await slot.WhenReady.WaitAsync(options.Value.Pool.SlotReadyTimeout);
        }
        catch (Exception e)
        {
            Recycle(slot, $"its next run sandbox did not get ready ({e.Message})");
            return;
        }
        var memoryMb = options.Value.Limits.MemoryMb;
        if (slot.MemoryMb != memoryMb && !await factory.SetMemoryAsync(slot, memoryMb))
        {
            Recycle(slot, "its memory limit could not be restored");
            return;
        }
        slot.State = SlotState.Idle;
        _idle[slot.Language.Name].Writer.TryWrite(slot);
    }

    private void Recycle(Slot slot, string reason)
    {
        if (!_slots.TryRemove(slot.Id, out _))
            return;
        log.LogDebug("Recycling {Language} slot {Id}: {Reason}", slot.Language.Name, slot.ShortId, reason);
        factory.DestroyInBackground(slot);
        _recycling[slot.Id] = slot;
        _ = WatchRemovalAsync(slot);
        _wake.Release();
    }

    private readonly ConcurrentDictionary<string, Slot> _recycling = new();

    /// <summary>Slots being removed (each holds its uid until it is gone).</summary>
    public IReadOnlyCollection<Slot> RecyclingSlots => _recycling.Values.ToList();

    private async Task WatchRemovalAsync(Slot slot)
    {
        try
        {
            await slot.Reading.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
        }
        _recycling.TryRemove(slot.Id, out _);
        _wake.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        try
        {
            var removed = await docker.RemoveContainersAsync(onlyOtherSessions: true, stop);
            if (removed > 0)
                log.LogInformation("Removed {Count} orphaned container(s) of agent {Agent}", removed, docker.InstanceId);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.LogError("Orphan cleanup failed: {Error}", e.Message);
        }
        finally
        {
            _initialized.TrySetResult();
        }

        var concurrency = new SemaphoreSlim(Math.Max(1, options.Value.Pool.RefillConcurrency));
        while (!stop.IsCancellationRequested)
        {
            foreach (var language in LanguageRuntime.All)
            {
                while (LiveCount(language) + _starting[language.Name] < TargetFor(language) && concurrency.Wait(0))
                {
                    var uid = uids.TryAcquire();
                    if (uid is null)
                    {
                        concurrency.Release();
                        break;
                    }
                    _starting.AddOrUpdate(language.Name, 1, (_, n) => n + 1);
                    var start = StartOneAsync(language, uid.Value, concurrency, stop);
                    _startsInFlight[start] = 0;
                    _ = start.ContinueWith(t => _startsInFlight.TryRemove(t, out _), TaskScheduler.Default);
                }
            }
            try
            {
                var failures = Volatile.Read(ref _failures);
                if (failures > 0)
                {
                    // Docker or the image is broken: back off instead of hammering the engine.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * (1 << Math.Min(failures, 7)))), stop);
                }
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private int LiveCount(LanguageRuntime language) => _slots.Values.Count(s => s.Language == language);

    private async Task StartOneAsync(LanguageRuntime language, int uid, SemaphoreSlim concurrency, CancellationToken stop)
    {
        try
        {
            var slot = await factory.CreateAsync(language, uid, stop);
            if (stop.IsCancellationRequested)
            {
                await factory.DestroyAsync(slot);
                return;
            }
            _slots[slot.Id] = slot;
            _idle[language.Name].Writer.TryWrite(slot);
            // A slot that dies while idle (killed, dockerd restarted) is replaced at once, not when a run finds it.
            _ = slot.Reading.ContinueWith(_ =>
            {
                if (slot.State == SlotState.Idle)
                    Recycle(slot, "it died while idle");
            }, TaskScheduler.Default);
            _lastStartError.TryRemove(language.Name, out _);
            Interlocked.Exchange(ref _failures, 0);
            log.LogDebug("{Language} slot {Id} ready (uid {Uid})", language.Name, slot.ShortId, uids.UidOf(uid));
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failures);
            _lastStartError[language.Name] = e.Message;
            log.LogError("Could not start a {Language} slot: {Error}", language.Name, e.Message);
        }
        catch
        {
            // shutting down
        }
        finally
        {
            _starting.AddOrUpdate(language.Name, 0, (_, n) => n - 1);
            concurrency.Release();
            _wake.Release();
        }
    }

    /// <summary>Slot starts under way: shutdown waits for them (each removes what it created when cancelled), so no
    /// container is created after the final sweep.</summary>
    private readonly ConcurrentDictionary<Task, byte> _startsInFlight = new();

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_startsInFlight.Keys.ToList()).WaitAsync(cancellationToken);
        foreach (var slot in _slots.Values)
            await factory.DestroyAsync(slot);
    }
}
