using System.Collections.Concurrent;

namespace PythOn.Server.Auth;

/// <summary>
/// Failed sign-ins per account (by normalised email, known or not): after <see cref="MaxFailures"/> failures within
/// <see cref="Window"/> the account's sign-ins are refused (429, Retry-After) until the window has passed, before any
/// password is hashed. Per-address limits (PythOn:RateLimits:AuthPerMinute) stop one client; this stops many clients
/// guessing one account. A successful sign-in clears the count. Per process (several replicas: per replica).
/// </summary>
public sealed class LoginThrottle
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private const int MaxTracked = 100_000;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    public TimeSpan? RetryAfter(string account)
    {
        if (!_failures.TryGetValue(account, out var f)) return null;
        lock (f)
        {
            var left = f.WindowStart + Window - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                _failures.TryRemove(account, out _);
                return null;
            }
            return f.Count >= MaxFailures ? left : null;
        }
    }

    public void Failed(string account)
    {
        if (_failures.Count >= MaxTracked) Prune();
        var f = _failures.GetOrAdd(account, _ => new Failures { WindowStart = DateTimeOffset.UtcNow });
        lock (f)
        {
            if (DateTimeOffset.UtcNow - f.WindowStart > Window)
            {
                f.WindowStart = DateTimeOffset.UtcNow;
                f.Count = 0;
            }
            f.Count++;
        }
    }

    public void Succeeded(string account) => _failures.TryRemove(account, out _);

    // Memory stays bounded whatever a spray of made-up emails does: expired windows go first, then everything.
    private void Prune()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (key, f) in _failures)
            if (now - f.WindowStart > Window) _failures.TryRemove(key, out _);
        if (_failures.Count >= MaxTracked) _failures.Clear();
    }

    private sealed class Failures
    {
        public DateTimeOffset WindowStart;
        public int Count;
    }
}
