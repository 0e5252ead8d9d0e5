namespace PythOn.Sandbox.Tests.Infrastructure;

/// <summary>Polling with a deadline: the only way these tests wait for something.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}");
            await Task.Delay(50);
        }
    }
}
