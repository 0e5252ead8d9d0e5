using LiteDB;
using PythOn.Server.Errors;

namespace PythOn.Server.ZeroKnowledge;

/// <summary>
/// Bounds password guessing against stored programs: failed decryptions per stored program and per user in a
/// 15-minute window. Once a budget is spent, runs are refused with RESOURCE_EXHAUSTED until the window ends.
/// An attempt reserves its place in the budget before it runs, so concurrent attempts cannot together spend more
/// than the budget (each is only known to have failed after its sandbox run). The counting lives in an
/// <see cref="IZkAttemptLedger"/>: in memory for one server, in PostgreSQL when replicas share it.
/// </summary>
public sealed class ZkFailureLimiter(IZkAttemptLedger ledger)
{
    public const int FailuresPerProgram = 5;
    public const int FailuresPerUser = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Reserves one attempt against both budgets, or throws RESOURCE_EXHAUSTED when failures plus attempts still in
    /// progress already reach either limit. Report the outcome on the returned attempt; disposing it without
    /// <see cref="Attempt.Failed"/> releases the reservation (success, or no decryption took place).
    /// </summary>
    public Attempt Begin(ObjectId userId, string name)
    {
        ZkBudget program = new($"code:{userId}/{name}", FailuresPerProgram), account = new($"user:{userId}", FailuresPerUser);
        switch (ledger.Reserve([program, account]))
        {
            case ZkReservation.Granted granted:
                return new Attempt(ledger, granted);
            case ZkReservation.Refused refused:
                var what = refused.Budget == program ? $"for '{name}'" : "on your account";
                throw refused.InProgress
                    ? Problems.TooMany($"too many decryption attempts {what} at once: wait for the running ones to finish.")
                    : Problems.TooMany($"too many failed decryption attempts {what}: retry after {Math.Max(1, Math.Ceiling(refused.RetryAfter.TotalMinutes))} min.");
            default:
                throw new InvalidOperationException("unknown reservation");
        }
    }

    /// <summary>One reserved attempt; dispose it in every case.</summary>
    public sealed class Attempt : IDisposable
    {
        private readonly IZkAttemptLedger _ledger;
        private readonly ZkReservation.Granted _reservation;
        private bool _done;

        internal Attempt(IZkAttemptLedger ledger, ZkReservation.Granted reservation) => (_ledger, _reservation) = (ledger, reservation);

        /// <summary>The decryption failed: the attempt counts against the budgets.</summary>
        public void Failed() => Finish(failed: true);

        public void Dispose() => Finish(failed: false);

        private void Finish(bool failed)
        {
            if (_done) return;
            _done = true;
            _ledger.Finish(_reservation, failed);
        }
    }
}
