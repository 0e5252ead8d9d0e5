using LiteDB;
using Npgsql;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// Encrypted secret rows in PostgreSQL. A put counts and writes under the user's advisory lock, so replicas putting
/// new names for one user at once never pass the limit together.
/// </summary>
public sealed class PostgresSecretRepository(PostgresStore store) : ISecretRepository
{
    private const string Columns = "id, user_id, name, nonce, ciphertext, created_at, updated_at";

    public SecretRecord? Put(SecretRecord secret, int maxPerUser) => store.InTransaction((connection, transaction) =>
    {
        PostgresStore.LockUser(connection, transaction, PostgresStore.UserLock.Secrets, secret.UserId);
        if (!PostgresStore.RoomFor(connection, transaction, "secrets", secret.UserId, secret.Name, maxPerUser)) return null;

        // A replacement keeps created_at: the update leaves it out.
        using var upsert = new NpgsqlCommand($"""
            INSERT INTO secrets ({Columns}) VALUES (@id, @user, @name, @nonce, @ciphertext, @created, @updated)
            ON CONFLICT (user_id, name) DO UPDATE SET
                id = excluded.id, nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at
            RETURNING {Columns}
            """, connection, transaction);
        upsert.Parameters.AddWithValue("id", secret.Id);
        upsert.Parameters.AddWithValue("user", PostgresStore.Text(secret.UserId));
        upsert.Parameters.AddWithValue("name", secret.Name);
        upsert.Parameters.AddWithValue("nonce", secret.Nonce);
        upsert.Parameters.AddWithValue("ciphertext", secret.Ciphertext);
        upsert.Parameters.AddWithValue("created", secret.CreatedAt);
        upsert.Parameters.AddWithValue("updated", secret.UpdatedAt);
        return ReadAll(upsert)[0];
    });

    public bool Delete(ObjectId userId, string name) => store.DeleteNamed("secrets", userId, name);

    public IReadOnlyList<SecretRecord> List(ObjectId userId)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand($"SELECT {Columns} FROM secrets WHERE user_id = @user", connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        // Ordinal order as .NET defines it (UTF-16 code units), whatever the database's collation.
        return ReadAll(command).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    private static List<SecretRecord> ReadAll(NpgsqlCommand command) => PostgresStore.ReadAll(command, reader => new SecretRecord
        {
            Id = reader.GetString(0),
            UserId = PostgresStore.Id(reader.GetString(1)),
            Name = reader.GetString(2),
            Nonce = reader.GetFieldValue<byte[]>(3),
            Ciphertext = reader.GetFieldValue<byte[]>(4),
            CreatedAt = reader.GetInt64(5),
            UpdatedAt = reader.GetInt64(6),
        });
}
