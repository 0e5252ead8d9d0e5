using System.Net.Sockets;
using LiteDB;
using Npgsql;
using PythOn.Hosting;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// The PostgreSQL database every repository shares: one pooled <see cref="NpgsqlDataSource"/>, transactions, and the
/// advisory locks that make read-then-write steps atomic across replicas. <see cref="Connect"/> migrates the schema.
/// Ids (LiteDB ObjectIds) are stored as their 24 hex digits.
/// </summary>
public sealed class PostgresStore : IDisposable
{
    private const string Setting = "PythOn:Storage:ConnectionString";

    /// <summary>The first key of every advisory lock this server takes ("PyOn"), so other users of the database do not collide.</summary>
    internal const int LockSpace = 0x50794F6E;

    private PostgresStore(NpgsqlDataSource dataSource, string where)
    {
        DataSource = dataSource;
        Where = where;
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>"host:port, database d, user u", for messages; never the password.</summary>
    public string Where { get; }

    /// <summary>
    /// Opens the database and brings its schema to <see cref="PostgresMigrations.Latest"/>. A connection string that
    /// cannot work (malformed, unreachable, refused, a schema newer than this code) throws <see cref="InvalidSettingException"/>
    /// naming the server, never the password.
    /// </summary>
    public static PostgresStore Connect(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            // The parser's message may quote a value, and a value may be the password.
            throw new InvalidSettingException($"{Setting} is not a valid PostgreSQL connection string " +
                "(expected e.g. Host=db;Port=5432;Database=pyth_on;Username=pyth_on;Password=...).");
        }
        if (string.IsNullOrWhiteSpace(builder.Host))
            throw new InvalidSettingException($"{Setting} names no Host (e.g. Host=db;Port=5432;Database=pyth_on;Username=pyth_on;Password=...).");

        var where = $"{builder.Host}:{builder.Port}, database {builder.Database ?? builder.Username}, user {builder.Username}";
        var store = new PostgresStore(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build(), where);
        try
        {
            PostgresMigrations.Apply(store.DataSource);
            return store;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            store.Dispose();
            throw new InvalidSettingException($"{Setting}: cannot use PostgreSQL at {where}: {Reason(e)}");
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The server's own words (SQLSTATE and message) or the innermost network error; no connection string.</summary>
    private static string Reason(Exception e) => e switch
    {
        PostgresException pg => $"{pg.SqlState} {pg.MessageText}",
        { InnerException: { } inner } => Reason(inner),
        _ => e.Message,
    };

    public NpgsqlConnection Open() => DataSource.OpenConnection();

    /// <summary>Runs <paramref name="work"/> in one transaction (read committed), committed when it returns, rolled back when it throws.</summary>
    public T InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> work)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var result = work(connection, transaction);
        transaction.Commit();
        return result;
    }

    /// <summary>Every row of a query, each made by <paramref name="row"/>.</summary>
    public static List<T> ReadAll<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> row)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(row(reader));
        return rows;
    }

    /// <summary>
    /// Inside a transaction holding the user's lock: whether a put of <paramref name="name"/> into the user's rows of
    /// <paramref name="table"/> fits, i.e. the name exists already (a replacement) or the user has fewer than
    /// <paramref name="max"/> rows.
    /// </summary>
    internal static bool RoomFor(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, ObjectId userId, string name, int max)
    {
        using var count = new NpgsqlCommand(
            $"SELECT count(*), coalesce(bool_or(name = @name), false) FROM {table} WHERE user_id = @user", connection, transaction);
        count.Parameters.AddWithValue("user", Text(userId));
        count.Parameters.AddWithValue("name", name);
        using var reader = count.ExecuteReader();
        reader.Read();
        return reader.GetBoolean(1) || reader.GetInt64(0) < max;
    }

    /// <summary>Deletes the user's row named <paramref name="name"/> from <paramref name="table"/>; false when there was none.</summary>
    internal bool DeleteNamed(string table, ObjectId userId, string name)
    {
        if (Unstorable(name)) return false;
        using var connection = Open();
        using var command = new NpgsqlCommand($"DELETE FROM {table} WHERE user_id = @user AND name = @name", connection);
        command.Parameters.AddWithValue("user", Text(userId));
        command.Parameters.AddWithValue("name", name);
        return command.ExecuteNonQuery() > 0;
    }

    /// <summary>What a per-user advisory lock guards: each store's per-user limit has its own.</summary>
    internal enum UserLock
    {
        Secrets = 1,
        ZkCode = 2,
        Packages = 3,
    }

    /// <summary>
    /// Takes the transaction-scoped lock of <paramref name="kind"/> for one user: every replica's writer of that user's
    /// rows waits here until the holder commits, so a count followed by an insert is one atomic step. Users whose ids
    /// hash alike merely wait for each other.
    /// </summary>
    internal static void LockUser(NpgsqlConnection connection, NpgsqlTransaction transaction, UserLock kind, ObjectId userId)
    {
        using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@space + @kind, hashtext(@user))", connection, transaction);
        command.Parameters.AddWithValue("space", LockSpace);
        command.Parameters.AddWithValue("kind", (int)kind);
        command.Parameters.AddWithValue("user", Text(userId));
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// PostgreSQL text cannot hold U+0000, so no stored value contains one: a lookup by such a key answers "absent"
    /// without asking (instead of failing), as LiteDB would for a key it does not have.
    /// </summary>
    public static bool Unstorable(string? value) => value is not null && value.Contains('\0');

    public static string Text(ObjectId id) => id.ToString();

    public static ObjectId Id(string hex) => new(hex);

    public void Dispose() => DataSource.Dispose();
}
