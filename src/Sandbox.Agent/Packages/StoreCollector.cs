using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Runs;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// Keeps the stores within Agent:Packages:MaxTotalStoreSizeMb: after a new store is committed (and at start), the
/// least recently used stores are removed until the total fits. Never removed: a store a run in progress holds a
/// lease on, and the store just committed (a store being installed is still in .staging, out of its sight). Last use
/// is recorded by runs, cached install lookups and commits (<see cref="PackageStore.Touch"/>). A removed set is
/// simply installed again on its next use: its request-cache entries go with it.
/// </summary>
public sealed class StoreCollector(IOptions<AgentOptions> options, PackageStore store, ILogger<StoreCollector> log)
{
    private readonly Dictionary<string, int> _leases = new(StringComparer.Ordinal);
    // Sizes of stores seen before (a store never changes once committed), so a pass does not walk every store again.
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);

    /// <summary>Stores on disk and their bytes, as of the last pass or commit.</summary>
    public (int Count, long Bytes) Totals
    {
        get
        {
            lock (store.Gate)
                return (_sizes.Count, _sizes.Values.Sum());
        }
    }

    /// <summary>Holds the run's stores until disposed (the collector skips them) and records their use; a store that
    /// is gone is refused as FAILED_PRECONDITION (the server installs the set again).</summary>
    public IDisposable Lease(IReadOnlyCollection<string> storeIds)
    {
        if (storeIds.Count == 0)
            return new StoreLease(this, []);
        lock (store.Gate)
        {
            foreach (var id in storeIds)
            {
                if (!store.Exists(id))
                    throw new RunRejectedException(RunRejection.FailedPrecondition,
                        $"package store {id} does not exist on this agent; install the set with InstallPackages first");
            }
            foreach (var id in storeIds)
            {
                _leases[id] = _leases.GetValueOrDefault(id) + 1;
                store.Touch(id);
            }
        }
        return new StoreLease(this, storeIds.ToList());
    }

    /// <summary>A store was committed (<paramref name="size"/> bytes): record it and make room by removing the least
    /// recently used others.</summary>
    public void Committed(string storeId, long size)
    {
        lock (store.Gate)
            _sizes[storeId] = size;
        Collect(keep: storeId);
    }

    /// <summary>Removes least recently used stores (never <paramref name="keep"/> or a leased one) until the total fits.
    /// A failure is logged, never thrown: the install that triggered the pass has succeeded.</summary>
    public void Collect(string? keep)
    {
        try
        {
            CollectCore(keep);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Package store collection failed: {Error}", e.Message);
        }
    }

    private void CollectCore(string? keep)
    {
        var budget = (long)options.Value.Packages.MaxTotalStoreSizeMb * 1024 * 1024;
        var retired = new List<(string Id, string Path)>();
        lock (store.Gate)
        {
            var ids = store.StoreIds();
            foreach (var gone in _sizes.Keys.Except(ids).ToList())
                _sizes.Remove(gone);
            foreach (var id in ids.Where(id => !_sizes.ContainsKey(id)))
                _sizes[id] = store.SizeOf(id);
            var total = _sizes.Values.Sum();
            if (budget <= 0 || total <= budget)
                return;
            foreach (var id in ids.OrderBy(store.LastUse).ThenBy(id => id, StringComparer.Ordinal))
            {
                if (total <= budget)
                    break;
                if (id == keep || _leases.ContainsKey(id))
                    continue;
                retired.Add((id, store.Retire(id)));
                total -= _sizes[id];
                _sizes.Remove(id);
            }
            if (total > budget)
                log.LogWarning("Package stores take {Mb} MiB, over Agent:Packages:MaxTotalStoreSizeMb ({Budget} MiB), but the rest is in use",
                    total >> 20, budget >> 20);
        }
        foreach (var (id, path) in retired)
        {
            log.LogInformation("Removed least recently used package store {Store} (Agent:Packages:MaxTotalStoreSizeMb)", id);
            store.DeleteQuietly(path);
        }
    }

    private void Release(IReadOnlyList<string> storeIds)
    {
        lock (store.Gate)
        {
            foreach (var id in storeIds)
            {
                if (--_leases[id] == 0)
                    _leases.Remove(id);
            }
        }
    }

    private sealed class StoreLease(StoreCollector owner, IReadOnlyList<string> storeIds) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && storeIds.Count > 0)
                owner.Release(storeIds);
        }
    }
}
