using LiteDB;
using PythOn.Server.Errors;

namespace PythOn.Server.ZeroKnowledge;

/// <summary>
/// Bounds password guessing against stored programs: failed decryptions per stored program and per user in a
/// 15-minute window. Once a budget is spent, runs are refused with RESOURCE_EXHAUSTED until the window ends.
/// An attempt reserves its place in the budget before it runs, so concurrent attempts cannot together spend more
/// than the budget (each is only known to have failed after its sandbox run).
/// </summary>
public sealed class ZkFailureLimiter(TimeProvider? timeProvider = null)
{
    public const int FailuresPerProgram = 5;
    public const int FailuresPerUser = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private const int PruneThreshold = 10_000;

    private readonly Dictionary<string, Budget> _budgets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private readonly TimeProvider time = timeProvider ?? TimeProvider.System;
    /// <summary>
    /// Reserves one attempt against both budgets, or throws RESOURCE_EXHAUSTED when failures plus attempts still in
    /// progress already reach either limit. Report the outcome on the returned attempt; disposing it without
    /// <see cref="Attempt.Failed"/> releases the reservation (success, or no decryption took place).
    /// </summary>
    public Attempt Begin(ObjectId userId, string name)
    {
        var keys = Keys(userId, name);
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_budgets.Count > PruneThreshold) Prune(now);
            var budgets = keys.Select(k => Get(k.Key, now)).ToArray();
            for (var i = 0; i < keys.Length; i++)
            {
                var (budget, limit, what) = (budgets[i], keys[i].Limit, keys[i].What);
                if (budget.Failures >= limit)
                {
                    var wait = budget.WindowStart + Window - now;
                    throw Problems.TooMany($"too many failed decryption attempts {what}: retry after {Math.Max(1, Math.Ceiling(wait.TotalMinutes))} min.");
                }
                if (budget.Failures + budget.InFlight >= limit)
                    throw Problems.TooMany($"too many decryption attempts {what} at once: wait for the running ones to finish.");
            }
            foreach (var budget in budgets) budget.InFlight++;
            return new Attempt(this, budgets);
        }
    }

    private void Complete(Budget[] budgets, bool failed)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var budget in budgets)
            {
                budget.InFlight--;
                if (!failed) continue;
                if (budget.Failures == 0 || now - budget.WindowStart >= Window)
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
        if (budget.Failures > 0 && now - budget.WindowStart >= Window) budget.Failures = 0;
        return budget;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, budget) in _budgets.ToList())
            if (budget.InFlight == 0 && (budget.Failures == 0 || now - budget.WindowStart >= Window)) _budgets.Remove(key);
    }

    private static (string Key, int Limit, string What)[] Keys(ObjectId userId, string name) =>
        [($"code:{userId}/{name}", FailuresPerProgram, $"for '{name}'"), ($"user:{userId}", FailuresPerUser, "on your account")];

    internal sealed class Budget
    {
        public DateTimeOffset WindowStart;
        public int Failures;
        public int InFlight;
    }

    /// <summary>One reserved attempt; dispose it in every case.</summary>
    public sealed class Attempt : IDisposable
    {
        private readonly ZkFailureLimiter _owner;
        private readonly Budget[] _budgets;
        private bool _done;

        internal Attempt(ZkFailureLimiter owner, Budget[] budgets) => (_owner, _budgets) = (owner, budgets);

        /// <summary>The decryption failed: the attempt counts against the budgets.</summary>
        public void Failed() => Finish(failed: true);

        public void Dispose() => Finish(failed: false);

        private void Finish(bool failed)
        {
            if (_done) return;
            _done = true;
            _owner.Complete(_budgets, failed);
        }
    }
}
