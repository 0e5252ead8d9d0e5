using System.Text.Json;
using ObjectId = LiteDB.ObjectId;
using Microsoft.Data.Sqlite;
using PythOn.Server.Hosting;

namespace PythOn.Server.Storage.Sqlite;

/// <summary>
/// The audit log of a LiteDB deployment, in a SQLite file of its own beside the LiteDB file. Every run appends an entry
/// and its response waits until the entry is durable: SQLite (write-ahead log, synchronous=FULL) makes a commit durable
/// with one fsync of its log, where LiteDB 5.0.20 syncs after each of the five pages one entry writes (README,
/// "The audit store"). Appends come from one thread (AuditLog's writer) on one connection; pages are read on pooled
/// connections of their own, beside it (readers do not wait for the writer in WAL mode).
/// </summary>
public sealed class SqliteAuditRepository : IAuditRepository, IDisposable
{
    public const string FileName = "pyth-on-audit.db";
    private const string Columns = "id, user_id, time, action, resource, outcome, client_address, details";
    // An insert's parameters, in the order of Columns: the statement's VALUES and the values bound to them come from it.
    private static readonly string[] ValueParameters = ["$id", "$user", "$time", "$action", "$resource", "$outcome", "$client", "$details"];

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _writeLock = new();

    public SqliteAuditRepository(string directory)
    {
        DataDirectory.Ensure(directory);
        Path = System.IO.Path.Combine(directory, FileName);
        // Owner-only, like the LiteDB file: created here with its mode before SQLite opens it, and SQLite gives its
        // -wal and -shm files the database file's mode.
        if (!File.Exists(Path))
            using (File.Create(Path)) { }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWrite }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id TEXT,
                time INTEGER NOT NULL,
                action TEXT NOT NULL,
                resource TEXT NOT NULL,
                outcome TEXT NOT NULL,
                client_address TEXT NOT NULL,
                details TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_user_id ON audit (user_id, id);
            CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
            """);
    }

    public string Path { get; }

    // AUTOINCREMENT: ids grow in append order and are never reused, not even after the newest entry is gone.
    public void Append(IReadOnlyList<AuditRecord> entries) => Insert(entries, keepIds: false);

    /// <summary>Entries of an earlier store with their ids kept (after them, new ids continue above the largest); an id
    /// already here is skipped, so an import cut short can run again.</summary>
    public void Import(IReadOnlyList<AuditRecord> entries) => Insert(entries, keepIds: true);

    public IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count)
    {
        using var connection = OpenReader();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT {Columns} FROM audit WHERE user_id = $user AND id < $before ORDER BY id DESC LIMIT $count";
        query.Parameters.AddWithValue("$user", userId.ToString());
        query.Parameters.AddWithValue("$before", beforeId ?? long.MaxValue);
        query.Parameters.AddWithValue("$count", Math.Max(count, 0)); // SQLite takes a negative LIMIT as none
        using var rows = query.ExecuteReader();
        var page = new List<AuditRecord>();
        while (rows.Read())
            page.Add(new AuditRecord
            {
                Id = rows.GetInt64(0),
                UserId = rows.IsDBNull(1) ? null : new ObjectId(rows.GetString(1)),
                Time = rows.GetInt64(2),
                Action = rows.GetString(3),
                Resource = rows.GetString(4),
                Outcome = rows.GetString(5),
                ClientAddress = rows.GetString(6),
                Details = JsonSerializer.Deserialize<Dictionary<string, string>>(rows.GetString(7)) ?? [],
            });
        return page;
    }

    /// <summary>A cheap read that fails when the file is unusable.</summary>
    public bool Ping()
    {
        using var connection = OpenReader();
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT count(*) FROM health_probe";
        return query.ExecuteScalar() is not null;
    }

    /// <summary>A durable write reaches the file. Throws with the reason when not.</summary>
    public void ProbeWrite()
    {
        lock (_writeLock)
            Execute(_writer, $"INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, {Clock.NowMs()})");
    }

    private void Insert(IReadOnlyList<AuditRecord> entries, bool keepIds)
    {
        lock (_writeLock)
        {
            using var transaction = _writer.BeginTransaction();
            using var insert = _writer.CreateCommand();
            insert.Transaction = transaction;
            // An imported id already here is skipped; nothing else is (OR IGNORE would also drop a row that breaks NOT NULL).
            insert.CommandText = $"INSERT INTO audit ({Columns}) VALUES ({string.Join(", ", ValueParameters)}) " +
                                 (keepIds ? "ON CONFLICT (id) DO NOTHING " : "") + "RETURNING id";
            var parameters = ValueParameters.Select(name => insert.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
            var ids = new long?[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                // An entry read from an earlier store may hold null where LiteDB's default mapper stored "" as null.
                object?[] values = [keepIds ? entry.Id : null, entry.UserId?.ToString(), entry.Time, entry.Action ?? "",
                    entry.Resource ?? "", entry.Outcome ?? "", entry.ClientAddress ?? "", JsonSerializer.Serialize(entry.Details ?? [])];
                for (var p = 0; p < values.Length; p++) parameters[p].Value = values[p] ?? DBNull.Value;
                ids[i] = insert.ExecuteScalar() as long?; // null: an imported id that is already here
            }
            transaction.Commit();
            // Only once committed: a failed append leaves its records as they were.
            for (var i = 0; i < entries.Count; i++)
                if (ids[i] is { } id) entries[i].Id = id;
        }
    }

    /// <summary>A pooled connection of its own: in WAL mode a reader does not wait for the writer.</summary>
    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        SqliteConnection.ClearPool(_writer); // the readers' idle connections to this file
        _writer.Dispose();
    }
}
