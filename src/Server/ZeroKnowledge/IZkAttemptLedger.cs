namespace PythOn.Server.ZeroKnowledge;

/// <summary>
/// Where decryption attempts are counted: in the process (one server) or in the shared database (several replicas), so
/// the failure budget holds for the service, not per replica.
/// </summary>
public interface IZkAttemptLedger
{
    /// <summary>
    /// In one atomic step: finds the first budget whose failures within <see cref="ZkFailureLimiter.Window"/> plus attempts
    /// in progress reach its limit and refuses, or reserves one attempt in progress against every budget.
    /// </summary>
    ZkReservation Reserve(IReadOnlyList<ZkBudget> budgets);

    /// <summary>Ends a granted reservation; a failed attempt counts as a failure in each budget's window from now.</summary>
    void Finish(ZkReservation.Granted reservation, bool failed);
}

/// <summary>One budget: a key ("code:user/name", "user:user") and its failure limit.</summary>
public sealed record ZkBudget(string Key, int Limit);

public abstract record ZkReservation
{
    /// <summary>Reserved; <paramref name="Token"/> is the ledger's own handle for Finish.</summary>
    public sealed record Granted(object Token) : ZkReservation;

    /// <summary>
    /// Refused by <paramref name="Budget"/>: its failures reached the limit (retry after <paramref name="RetryAfter"/>), or,
    /// when <paramref name="InProgress"/>, failures plus attempts still running did.
    /// </summary>
    public sealed record Refused(ZkBudget Budget, bool InProgress, TimeSpan RetryAfter) : ZkReservation;
}
