namespace PythOn.Server.Agents;

/// <summary>
/// One agent's load for one call, as the picker sees it.
/// </summary>
/// <param name="InRotation">Answering its probes (or not probed yet).</param>
/// <param name="Draining">Shutting down: finishes its runs, takes no new ones.</param>
/// <param name="Slots">Its configured slots for the call's language; null while no status has come yet.</param>
/// <param name="IdleAtStatus">Its idle slots for the language in its last status.</param>
/// <param name="OursAtStatus">This server's calls in flight on it (the language's) when that status was taken.</param>
/// <param name="OursNow">This server's calls in flight on it now (the language's).</param>
/// <param name="OursTotal">This server's calls in flight on it now, all kinds.</param>
public readonly record struct AgentLoad(bool InRotation, bool Draining, int? Slots, int IdleAtStatus, int OursAtStatus, int OursNow, int OursTotal);

/// <summary>
/// Least-loaded routing: the agents that can take a call, the one with the most free slots first. Free slots are the
/// agent's idle slots at its last status (polled every second), corrected by this server's own calls since: other
/// servers' runs are what the status counted beyond ours then, and ours are counted as they are now, so a burst
/// spreads over the agents between two polls. Ties go to the agent with fewer of our calls, then rotate.
/// </summary>
public static class AgentPicker
{
    /// <summary>Free slots, negative when calls are already waiting; an agent without a status counts as full
    /// (behind any agent known to have room) less our calls on it.</summary>
    public static int FreeSlots(AgentLoad load)
    {
        if (load.Slots is not { } slots) return -load.OursNow;
        var busyAtStatus = slots - load.IdleAtStatus;
        var others = Math.Max(0, busyAtStatus - load.OursAtStatus);
        return slots - others - load.OursNow;
    }

    public static bool CanTake(AgentLoad load) => load.InRotation && !load.Draining && load.Slots is not 0;

    /// <summary>Indices of the agents that can take the call, best first. <paramref name="rotation"/> (a counter the
    /// caller advances per call) breaks ties, so equal agents share the calls.</summary>
    public static IReadOnlyList<int> Order(IReadOnlyList<AgentLoad> loads, int rotation)
    {
        var count = loads.Count;
        if (count == 0) return [];
        var start = (int)((uint)rotation % (uint)count);
        return Enumerable.Range(0, count)
            .Where(i => CanTake(loads[i]))
            .OrderByDescending(i => FreeSlots(loads[i]))
            .ThenBy(i => loads[i].OursTotal)
            .ThenBy(i => (i - start + count) % count)
            .ToList();
    }
}
