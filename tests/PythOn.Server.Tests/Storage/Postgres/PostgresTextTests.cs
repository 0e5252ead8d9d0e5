using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// Text PostgreSQL cannot hold (U+0000) never turns a caller's bad input into a server error: lookups answer "absent",
/// audit entries are kept with U+FFFD in its place. Plus the health probes.
/// </summary>
public sealed class PostgresTextTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private readonly PostgresStorage _repos = fixture.Storage;

    [Fact]
    public void A_key_with_a_NUL_character_is_absent_from_every_store()
    {
        var user = ObjectId.NewObjectId();

        Assert.Null(_repos.Accounts.FindByEmail("someone\0@example.com"));
        Assert.Null(_repos.Accounts.FindByApiKeyHash("ab\0cd"));
        Assert.Equal(RefreshOutcome.NotFound, _repos.RefreshTokens.Redeem("ab\0cd", Clock.NowMs()).Outcome);
        Assert.False(_repos.Secrets.Delete(user, "API\0KEY"));
        Assert.Null(_repos.ZkCode.Find(user, "prog\0"));
        Assert.False(_repos.ZkCode.Delete(user, "prog\0"));
        Assert.False(_repos.Packages.Remove(user, "python", "requests\0"));
        Assert.Empty(_repos.Packages.List(user, "py\0thon"));
    }

    [Fact]
    public void An_audit_entry_with_a_NUL_character_is_kept_with_a_replacement_character()
    {
        var user = ObjectId.NewObjectId();
        var entry = new AuditRecord
        {
            UserId = user, Time = 1, Action = "secret.delete", Resource = "secret/A\0B", Outcome = "success", ClientAddress = "127.0.0.1",
            Details = new Dictionary<string, string> { ["reason\0"] = "x\0y" },
        };

        _repos.Audit.Append([entry]);

        var stored = Assert.Single(_repos.Audit.Page(user, null, 10));
        Assert.Equal(entry.Id, stored.Id);
        Assert.Equal("secret/A\uFFFDB", stored.Resource);
        Assert.Equal("x\uFFFDy", stored.Details["reason\uFFFD"]);
    }

    [Fact]
    public async Task The_write_probe_reaches_the_database()
    {
        var before = Clock.NowMs();

        _repos.Health.ProbeWrite();

        Assert.True(await fixture.Storage.Database.ScalarAsync<long>("SELECT at FROM health_probe WHERE id = 1") >= before);
        Assert.True(_repos.Health.Ping());
    }
}
