using LiteDB;
using Microsoft.Extensions.Time.Testing;
using PythOn.Server.Auth;
using PythOn.Server.Execution;

namespace PythOn.Server.Tests.Execution;

/// <summary>The in-process interactive tickets (one server), on a clock the test moves.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class LocalInteractiveTicketsTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Caller _caller = new(ObjectId.NewObjectId(), "ticket@example.com", "api_key", "203.0.113.7");

    private LocalInteractiveTickets Tickets() => new(_clock);

    [Fact]
    public void A_ticket_redeems_for_the_account_it_was_issued_for()
    {
        var tickets = Tickets();
        var ticket = tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60));

        var redeemed = tickets.Redeem(ticket);

        Assert.StartsWith(OpaqueTokens.TicketPrefix, ticket);
        Assert.Equal(_caller with { ClientAddress = "" }, redeemed);
    }

    [Fact]
    public void A_ticket_redeems_only_once()
    {
        var tickets = Tickets();
        var ticket = tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60));
        Assert.NotNull(tickets.Redeem(ticket));

        Assert.Null(tickets.Redeem(ticket));
    }

    [Fact]
    public void An_expired_ticket_is_refused()
    {
        var tickets = Tickets();
        var ticket = tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60));
        _clock.Advance(TimeSpan.FromSeconds(61));

        Assert.Null(tickets.Redeem(ticket));
    }

    [Fact]
    public void A_ticket_never_issued_is_refused()
    {
        var tickets = Tickets();
        tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60));

        Assert.Null(tickets.Redeem(OpaqueTokens.New(OpaqueTokens.TicketPrefix)));
    }

    [Fact]
    public void Each_issue_gives_a_different_ticket()
    {
        var tickets = Tickets();

        Assert.NotEqual(tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60)), tickets.Issue(_caller, _clock.GetUtcNow().AddSeconds(60)));
    }
}
