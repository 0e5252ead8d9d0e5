using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IRefreshTokenRepository"/>, for every provider.</summary>
public abstract class RefreshTokenRepositoryContract : StorageContract
{
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private RefreshTokenRecord Inserted(string hash, string family = "family", long expiresAt = 10_000)
    {
        var token = new RefreshTokenRecord { Id = hash, UserId = _user, FamilyId = family, ExpiresAt = expiresAt };
        Store.RefreshTokens.Insert(token);
        return token;
    }

    [Fact]
    public void An_unknown_token_is_not_found()
    {
        var redemption = Store.RefreshTokens.Redeem("unknown", 1_000);

        Assert.Equal(RefreshOutcome.NotFound, redemption.Outcome);
        Assert.Null(redemption.Token);
    }

    [Fact]
    public void A_fresh_token_is_redeemed_and_its_row_is_returned()
    {
        Inserted("t1", family: "f1");

        var redemption = Store.RefreshTokens.Redeem("t1", 1_000);

        Assert.Equal(RefreshOutcome.Redeemed, redemption.Outcome);
        Assert.Equal("t1", redemption.Token!.Id);
        Assert.Equal(_user, redemption.Token.UserId);
        Assert.Equal("f1", redemption.Token.FamilyId);
        Assert.Equal(10_000, redemption.Token.ExpiresAt);
    }

    [Fact]
    public void A_token_redeemed_twice_is_reused_the_second_time()
    {
        Inserted("t1");
        Store.RefreshTokens.Redeem("t1", 1_000);

        var second = Store.RefreshTokens.Redeem("t1", 1_001);

        Assert.Equal(RefreshOutcome.Reused, second.Outcome);
        Assert.Equal(_user, second.Token!.UserId);
    }

    [Fact]
    public void Reuse_revokes_every_token_of_the_family_and_no_other()
    {
        Inserted("old", family: "f1");
        Inserted("sibling", family: "f1");
        Inserted("stranger", family: "f2");
        Store.RefreshTokens.Redeem("old", 1_000);

        Store.RefreshTokens.Redeem("old", 1_001);

        Assert.Equal(RefreshOutcome.Reused, Store.RefreshTokens.Redeem("sibling", 1_002).Outcome);
        Assert.Equal(RefreshOutcome.Redeemed, Store.RefreshTokens.Redeem("stranger", 1_002).Outcome);
    }

    [Fact]
    public void A_revoked_token_is_reused()
    {
        Store.RefreshTokens.Insert(new RefreshTokenRecord { Id = "t1", UserId = _user, FamilyId = "f1", ExpiresAt = 10_000, Revoked = true });

        Assert.Equal(RefreshOutcome.Reused, Store.RefreshTokens.Redeem("t1", 1_000).Outcome);
    }

    [Fact]
    public void A_token_whose_expiry_has_come_is_expired_and_left_unused()
    {
        Inserted("t1", expiresAt: 10_000);

        Assert.Equal(RefreshOutcome.Expired, Store.RefreshTokens.Redeem("t1", 10_000).Outcome);

        // Nothing was written: at an earlier time the same token still redeems.
        Assert.Equal(RefreshOutcome.Redeemed, Store.RefreshTokens.Redeem("t1", 9_999).Outcome);
    }

    [Fact]
    public async Task Of_concurrent_redemptions_of_one_token_exactly_one_is_redeemed()
    {
        Inserted("t1");

        var outcomes = await AllAtOnce(8, _ => Store.RefreshTokens.Redeem("t1", 1_000).Outcome);

        Assert.Single(outcomes, o => o == RefreshOutcome.Redeemed);
        Assert.All(outcomes.Where(o => o != RefreshOutcome.Redeemed), o => Assert.Equal(RefreshOutcome.Reused, o));
    }
}
