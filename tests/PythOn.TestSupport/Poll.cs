namespace PythOn.TestSupport;

/// <summary>Polling a condition with a deadline: the only way these tests wait for something to happen.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Evaluates <paramref name="condition"/> until it holds; fails with <paramref name="what"/> and the last state at the deadline.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? lastState = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}" +
                    (lastState is null ? "" : $"; last state: {lastState()}"));
            await Task.Delay(Interval);
        }
    }

    /// <summary>Evaluates <paramref name="probe"/> until it returns a value; returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what, Func<string>? lastState = null) where T : class
    {
        T? found = null;
        await UntilAsync(async () => (found = await probe()) is not null, timeout, what, lastState);
        return found!;
    }
}
