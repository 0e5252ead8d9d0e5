using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// The PostgreSQL provider's atomic steps under concurrency from two replicas (two connection pools on one database,
/// as two server processes have): one redemption per token, limits never passed, audit ids in append order.
/// </summary>
public sealed class PostgresAtomicityTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private const int Attempts = 16;

    private readonly PostgresStorage.Repositories[] _replicas = [fixture.Storage.First, fixture.SecondReplica];

    [Fact]
    public async Task Concurrent_redemptions_of_one_token_on_two_replicas_redeem_it_exactly_once()
    {
        var token = Token(family: Guid.NewGuid().ToString("N"));
        _replicas[0].RefreshTokens.Insert(token);

        var outcomes = await AllAtOnce(i => _replicas[i % 2].RefreshTokens.Redeem(token.Id, Clock.NowMs()).Outcome);

        Assert.Equal(1, outcomes.Count(o => o == RefreshOutcome.Redeemed));
        Assert.Equal(Attempts - 1, outcomes.Count(o => o == RefreshOutcome.Reused));
    }

    [Fact]
    public void Redeeming_a_used_token_revokes_every_token_of_its_family()
    {
        var family = Guid.NewGuid().ToString("N");
        var used = Token(family);
        var sibling = Token(family);
        _replicas[0].RefreshTokens.Insert(used);
        _replicas[0].RefreshTokens.Insert(sibling);
        Assert.Equal(RefreshOutcome.Redeemed, _replicas[0].RefreshTokens.Redeem(used.Id, Clock.NowMs()).Outcome);

        Assert.Equal(RefreshOutcome.Reused, _replicas[1].RefreshTokens.Redeem(used.Id, Clock.NowMs()).Outcome);

        var siblingAfter = _replicas[0].RefreshTokens.Redeem(sibling.Id, Clock.NowMs());
        Assert.Equal(RefreshOutcome.Reused, siblingAfter.Outcome);
        Assert.True(siblingAfter.Token!.Revoked);
    }

    [Fact]
    public void An_expired_token_is_expired_and_stays_unused()
    {
        var token = Token(Guid.NewGuid().ToString("N"));
        _replicas[0].RefreshTokens.Insert(token);

        Assert.Equal(RefreshOutcome.Expired, _replicas[0].RefreshTokens.Redeem(token.Id, token.ExpiresAt).Outcome);
        Assert.Equal(RefreshOutcome.Redeemed, _replicas[0].RefreshTokens.Redeem(token.Id, token.ExpiresAt - 1).Outcome);
    }

    [Fact]
    public async Task Concurrent_puts_of_new_secrets_on_two_replicas_never_pass_the_limit()
    {
        const int limit = 5;
        var user = ObjectId.NewObjectId();

        var stored = await AllAtOnce(i => _replicas[i % 2].Secrets.Put(new SecretRecord
        {
            Id = $"{user}/s{i}", UserId = user, Name = $"s{i}", Nonce = [1], Ciphertext = [2], CreatedAt = 1, UpdatedAt = 1,
        }, limit));

        Assert.Equal(limit, stored.Count(s => s is not null));
        Assert.Equal(limit, _replicas[0].Secrets.List(user).Count);
    }

    [Fact]
    public async Task Concurrent_puts_of_new_programs_on_two_replicas_never_pass_the_limit()
    {
        const int limit = 3;
        var user = ObjectId.NewObjectId();

        var stored = await AllAtOnce(i => _replicas[i % 2].ZkCode.Put(new ZkCodeRecord
        {
            Id = $"{user}/p{i}", UserId = user, Name = $"p{i}", Language = "python", Salt = [1], Nonce = [2], Ciphertext = [3],
        }, limit));

        Assert.Equal(limit, stored.Count(p => p is not null));
        Assert.Equal(limit, _replicas[0].ZkCode.List(user).Count);
    }

    [Fact]
    public async Task Concurrent_adds_of_new_packages_on_two_replicas_never_pass_the_limit()
    {
        const int limit = 4;
        var user = ObjectId.NewObjectId();

        var stored = await AllAtOnce(i => _replicas[i % 2].Packages.Add(new PackageRecord
        {
            Id = $"{user}/python/pkg{i}", UserId = user, Language = "python", Name = $"pkg{i}", Requirement = $"pkg{i}",
        }, limit));

        Assert.Equal(limit, stored.Count(p => p is not null));
        Assert.Equal(limit, _replicas[0].Packages.List(user, "python").Count);
    }

    [Fact]
    public async Task Audit_ids_grow_in_append_order_across_replicas()
    {
        var user = ObjectId.NewObjectId();

        var batches = await AllAtOnce(i =>
        {
            var batch = Enumerable.Range(0, 3).Select(n => new AuditRecord
            {
                UserId = user, Time = Clock.NowMs(), Action = "test.append", Resource = $"{i}/{n}", Outcome = "success",
                Details = new Dictionary<string, string> { ["batch"] = $"{i}" },
            }).ToList();
            _replicas[i % 2].Audit.Append(batch);
            return batch.Select(e => e.Id).ToList();
        });
        var later = new AuditRecord { UserId = user, Time = Clock.NowMs(), Action = "test.append", Outcome = "success" };
        _replicas[1].Audit.Append([later]);

        // Each group commit takes consecutive ids, and nothing appended after all of them returned gets a smaller one.
        foreach (var ids in batches) Assert.Equal(Enumerable.Range(0, 3).Select(n => ids[0] + n), ids);
        Assert.True(later.Id > batches.SelectMany(ids => ids).Max());
        var page = _replicas[0].Audit.Page(user, null, 1000);
        Assert.Equal(Attempts * 3 + 1, page.Count);
        Assert.Equal(page.Select(e => e.Id).OrderDescending(), page.Select(e => e.Id));
    }

    private static RefreshTokenRecord Token(string family) => new()
    {
        Id = Guid.NewGuid().ToString("N"), UserId = ObjectId.NewObjectId(), FamilyId = family, ExpiresAt = Clock.NowMs() + 60_000,
    };

    /// <summary>Runs <see cref="Attempts"/> calls on pool threads released together, and returns their results.</summary>
    private static async Task<T[]> AllAtOnce<T>(Func<int, T> call)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Attempts).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return call(i);
        })).ToList();
        go.SetResult();
        return await Task.WhenAll(calls);
    }
}
