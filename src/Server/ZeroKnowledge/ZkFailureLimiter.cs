using System.Threading.RateLimiting;
using LiteDB;
using PythOn.Server.Errors;

namespace PythOn.Server.ZeroKnowledge;

/// <summary>
/// Bounds password guessing against stored programs: failed decryptions per stored program and per user in
/// a 15-minute window. Once a budget is spent, runs are refused with RESOURCE_EXHAUSTED until it refills.
/// </summary>
public sealed class ZkFailureLimiter : IDisposable
{
    public const int FailuresPerProgram = 5;
    public const int FailuresPerUser = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
        {
            PermitLimit = k.StartsWith("user:", StringComparison.Ordinal) ? FailuresPerUser : FailuresPerProgram,
            Window = Window,
            QueueLimit = 0,
        }));

    /// <summary>Throws when either budget is spent; spends nothing.</summary>
    public void EnsureAllowed(ObjectId userId, string name)
    {
        foreach (var (key, what) in Keys(userId, name))
        {
            using var probe = _limiter.AttemptAcquire(key, permitCount: 0);
            if (!probe.IsAcquired)
            {
                var wait = probe.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Window;
                throw Problems.TooMany($"too many failed decryption attempts {what}: retry after {Math.Ceiling(wait.TotalMinutes)} min.");
            }
        }
    }

    public void RecordFailure(ObjectId userId, string name)
    {
        foreach (var (key, _) in Keys(userId, name)) _limiter.AttemptAcquire(key).Dispose();
    }

    private static (string Key, string What)[] Keys(ObjectId userId, string name) =>
        [($"code:{userId}/{name}", $"for '{name}'"), ($"user:{userId}", "on your account")];

    public void Dispose() => _limiter.Dispose();
}
