using JsonSerializer = System.Text.Json.JsonSerializer;
using LiteDB;
using Npgsql;
using NpgsqlTypes;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// The audit log in PostgreSQL: one table for every replica, ids from an identity column. An append holds the log's
/// advisory lock until it commits, so appends (each a group commit) are serialized across replicas and id order is
/// commit order: a reader paging "newest first" (id descending) never later finds an entry appear with an id below
/// one it has already seen. The lock costs one wait per group commit, not per entry.
/// </summary>
public sealed class PostgresAuditRepository(PostgresStore store) : IAuditRepository
{
    /// <summary>Second key of the append lock (first: <see cref="PostgresStore.LockSpace"/>).</summary>
    private const int AppendLock = 1;

    private const string Columns = "id, user_id, time, action, resource, outcome, client_address, details";

    public void Append(IReadOnlyList<AuditRecord> entries)
    {
        if (entries.Count == 0) return;
        var ids = store.InTransaction((connection, transaction) =>
        {
            using (var lockLog = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresStore.LockSpace}, {AppendLock})", connection, transaction))
                lockLog.ExecuteNonQuery();

            // One round trip; a batch's results come back in its commands' order, so ids map back to entries.
            using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var entry in entries)
            {
                var command = new NpgsqlBatchCommand("""
                    INSERT INTO audit (user_id, time, action, resource, outcome, client_address, details)
                    VALUES (@user, @time, @action, @resource, @outcome, @client, @details) RETURNING id
                    """);
                command.Parameters.Add(new NpgsqlParameter("user", NpgsqlDbType.Text)
                    { Value = entry.UserId is { } user ? PostgresStore.Text(user) : DBNull.Value });
                command.Parameters.AddWithValue("time", entry.Time);
                command.Parameters.AddWithValue("action", Storable(entry.Action));
                command.Parameters.AddWithValue("resource", Storable(entry.Resource));
                command.Parameters.AddWithValue("outcome", Storable(entry.Outcome));
                command.Parameters.AddWithValue("client", Storable(entry.ClientAddress));
                command.Parameters.AddWithValue("details", NpgsqlDbType.Jsonb,
                    JsonSerializer.Serialize(entry.Details.ToDictionary(d => Storable(d.Key), d => Storable(d.Value))));
                batch.BatchCommands.Add(command);
            }
            var assigned = new List<long>(entries.Count);
            using var reader = batch.ExecuteReader();
            do
            {
                while (reader.Read()) assigned.Add(reader.GetInt64(0));
            } while (reader.NextResult());
            return assigned;
        });
        // Ids are set only once the entries are committed.
        for (var i = 0; i < entries.Count; i++) entries[i].Id = ids[i];
    }

    /// <summary>
    /// An audit entry is never lost to its text: U+0000, which PostgreSQL text and jsonb cannot hold (a caller's
    /// input can carry one into a resource or detail), is stored as U+FFFD.
    /// </summary>
    private static string Storable(string value) => value.Replace('\0', '\uFFFD');

    public IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count)
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM audit WHERE user_id = @user" + (beforeId is null ? "" : " AND id < @before") +
            " ORDER BY id DESC LIMIT @count", connection);
        command.Parameters.AddWithValue("user", PostgresStore.Text(userId));
        if (beforeId is { } before) command.Parameters.AddWithValue("before", before);
        command.Parameters.AddWithValue("count", Math.Max(count, 0));
        using var reader = command.ExecuteReader();
        var rows = new List<AuditRecord>();
        while (reader.Read())
            rows.Add(new AuditRecord
            {
                Id = reader.GetInt64(0),
                UserId = reader.IsDBNull(1) ? null : PostgresStore.Id(reader.GetString(1)),
                Time = reader.GetInt64(2),
                Action = reader.GetString(3),
                Resource = reader.GetString(4),
                Outcome = reader.GetString(5),
                ClientAddress = reader.GetString(6),
                Details = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(7)) ?? [],
            });
        return rows;
    }
}
