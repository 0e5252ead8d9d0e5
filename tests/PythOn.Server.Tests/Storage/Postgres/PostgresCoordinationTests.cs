using LiteDB;
using PythOn.Server.Storage.Postgres;
using PythOn.Server.ZeroKnowledge;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// What replicas coordinate through, from two replicas (two connection pools on one database): the per-user run cap,
/// the ZK failure budget and the package install locks hold for the pair, and a dead replica's share lapses.
/// </summary>
public sealed class PostgresCoordinationTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private readonly PostgresStore[] _replicas = [fixture.Storage.First.Store, fixture.SecondReplica.Store];

    private static string NewUser() => ObjectId.NewObjectId().ToString();

    [Fact]
    public void Run_places_taken_on_one_replica_count_against_the_cap_on_the_other()
    {
        var (a, b, user) = (new PostgresRunPlaces(_replicas[0]), new PostgresRunPlaces(_replicas[1]), NewUser());
        Assert.NotNull(a.TryTake(user, 2, out _));
        Assert.NotNull(b.TryTake(user, 2, out _));

        var third = a.TryTake(user, 2, out var held);

        Assert.Null(third);
        Assert.Equal(2, held);
    }

    [Fact]
    public void A_released_run_place_can_be_taken_again_from_either_replica()
    {
        var (a, b, user) = (new PostgresRunPlaces(_replicas[0]), new PostgresRunPlaces(_replicas[1]), NewUser());
        var place = a.TryTake(user, 1, out _)!;
        Assert.Null(b.TryTake(user, 1, out _));

        a.Release(user, place);

        Assert.NotNull(b.TryTake(user, 1, out var held));
        Assert.Equal(0, held);
    }

    [Fact]
    public async Task Concurrent_takes_on_two_replicas_never_pass_the_cap()
    {
        var places = new[] { new PostgresRunPlaces(_replicas[0]), new PostgresRunPlaces(_replicas[1]) };
        var user = NewUser();
        using var start = new ManualResetEventSlim();
        var takes = Enumerable.Range(0, 12).Select(i => Task.Run(() =>
        {
            start.Wait();
            return places[i % 2].TryTake(user, 3, out _);
        })).ToArray();
        start.Set();

        var taken = (await Task.WhenAll(takes)).Count(p => p is not null);

        Assert.Equal(3, taken);
        Assert.Equal(3, places[0].Held(user));
    }

    [Fact]
    public async Task The_run_places_of_a_replica_that_stopped_renewing_lapse()
    {
        var (dead, alive, user) = (new PostgresRunPlaces(_replicas[0]), new PostgresRunPlaces(_replicas[1]), NewUser());
        Assert.NotNull(dead.TryTake(user, 1, out _));
        // As if its lifetime had passed without a heartbeat: the replica died holding the place.
        await fixture.Storage.Database.ExecuteAsync($"UPDATE run_places SET expires_at = now() - interval '1 second' WHERE replica = '{dead.Replica}'");

        Assert.NotNull(alive.TryTake(user, 1, out _));
    }

    [Fact]
    public async Task A_heartbeat_keeps_a_replica_s_run_places_alive()
    {
        var (places, user) = (new PostgresRunPlaces(_replicas[0]), NewUser());
        Assert.NotNull(places.TryTake(user, 1, out _));
        await fixture.Storage.Database.ExecuteAsync($"UPDATE run_places SET expires_at = now() + interval '1 second' WHERE replica = '{places.Replica}'");

        places.Renew();

        var left = await fixture.Storage.Database.ScalarAsync<TimeSpan>(
            $"SELECT min(expires_at) - now() FROM run_places WHERE replica = '{places.Replica}'");
        Assert.True(left > PostgresRunPlaces.Lifetime - TimeSpan.FromSeconds(5), $"{left} left");
    }

    [Fact]
    public void ZK_failures_recorded_on_one_replica_spend_the_budget_on_the_other()
    {
        var (a, b) = (new ZkFailureLimiter(new PostgresZkAttemptLedger(_replicas[0])), new ZkFailureLimiter(new PostgresZkAttemptLedger(_replicas[1])));
        var user = ObjectId.NewObjectId();
        for (var i = 0; i < ZkFailureLimiter.FailuresPerProgram; i++)
        {
            using var attempt = (i % 2 == 0 ? a : b).Begin(user, "p");
            attempt.Failed();
        }

        var error = Assert.Throws<Grpc.Core.RpcException>(() => b.Begin(user, "p"));

        Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("too many failed decryption attempts for 'p'", error.Status.Detail);
    }

    [Fact]
    public void ZK_attempts_in_progress_on_one_replica_count_on_the_other_until_they_end()
    {
        var (a, b) = (new ZkFailureLimiter(new PostgresZkAttemptLedger(_replicas[0])), new ZkFailureLimiter(new PostgresZkAttemptLedger(_replicas[1])));
        var user = ObjectId.NewObjectId();
        var running = Enumerable.Range(0, ZkFailureLimiter.FailuresPerProgram).Select(_ => a.Begin(user, "p")).ToList();

        Assert.Contains("at once", Assert.Throws<Grpc.Core.RpcException>(() => b.Begin(user, "p")).Status.Detail);

        running[0].Dispose();
        b.Begin(user, "p").Dispose();
        foreach (var attempt in running) attempt.Dispose();
    }

    [Fact]
    public async Task Failures_older_than_the_window_no_longer_count()
    {
        var limiter = new ZkFailureLimiter(new PostgresZkAttemptLedger(_replicas[0]));
        var user = ObjectId.NewObjectId();
        for (var i = 0; i < ZkFailureLimiter.FailuresPerProgram; i++)
        {
            using var attempt = limiter.Begin(user, "old");
            attempt.Failed();
        }
        await fixture.Storage.Database.ExecuteAsync(
            $"UPDATE zk_attempts SET at = now() - interval '16 minutes' WHERE budget_key = 'code:{user}/old'");

        limiter.Begin(user, "old").Dispose();
    }

    [Fact]
    public void A_list_locked_for_install_on_one_replica_is_skipped_by_the_other_until_released()
    {
        var (a, b) = (new PostgresInstallLocks(_replicas[0]), new PostgresInstallLocks(_replicas[1]));
        var user = ObjectId.NewObjectId();
        var held = a.TryLock(user, "python");
        Assert.NotNull(held);

        Assert.Null(b.TryLock(user, "python"));
        using (var other = b.TryLock(user, "javascript")) Assert.NotNull(other);

        held!.Dispose();
        using var after = b.TryLock(user, "python");
        Assert.NotNull(after);
    }

    [Fact]
    public async Task An_install_lock_goes_with_the_connection_of_a_replica_that_died()
    {
        var (a, b) = (new PostgresInstallLocks(_replicas[0]), new PostgresInstallLocks(_replicas[1]));
        var user = ObjectId.NewObjectId();
        var held = a.TryLock(user, "python");
        Assert.NotNull(held);

        // The holder's backend ends as it would when its process is killed: the transaction and its row lock go.
        await fixture.Storage.Database.ExecuteAsync(
            "SELECT pg_terminate_backend(pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation " +
            "WHERE c.relname = 'package_install_locks' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()");

        await Poll.UntilAsync(() => Task.FromResult(b.TryLock(user, "python") is { } taken && Dispose(taken)),
            TimeSpan.FromSeconds(10), "the lock is free once its holder's backend has ended");
        held!.Dispose(); // its connection is gone: releasing is a no-op, not an error
    }

    private static bool Dispose(IDisposable lockHandle)
    {
        lockHandle.Dispose();
        return true;
    }
}
