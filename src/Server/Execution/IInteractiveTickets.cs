using PythOn.Server.Auth;

namespace PythOn.Server.Execution;

/// <summary>
/// Single-use tickets that open an interactive WebSocket for a browser, which cannot set headers: kept in the process
/// (one server) or in the shared database, so a ticket issued by one replica opens the socket on any other. Only a
/// ticket's SHA-256 is kept, never the ticket.
/// </summary>
public interface IInteractiveTickets
{
    /// <summary>A new ticket for <paramref name="caller"/>'s account, redeemable once until <paramref name="expires"/>.</summary>
    string Issue(Caller caller, DateTimeOffset expires);

    /// <summary>
    /// In one atomic step: the account the ticket was issued for, and the ticket is gone; null for a ticket that is
    /// unknown, already redeemed or expired. The returned caller's ClientAddress is empty: the redeemer's connection sets it.
    /// </summary>
    Caller? Redeem(string ticket);
}
