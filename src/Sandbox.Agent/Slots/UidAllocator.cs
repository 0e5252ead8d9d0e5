using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// Hands out slot uids; uid index n runs as uid/gid UidBase+n. A distinct uid per live slot matters:
/// RLIMIT_NPROC and inotify limits are per uid across the whole host, so with one shared uid one tenant's
/// processes can stop another tenant's container from starting. A uid is free again only once its
/// container is removed.
/// </summary>
public sealed class UidAllocator
{
    private readonly SemaphoreSlim _free;
    private readonly Stack<int> _slots;
    private readonly int _uidBase;

    public UidAllocator(IOptions<AgentOptions> options)
    {
        var max = Math.Max(1, options.Value.Pool.MaxSandboxes);
        _uidBase = options.Value.Pool.UidBase;
        _free = new SemaphoreSlim(max, max);
        _slots = new Stack<int>(Enumerable.Range(0, max).Reverse());
    }

    public int Available => _free.CurrentCount;

    /// <summary>Waits up to <paramref name="timeout"/> for a slot; null when none became free.</summary>
    public async Task<int?> AcquireAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!await _free.WaitAsync(timeout, ct))
            return null;
        lock (_slots)
            return _slots.Pop();
    }

    public int? TryAcquire()
    {
        if (!_free.Wait(0))
            return null;
        lock (_slots)
            return _slots.Pop();
    }

    public void Release(int slot)
    {
        lock (_slots)
            _slots.Push(slot);
        _free.Release();
    }

    public int UidOf(int slot) => _uidBase + slot;
}
