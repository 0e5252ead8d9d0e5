using System.Threading.Channels;
using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Server.Hosting;

namespace PythOn.Server.Packages;

/// <summary>
/// Installs users' package lists in the background. A change to a list (set, add, remove) marks the list pending
/// and queues (user, language); at most one install per user and language runs at a time, and the latest list
/// wins: an install started before a change never marks the changed list, and the change queues a new install
/// that reads the list as it is then. Status per package: pending → installing → ready | failed (with the
/// installer's message). When no agent is reachable the packages stay pending and the install is retried.
/// A restarted server resumes lists left pending or installing. Replicas sharing a database take the list's install lock
/// (<see cref="IInstallLocks"/>) around each install, so a list is installed once, not once per replica; they also sweep
/// for unfinished lists every RetrySeconds, which picks up a list whose installing replica died.
/// </summary>
public sealed class PackageInstallQueue(PackageList list, AgentInstalls installs, IInstallLocks locks, IOptions<PythOnOptions> options,
    ILogger<PackageInstallQueue> logger) : BackgroundService
{
    /// <summary>How soon a list locked by another replica is tried again (that replica may be installing an older list).</summary>
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(2);

    private readonly Channel<(ObjectId UserId, string Language)> _queue = Channel.CreateUnbounded<(ObjectId, string)>();
    private readonly Dictionary<string, Entry> _entries = [];

    private sealed class Entry
    {
        public bool Queued;
        public bool Running;
        public bool Rerun;
        public long Generation;
    }

    /// <summary>The list of (user, language) changed: mark it pending and install it in the background.</summary>
    public void ListChanged(ObjectId userId, string language)
    {
        list.MarkPending(userId, language);
        Enqueue(userId, language, changed: true);
    }

    /// <summary>
    /// Queues an install of the list. Only a change makes an install already running stale (its outcome is then not
    /// recorded); resuming an unfinished list (start, sweep, retry) must not, or a sweep would discard the install it found.
    /// </summary>
    private void Enqueue(ObjectId userId, string language, bool changed = false)
    {
        var key = Key(userId, language);
        lock (_entries)
        {
            var entry = _entries.TryGetValue(key, out var e) ? e : _entries[key] = new Entry();
            if (changed) entry.Generation++;
            if (entry.Running) entry.Rerun |= changed;
            else if (!entry.Queued)
            {
                entry.Queued = true;
                _queue.Writer.TryWrite((userId, language));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var (userId, language) in list.Unfinished()) Enqueue(userId, language);
        var workers = Enumerable.Range(0, Math.Max(1, options.Value.Packages.InstallWorkers)).Select(_ => WorkAsync(stoppingToken));
        if (locks.Shared) workers = workers.Append(SweepAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    /// <summary>Shared database only: lists left pending or installing by a replica that died are installed here.</summary>
    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.Packages.RetrySeconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    foreach (var (userId, language) in list.Unfinished()) Enqueue(userId, language);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Looking for unfinished package lists failed; trying again in {Seconds} s", options.Value.Packages.RetrySeconds);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (userId, language) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var key = Key(userId, language);
                long generation;
                lock (_entries)
                {
                    var entry = _entries[key];
                    entry.Queued = false;
                    entry.Running = true;
                    generation = entry.Generation;
                }
                TimeSpan? retry = null;
                try
                {
                    retry = await InstallAsync(userId, language, () => IsCurrent(key, generation), stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(e, "Installing the {Language} packages of user {User} failed unexpectedly", language, userId);
                    retry = RetryDelay;
                }
                lock (_entries)
                {
                    var entry = _entries[key];
                    entry.Running = false;
                    if (entry.Rerun)
                    {
                        entry.Rerun = false;
                        entry.Queued = true;
                        _queue.Writer.TryWrite((userId, language));
                    }
                    else if (retry is null)
                    {
                        _entries.Remove(key);
                    }
                }
                if (retry is { } delay) _ = RetryLaterAsync(userId, language, delay, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private TimeSpan RetryDelay => TimeSpan.FromSeconds(Math.Max(1, options.Value.Packages.RetrySeconds));

    private async Task RetryLaterAsync(ObjectId userId, string language, TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken);
            Enqueue(userId, language);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private bool IsCurrent(string key, long generation)
    {
        lock (_entries) return _entries.TryGetValue(key, out var e) && e.Generation == generation;
    }

    /// <summary>
    /// Installs the list as it is now; returns when to try again (no agent answered, or another replica holds the list),
    /// or null when done.
    /// </summary>
    private async Task<TimeSpan?> InstallAsync(ObjectId userId, string language, Func<bool> isCurrent, CancellationToken stoppingToken)
    {
        using var installLock = locks.TryLock(userId, language);
        if (installLock is null) return BusyRetry;
        var rows = list.List(userId, language);
        // Nothing left to do when another replica installed this list meanwhile.
        if (!rows.Any(r => r.Status is PackageStates.Pending or PackageStates.Installing)) return null;
        var installed = rows.ToDictionary(r => r.Name, r => r.Requirement);
        void Mark(Func<Storage.PackageRecord, (string, string)> outcome)
        {
            if (isCurrent()) list.SetStatus(userId, language, installed, outcome);
        }

        Mark(_ => (PackageStates.Installing, ""));
        var requirements = rows.Select(r => r.Requirement).ToList();
        var outcome = await installs.InstallOnAnyAsync(language, requirements,
            TimeSpan.FromSeconds(options.Value.Packages.InstallWaitSeconds), stoppingToken);
        switch (outcome)
        {
            case InstallOutcome.Ready ready:
                logger.LogInformation("Installed {Count} {Language} package(s) of user {User} ({Resolved} resolved, store {Store})",
                    rows.Count, language, userId, ready.Resolved.Count, ready.StoreId);
                Mark(_ => (PackageStates.Ready, ""));
                return null;
            case InstallOutcome.Failed failed:
                logger.LogInformation("The {Language} packages of user {User} failed to install: {Message}", language, userId, failed.Message);
                Mark(row => (PackageStates.Failed, Mentions(failed.Message, row)
                    ? failed.Message
                    : $"not installed: the install of your {language} list failed because of another package: {failed.Message}"));
                return null;
            case InstallOutcome.StillInstalling:
                Mark(row => (PackageStates.Failed,
                    $"the install did not finish within {options.Value.Packages.InstallWaitSeconds} s (PythOn:Packages:InstallWaitSeconds)"));
                return null;
            default:
                logger.LogWarning("No sandbox agent answered to install the {Language} packages of user {User}; retrying in {Seconds} s",
                    language, userId, options.Value.Packages.RetrySeconds);
                Mark(_ => (PackageStates.Pending, ""));
                return RetryDelay;
        }
    }

    private static bool Mentions(string message, Storage.PackageRecord row) =>
        message.Contains(row.Requirement, StringComparison.OrdinalIgnoreCase) || message.Contains(row.Name, StringComparison.OrdinalIgnoreCase)
        || message.Contains(row.Name.Replace('-', '_'), StringComparison.OrdinalIgnoreCase);

    private static string Key(ObjectId userId, string language) => $"{userId}/{language}";
}
