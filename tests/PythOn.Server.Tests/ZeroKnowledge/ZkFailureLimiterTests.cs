using Grpc.Core;
using LiteDB;
using Microsoft.Extensions.Time.Testing;
using PythOn.Server.ZeroKnowledge;

namespace PythOn.Server.Tests.ZeroKnowledge;

/// <summary>The failure budget in isolation, on a clock the test moves.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class ZkFailureLimiterTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private ZkFailureLimiter Limiter() => new(new LocalZkAttemptLedger(_clock));

    private static void Fail(ZkFailureLimiter limiter, ObjectId user, string name)
    {
        using var attempt = limiter.Begin(user, name);
        attempt.Failed();
    }

    [Fact]
    public void The_sixth_attempt_after_five_failures_is_refused()
    {
        var limiter = Limiter();
        for (var i = 0; i < 5; i++) Fail(limiter, _user, "p");

        var error = Assert.Throws<RpcException>(() => limiter.Begin(_user, "p"));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public void Successful_attempts_do_not_spend_the_budget()
    {
        var limiter = Limiter();
        for (var i = 0; i < 4; i++) Fail(limiter, _user, "p");
        for (var i = 0; i < 10; i++) limiter.Begin(_user, "p").Dispose();

        Fail(limiter, _user, "p"); // the fifth failure is still allowed
    }

    [Fact]
    public void Attempts_in_progress_count_against_the_budget()
    {
        var limiter = Limiter();
        var running = Enumerable.Range(0, 5).Select(_ => limiter.Begin(_user, "p")).ToList();

        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<RpcException>(() => limiter.Begin(_user, "p")).StatusCode);

        running[0].Dispose();
        limiter.Begin(_user, "p").Dispose();
    }

    [Fact]
    public void The_budget_refills_when_the_window_has_passed()
    {
        var limiter = Limiter();
        for (var i = 0; i < 5; i++) Fail(limiter, _user, "p");
        _clock.Advance(ZkFailureLimiter.Window);

        limiter.Begin(_user, "p").Dispose();
    }

    [Fact]
    public void Twenty_failures_over_several_programs_block_the_whole_account()
    {
        var limiter = Limiter();
        for (var i = 0; i < 20; i++) Fail(limiter, _user, $"p{i % 5}");

        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<RpcException>(() => limiter.Begin(_user, "fresh")).StatusCode);
        limiter.Begin(ObjectId.NewObjectId(), "fresh").Dispose();
    }
}
