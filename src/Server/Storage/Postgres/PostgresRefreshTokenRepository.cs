using Npgsql;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// Refresh tokens in PostgreSQL. A redemption is one conditional UPDATE (used_at IS NULL AND NOT revoked): the row
/// lock it takes makes a concurrent redemption on any replica wait and then find the token used.
/// </summary>
public sealed class PostgresRefreshTokenRepository(PostgresStore store) : IRefreshTokenRepository
{
    private const string Columns = "id, user_id, family_id, expires_at, used_at, revoked";

    public void Insert(RefreshTokenRecord token)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand($"""
            INSERT INTO refresh_tokens ({Columns}) VALUES (@id, @user, @family, @expires, @used, @revoked)
            """, connection);
        command.Parameters.AddWithValue("id", token.Id);
        command.Parameters.AddWithValue("user", PostgresStore.Text(token.UserId));
        command.Parameters.AddWithValue("family", token.FamilyId);
        command.Parameters.AddWithValue("expires", token.ExpiresAt);
        command.Parameters.Add(new NpgsqlParameter<long?>("used", token.UsedAt) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.AddWithValue("revoked", token.Revoked);
        command.ExecuteNonQuery();
    }

    public RefreshRedemption Redeem(string tokenHash, long now)
    {
        if (PostgresStore.Unstorable(tokenHash)) return new RefreshRedemption(RefreshOutcome.NotFound, null);
        using var connection = store.Open();

        // The only path to Redeemed: at most one caller's UPDATE matches the unused row.
        using (var redeem = new NpgsqlCommand($"""
            UPDATE refresh_tokens SET used_at = @now
            WHERE id = @id AND used_at IS NULL AND NOT revoked AND expires_at > @now
            RETURNING {Columns}
            """, connection))
        {
            redeem.Parameters.AddWithValue("id", tokenHash);
            redeem.Parameters.AddWithValue("now", now);
            if (Read(redeem) is { } redeemed) return new RefreshRedemption(RefreshOutcome.Redeemed, redeemed);
        }

        using var find = new NpgsqlCommand($"SELECT {Columns} FROM refresh_tokens WHERE id = @id", connection);
        find.Parameters.AddWithValue("id", tokenHash);
        var token = Read(find);
        if (token is null) return new RefreshRedemption(RefreshOutcome.NotFound, null);
        if (token.UsedAt is null && !token.Revoked) return new RefreshRedemption(RefreshOutcome.Expired, token);

        // Used or revoked: the token leaked, so the whole sign-in's family goes.
        using var revoke = new NpgsqlCommand("UPDATE refresh_tokens SET revoked = true WHERE family_id = @family", connection);
        revoke.Parameters.AddWithValue("family", token.FamilyId);
        revoke.ExecuteNonQuery();
        return new RefreshRedemption(RefreshOutcome.Reused, token);
    }

    private static RefreshTokenRecord? Read(NpgsqlCommand command)
    {
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new RefreshTokenRecord
        {
            Id = reader.GetString(0),
            UserId = PostgresStore.Id(reader.GetString(1)),
            FamilyId = reader.GetString(2),
            ExpiresAt = reader.GetInt64(3),
            UsedAt = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            Revoked = reader.GetBoolean(5),
        };
    }
}
