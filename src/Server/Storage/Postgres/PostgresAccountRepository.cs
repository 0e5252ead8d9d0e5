using LiteDB;
using Npgsql;

namespace PythOn.Server.Storage.Postgres;

/// <summary>Accounts and API keys in PostgreSQL. The unique email and key-hash constraints decide races between replicas.</summary>
public sealed class PostgresAccountRepository(PostgresStore store) : IAccountRepository
{
    private const string UserColumns = "u.id, u.email, u.password_hash, u.created_at, u.tokens_revoked_at";

    public bool TryCreate(UserRecord user, ApiKeyRecord firstKey) => store.InTransaction((connection, transaction) =>
    {
        using var insert = new NpgsqlCommand("""
            INSERT INTO users (id, email, password_hash, created_at, tokens_revoked_at)
            VALUES (@id, @email, @hash, @created, @revoked)
            ON CONFLICT (email) DO NOTHING
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", PostgresStore.Text(user.Id));
        insert.Parameters.AddWithValue("email", user.Email);
        insert.Parameters.AddWithValue("hash", user.PasswordHash);
        insert.Parameters.AddWithValue("created", user.CreatedAt);
        insert.Parameters.AddWithValue("revoked", user.TokensRevokedAt);
        if (insert.ExecuteNonQuery() == 0) return false; // the email is taken: the transaction rolls back, nothing written
        InsertKey(connection, transaction, firstKey);
        return true;
    });

    public UserRecord? FindByEmail(string email) => PostgresStore.Unstorable(email) ? null :
        FindUser($"SELECT {UserColumns} FROM users u WHERE u.email = @value", email);

    public UserRecord? FindById(ObjectId userId) =>
        FindUser($"SELECT {UserColumns} FROM users u WHERE u.id = @value", PostgresStore.Text(userId));

    public UserRecord? FindByApiKeyHash(string keyHash) => PostgresStore.Unstorable(keyHash) ? null :
        FindUser($"SELECT {UserColumns} FROM users u JOIN api_keys k ON k.user_id = u.id WHERE k.key_hash = @value", keyHash);

    public int ReplaceApiKeys(ObjectId userId, ApiKeyRecord newKey) => store.InTransaction((connection, transaction) =>
    {
        var deleted = DeleteKeys(connection, transaction, userId);
        InsertKey(connection, transaction, newKey);
        return deleted;
    });

    public (int ApiKeys, int RefreshTokens)? RevokeAllCredentials(ObjectId userId, long now) =>
        store.InTransaction<(int, int)?>((connection, transaction) =>
        {
            using var user = new NpgsqlCommand("UPDATE users SET tokens_revoked_at = @now WHERE id = @user", connection, transaction);
            user.Parameters.AddWithValue("now", now);
            user.Parameters.AddWithValue("user", PostgresStore.Text(userId));
            if (user.ExecuteNonQuery() == 0) return null;

            var keys = DeleteKeys(connection, transaction, userId);
            using var tokens = new NpgsqlCommand("UPDATE refresh_tokens SET revoked = true WHERE user_id = @user AND NOT revoked",
                connection, transaction);
            tokens.Parameters.AddWithValue("user", PostgresStore.Text(userId));
            return (keys, tokens.ExecuteNonQuery());
        });

    private UserRecord? FindUser(string sql, string value)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("value", value);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new UserRecord
        {
            Id = PostgresStore.Id(reader.GetString(0)),
            Email = reader.GetString(1),
            PasswordHash = reader.GetString(2),
            CreatedAt = reader.GetInt64(3),
            TokensRevokedAt = reader.GetInt64(4),
        };
    }

    private static void InsertKey(NpgsqlConnection connection, NpgsqlTransaction transaction, ApiKeyRecord key)
    {
        using var command = new NpgsqlCommand(
            "INSERT INTO api_keys (id, user_id, key_hash, created_at) VALUES (@id, @user, @hash, @created)", connection, transaction);
        command.Parameters.AddWithValue("id", PostgresStore.Text(key.Id));
        command.Parameters.AddWithValue("user", PostgresStore.Text(key.UserId));
        command.Parameters.AddWithValue("hash", key.KeyHash);
        command.Parameters.AddWithValue("created", key.CreatedAt);
        command.ExecuteNonQuery();
    }

    private static int DeleteKeys(NpgsqlConnection connection, NpgsqlTransaction transaction, ObjectId userId)
    {
        using var command = new NpgsqlCommand("DELETE FROM api_keys WHERE user_id = @user", connection, transaction);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        return command.ExecuteNonQuery();
    }
}
