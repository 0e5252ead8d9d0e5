namespace PythOn.Server.Execution;

/// <summary>
/// Where the runs each user has in progress are counted: in the process (one server) or in the shared database, so
/// PythOn:Limits:MaxConcurrentRunsPerUser holds across every replica rather than per replica.
/// </summary>
public interface IRunPlaces
{
    /// <summary>
    /// In one atomic step: takes one of the user's places when the user holds fewer than <paramref name="cap"/>, and
    /// returns its handle; otherwise returns null and nothing is taken. <paramref name="held"/> is the count seen.
    /// </summary>
    object? TryTake(string userId, int cap, out int held);

    /// <summary>Gives back a place taken by <see cref="TryTake"/> (exactly once).</summary>
    void Release(string userId, object place);

    /// <summary>The user's places in use now (for tests and status).</summary>
    int Held(string userId);
}
