namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteRefreshTokenRepository(LiteDatabaseFile db) : IRefreshTokenRepository
{
    public void Insert(RefreshTokenRecord token) => db.RefreshTokens.Insert(token);

    public RefreshRedemption Redeem(string tokenHash, long now)
    {
        // The lock makes find-then-update one step in this process, the only one that opens the file.
        lock (db.RefreshTokenLock)
        {
            var found = db.RefreshTokens.FindById(tokenHash);
            if (found is null) return new RefreshRedemption(RefreshOutcome.NotFound, null);
            var asFound = Copy(found);

            if (found.UsedAt is not null || found.Revoked)
            {
                db.InTransaction(() =>
                {
                    var family = db.RefreshTokens.Find(t => t.FamilyId == found.FamilyId).ToList();
                    foreach (var member in family) member.Revoked = true;
                    db.RefreshTokens.Update(family);
                });
                return new RefreshRedemption(RefreshOutcome.Reused, asFound);
            }

            if (found.ExpiresAt <= now) return new RefreshRedemption(RefreshOutcome.Expired, asFound);

            found.UsedAt = now;
            db.RefreshTokens.Update(found);
            return new RefreshRedemption(RefreshOutcome.Redeemed, asFound);
        }
    }

    private static RefreshTokenRecord Copy(RefreshTokenRecord t) => new()
    {
        Id = t.Id,
        UserId = t.UserId,
        FamilyId = t.FamilyId,
        ExpiresAt = t.ExpiresAt,
        UsedAt = t.UsedAt,
        Revoked = t.Revoked,
    };
}
