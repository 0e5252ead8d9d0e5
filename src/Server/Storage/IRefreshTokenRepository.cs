namespace PythOn.Server.Storage;

/// <summary>Refresh tokens (stored by hash). Redemption is atomic across replicas: one token redeems at most once.</summary>
public interface IRefreshTokenRepository
{
    void Insert(RefreshTokenRecord token);

    /// <summary>
    /// Redeems the token with this hash, atomically (two concurrent calls, on any replicas, never both get Redeemed):
    /// unknown → NotFound; already used or revoked → every token of its family is revoked and Reused is returned;
    /// expired (ExpiresAt ≤ now) → Expired, nothing written; otherwise UsedAt = now is stored and Redeemed returned.
    /// </summary>
    RefreshRedemption Redeem(string tokenHash, long now);
}

public enum RefreshOutcome
{
    NotFound,
    Reused,
    Expired,
    Redeemed,
}

/// <summary>The outcome of a redemption and the token's row as it was found (null for NotFound).</summary>
public sealed record RefreshRedemption(RefreshOutcome Outcome, RefreshTokenRecord? Token);
