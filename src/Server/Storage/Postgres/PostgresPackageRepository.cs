using LiteDB;
using Npgsql;
using PythOn.Server.Packages;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// Package lists in PostgreSQL, keyed by (user, language, name). List changes take the user's advisory lock (so an
/// add's count and insert are one step across replicas); status updates lock the rows they change.
/// </summary>
public sealed class PostgresPackageRepository(PostgresStore store) : IPackageRepository
{
    private const string Columns = "id, user_id, language, name, requirement, version, status, message, added_at, updated_at";

    // An existing row with the same requirement stays as it is (status included); any other is replaced but keeps added_at.
    private const string Upsert = $"""
        INSERT INTO packages ({Columns})
        VALUES (@id, @user, @language, @name, @requirement, @version, @status, @message, @added, @updated)
        ON CONFLICT (user_id, language, name) DO UPDATE SET
            id = excluded.id, requirement = excluded.requirement, version = excluded.version, status = excluded.status,
            message = excluded.message, updated_at = excluded.updated_at
        WHERE packages.requirement <> excluded.requirement
        RETURNING {Columns}
        """;

    public IReadOnlyList<PackageRecord> List(ObjectId userId, string? language = null)
    {
        if (PostgresStore.Unstorable(language)) return [];
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM packages WHERE user_id = @user" + (language is null ? "" : " AND language = @language"), connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        if (language is not null) command.Parameters.AddWithValue("language", language);
        // Ordinal order as .NET defines it, whatever the database's collation.
        return ReadAll(command).OrderBy(p => p.Language, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    public void ReplaceList(ObjectId userId, string language, IReadOnlyList<PackageRecord> wanted) =>
        store.InTransaction((connection, transaction) =>
        {
            PostgresStore.LockUser(connection, transaction, PostgresStore.UserLock.Packages, userId);
            using (var delete = new NpgsqlCommand(
                "DELETE FROM packages WHERE user_id = @user AND language = @language AND name <> ALL(@names)", connection, transaction))
            {
                delete.Parameters.AddWithValue("user", PostgresStore.Text(userId));
                delete.Parameters.AddWithValue("language", language);
                delete.Parameters.AddWithValue("names", wanted.Select(p => p.Name).ToArray());
                delete.ExecuteNonQuery();
            }
            foreach (var row in wanted) Write(connection, transaction, row, userId, language);
            return 0;
        });

    public PackageRecord? Add(PackageRecord wanted, int maxPerLanguage) => store.InTransaction((connection, transaction) =>
    {
        PostgresStore.LockUser(connection, transaction, PostgresStore.UserLock.Packages, wanted.UserId);
        using (var find = new NpgsqlCommand(
            $"SELECT {Columns} FROM packages WHERE user_id = @user AND language = @language AND name = @name", connection, transaction))
        {
            find.Parameters.AddWithValue("user", PostgresStore.Text(wanted.UserId));
            find.Parameters.AddWithValue("language", wanted.Language);
            find.Parameters.AddWithValue("name", wanted.Name);
            var existing = ReadAll(find).SingleOrDefault();
            if (existing is not null && existing.Requirement == wanted.Requirement) return existing;
            if (existing is null && Count(connection, transaction, wanted.UserId, wanted.Language) >= maxPerLanguage) return null;
        }
        return Write(connection, transaction, wanted, wanted.UserId, wanted.Language);
    });

    public bool Remove(ObjectId userId, string language, string name)
    {
        if (PostgresStore.Unstorable(language) || PostgresStore.Unstorable(name)) return false;
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            "DELETE FROM packages WHERE user_id = @user AND language = @language AND name = @name", connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        command.Parameters.AddWithValue("language", language);
        command.Parameters.AddWithValue("name", name);
        return command.ExecuteNonQuery() > 0;
    }

    public void MarkPending(ObjectId userId, string language, long now)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            "UPDATE packages SET status = @status, message = '', updated_at = @now WHERE user_id = @user AND language = @language", connection);
        command.Parameters.AddWithValue("status", PackageStates.Pending);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        command.Parameters.AddWithValue("language", language);
        command.ExecuteNonQuery();
    }

    public void SetStatus(ObjectId userId, string language, IReadOnlyDictionary<string, string> installed,
        Func<PackageRecord, (string Status, string Message)> outcome, long now) => store.InTransaction((connection, transaction) =>
        {
            // FOR UPDATE: a concurrent edit of these rows waits, so "requirement still equals" holds when the status is written.
            using var find = new NpgsqlCommand($"""
                SELECT {Columns} FROM packages WHERE user_id = @user AND language = @language AND name = ANY(@names) FOR UPDATE
                """, connection, transaction);
            find.Parameters.AddWithValue("user", PostgresStore.Text(userId));
            find.Parameters.AddWithValue("language", language);
            find.Parameters.AddWithValue("names", installed.Keys.ToArray());
            foreach (var row in ReadAll(find).Where(r => installed[r.Name] == r.Requirement))
            {
                var (status, message) = outcome(row);
                using var update = new NpgsqlCommand("""
                    UPDATE packages SET status = @status, message = @message, updated_at = @now
                    WHERE user_id = @user AND language = @language AND name = @name
                    """, connection, transaction);
                update.Parameters.AddWithValue("status", status);
                update.Parameters.AddWithValue("message", message);
                update.Parameters.AddWithValue("now", now);
                update.Parameters.AddWithValue("user", PostgresStore.Text(userId));
                update.Parameters.AddWithValue("language", language);
                update.Parameters.AddWithValue("name", row.Name);
                update.ExecuteNonQuery();
            }
            return 0;
        });

    public IReadOnlyList<(ObjectId UserId, string Language)> Unfinished()
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            "SELECT DISTINCT user_id, language FROM packages WHERE status IN (@pending, @installing)", connection);
        command.Parameters.AddWithValue("pending", PackageStates.Pending);
        command.Parameters.AddWithValue("installing", PackageStates.Installing);
        using var reader = command.ExecuteReader();
        var pairs = new List<(ObjectId, string)>();
        while (reader.Read()) pairs.Add((PostgresStore.Id(reader.GetString(0)), reader.GetString(1)));
        return pairs;
    }

    private static long Count(NpgsqlConnection connection, NpgsqlTransaction transaction, ObjectId userId, string language)
    {
        using var command = new NpgsqlCommand("SELECT count(*) FROM packages WHERE user_id = @user AND language = @language", connection, transaction);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        command.Parameters.AddWithValue("language", language);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Upserts one row; returns it as stored, or null when an existing row with the same requirement was left as it is.</summary>
    private static PackageRecord? Write(NpgsqlConnection connection, NpgsqlTransaction transaction, PackageRecord row, ObjectId userId, string language)
    {
        using var command = new NpgsqlCommand(Upsert, connection, transaction);
        command.Parameters.AddWithValue("id", row.Id);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        command.Parameters.AddWithValue("language", language);
        command.Parameters.AddWithValue("name", row.Name);
        command.Parameters.AddWithValue("requirement", row.Requirement);
        command.Parameters.AddWithValue("version", row.Version);
        command.Parameters.AddWithValue("status", row.Status);
        command.Parameters.AddWithValue("message", row.Message);
        command.Parameters.AddWithValue("added", row.AddedAt);
        command.Parameters.AddWithValue("updated", row.UpdatedAt);
        return ReadAll(command).SingleOrDefault();
    }

    private static List<PackageRecord> ReadAll(NpgsqlCommand command) => PostgresStore.ReadAll(command, reader => new PackageRecord
        {
            Id = reader.GetString(0),
            UserId = PostgresStore.Id(reader.GetString(1)),
            Language = reader.GetString(2),
            Name = reader.GetString(3),
            Requirement = reader.GetString(4),
            Version = reader.GetString(5),
            Status = reader.GetString(6),
            Message = reader.GetString(7),
            AddedAt = reader.GetInt64(8),
            UpdatedAt = reader.GetInt64(9),
        });
}
