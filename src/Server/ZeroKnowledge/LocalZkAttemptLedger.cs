namespace PythOn.Server.ZeroKnowledge;

/// <summary>
/// The attempt ledger of a single server (LiteDB): counts in memory. A budget's window starts at its first failure and
/// lasts <see cref="ZkFailureLimiter.Window"/>; a restart forgets it (documented: one server, one process).
/// </summary>
public sealed class LocalZkAttemptLedger(TimeProvider? timeProvider = null) : IZkAttemptLedger
{
    private const int PruneThreshold = 10_000;
    private readonly Dictionary<string, Budget> _budgets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public ZkReservation Reserve(IReadOnlyList<ZkBudget> budgets)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_budgets.Count > PruneThreshold) Prune(now);
            var states = budgets.Select(b => Get(b.Key, now)).ToArray();
            for (var i = 0; i < budgets.Count; i++)
            {
                if (states[i].Failures >= budgets[i].Limit)
                    return new ZkReservation.Refused(budgets[i], InProgress: false, states[i].WindowStart + ZkFailureLimiter.Window - now);
                if (states[i].Failures + states[i].InFlight >= budgets[i].Limit)
                    return new ZkReservation.Refused(budgets[i], InProgress: true, TimeSpan.Zero);
            }
            foreach (var state in states) state.InFlight++;
            return new ZkReservation.Granted(states);
        }
    }

    public void Finish(ZkReservation.Granted reservation, bool failed)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var budget in (Budget[])reservation.Token)
            {
                budget.InFlight--;
                if (!failed) continue;
                if (budget.Failures == 0 || now - budget.WindowStart >= ZkFailureLimiter.Window)
                {
                    budget.WindowStart = now;
                    budget.Failures = 0;
                }
                budget.Failures++;
            }
        }
    }

    private Budget Get(string key, DateTimeOffset now)
    {
        if (!_budgets.TryGetValue(key, out var budget)) _budgets[key] = budget = new Budget();
        if (budget.Failures > 0 && now - budget.WindowStart >= ZkFailureLimiter.Window) budget.Failures = 0;
        return budget;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, budget) in _budgets.ToList())
            if (budget.InFlight == 0 && (budget.Failures == 0 || now - budget.WindowStart >= ZkFailureLimiter.Window)) _budgets.Remove(key);
    }

    private sealed class Budget
    {
        public DateTimeOffset WindowStart;
        public int Failures;
        public int InFlight;
    }
}
