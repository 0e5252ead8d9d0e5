using LiteDB;
using PythOn.Server.Auth;
using PythOn.Server.Storage.Postgres;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// Interactive WebSocket tickets from two replicas (two connection pools on one database): a ticket issued on one
/// redeems once on the other, expired ones are refused and pruned, and only the ticket's hash is stored.
/// </summary>
public sealed class PostgresInteractiveTicketsTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private readonly PostgresInteractiveTickets _a = new(fixture.Storage.First.Store);
    private readonly PostgresInteractiveTickets _b = new(fixture.SecondReplica.Store);

    private static Caller NewCaller() => new(ObjectId.NewObjectId(), $"{Guid.NewGuid():N}@example.com", "jwt", "198.51.100.4");

    private static DateTimeOffset InAMinute => DateTimeOffset.UtcNow.AddSeconds(60);

    [Fact]
    public void A_ticket_issued_on_one_replica_redeems_on_the_other_for_its_account()
    {
        var caller = NewCaller();
        var ticket = _a.Issue(caller, InAMinute);

        var redeemed = _b.Redeem(ticket);

        Assert.Equal(caller with { ClientAddress = "" }, redeemed);
    }

    [Fact]
    public void A_ticket_redeemed_on_one_replica_is_refused_on_either()
    {
        var ticket = _a.Issue(NewCaller(), InAMinute);
        Assert.NotNull(_b.Redeem(ticket));

        Assert.Null(_a.Redeem(ticket));
        Assert.Null(_b.Redeem(ticket));
    }

    [Fact]
    public async Task Two_replicas_redeeming_one_ticket_at_once_get_it_once()
    {
        var ticket = _a.Issue(NewCaller(), InAMinute);
        using var start = new ManualResetEventSlim();
        var redeems = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            start.Wait();
            return (i % 2 == 0 ? _a : _b).Redeem(ticket);
        })).ToArray();
        start.Set();

        var granted = (await Task.WhenAll(redeems)).Count(c => c is not null);

        Assert.Equal(1, granted);
    }

    [Fact]
    public void An_expired_ticket_is_refused_on_the_other_replica()
    {
        var ticket = _a.Issue(NewCaller(), DateTimeOffset.UtcNow.AddSeconds(-1));

        Assert.Null(_b.Redeem(ticket));
    }

    [Fact]
    public async Task Only_the_ticket_s_SHA_256_is_stored()
    {
        var ticket = _a.Issue(NewCaller(), InAMinute);

        var stored = await fixture.Storage.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM interactive_tickets WHERE hash = '{OpaqueTokens.Hash(ticket)}'");
        var plain = await fixture.Storage.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM interactive_tickets t WHERE strpos(t::text, '{ticket}') > 0");

        Assert.Equal(1, stored);
        Assert.Equal(0, plain);
    }

    [Fact]
    public async Task Issuing_a_ticket_prunes_the_expired_ones()
    {
        var expired = _a.Issue(NewCaller(), DateTimeOffset.UtcNow.AddSeconds(-1));

        _b.Issue(NewCaller(), InAMinute);

        Assert.Equal(0, await fixture.Storage.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM interactive_tickets WHERE hash = '{OpaqueTokens.Hash(expired)}'"));
    }
}
