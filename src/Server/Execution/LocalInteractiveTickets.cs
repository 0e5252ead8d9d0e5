using System.Collections.Concurrent;
using PythOn.Server.Auth;

namespace PythOn.Server.Execution;

/// <summary>The interactive tickets of a single server: in memory by hash, expired ones pruned when a ticket is issued.</summary>
public sealed class LocalInteractiveTickets(TimeProvider? timeProvider = null) : IInteractiveTickets
{
    private readonly ConcurrentDictionary<string, (Caller Caller, DateTimeOffset Expires)> _tickets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public string Issue(Caller caller, DateTimeOffset expires)
    {
        var now = _time.GetUtcNow();
        foreach (var (key, value) in _tickets)
            if (value.Expires <= now) _tickets.TryRemove(key, out _);
        var ticket = OpaqueTokens.New(OpaqueTokens.TicketPrefix);
        _tickets[OpaqueTokens.Hash(ticket)] = (caller with { ClientAddress = "" }, expires);
        return ticket;
    }

    public Caller? Redeem(string ticket) =>
        _tickets.TryRemove(OpaqueTokens.Hash(ticket), out var entry) && entry.Expires > _time.GetUtcNow() ? entry.Caller : null;
}
