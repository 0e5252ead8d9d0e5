using LiteDB;
using Npgsql;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// Stored zero-knowledge programs in PostgreSQL (opaque bytes). A put counts and writes under the user's advisory
/// lock, so replicas storing new names for one user at once never pass the limit together.
/// </summary>
public sealed class PostgresZkCodeRepository(PostgresStore store) : IZkCodeRepository
{
    private const string Columns = "id, user_id, name, language, description, salt, nonce, ciphertext, created_at, updated_at";

    public ZkCodeRecord? Put(ZkCodeRecord program, int maxPerUser) => store.InTransaction((connection, transaction) =>
    {
        PostgresStore.LockUser(connection, transaction, PostgresStore.UserLock.ZkCode, program.UserId);
        if (!PostgresStore.RoomFor(connection, transaction, "zk_code", program.UserId, program.Name, maxPerUser)) return null;

        // A replacement keeps created_at: the update leaves it out.
        using var upsert = new NpgsqlCommand($"""
            INSERT INTO zk_code ({Columns})
            VALUES (@id, @user, @name, @language, @description, @salt, @nonce, @ciphertext, @created, @updated)
            ON CONFLICT (user_id, name) DO UPDATE SET
                id = excluded.id, language = excluded.language, description = excluded.description, salt = excluded.salt,
                nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at
            RETURNING {Columns}
            """, connection, transaction);
        upsert.Parameters.AddWithValue("id", program.Id);
        upsert.Parameters.AddWithValue("user", PostgresStore.Text(program.UserId));
        upsert.Parameters.AddWithValue("name", program.Name);
        upsert.Parameters.AddWithValue("language", program.Language);
        upsert.Parameters.AddWithValue("description", program.Description);
        upsert.Parameters.AddWithValue("salt", program.Salt);
        upsert.Parameters.AddWithValue("nonce", program.Nonce);
        upsert.Parameters.AddWithValue("ciphertext", program.Ciphertext);
        upsert.Parameters.AddWithValue("created", program.CreatedAt);
        upsert.Parameters.AddWithValue("updated", program.UpdatedAt);
        return ReadAll(upsert)[0];
    });

    public ZkCodeRecord? Find(ObjectId userId, string name)
    {
        if (PostgresStore.Unstorable(name)) return null;
        using var connection = store.Open();
        using var command = new NpgsqlCommand($"SELECT {Columns} FROM zk_code WHERE user_id = @user AND name = @name", connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        command.Parameters.AddWithValue("name", name);
        return ReadAll(command).SingleOrDefault();
    }

    public bool Delete(ObjectId userId, string name) => store.DeleteNamed("zk_code", userId, name);

    public IReadOnlyList<ZkCodeRecord> List(ObjectId userId)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand($"SELECT {Columns} FROM zk_code WHERE user_id = @user", connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        // Ordinal order as .NET defines it (UTF-16 code units), whatever the database's collation.
        return ReadAll(command).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    private static List<ZkCodeRecord> ReadAll(NpgsqlCommand command) => PostgresStore.ReadAll(command, reader => new ZkCodeRecord
        {
            Id = reader.GetString(0),
            UserId = PostgresStore.Id(reader.GetString(1)),
            Name = reader.GetString(2),
            Language = reader.GetString(3),
            Description = reader.GetString(4),
            Salt = reader.GetFieldValue<byte[]>(5),
            Nonce = reader.GetFieldValue<byte[]>(6),
            Ciphertext = reader.GetFieldValue<byte[]>(7),
            CreatedAt = reader.GetInt64(8),
            UpdatedAt = reader.GetInt64(9),
        });
}
