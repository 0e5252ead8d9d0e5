using Npgsql;
using PythOn.Hosting;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// The PostgreSQL schema as ordered, versioned migrations. <see cref="Apply"/> runs at start: in one transaction under
/// an advisory lock, so replicas starting together wait for each other and each migration runs exactly once, and a
/// failed migration leaves the database as it was. schema_version holds one row per applied migration.
/// A migration, once released, is never edited: a change is a new one with the next number.
/// </summary>
public static class PostgresMigrations
{
    /// <summary>Second key of the migration lock (first: <see cref="PostgresStore.LockSpace"/>).</summary>
    private const int LockKey = 0;

    public sealed record Migration(int Version, string Description, string Sql);

    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "users, API keys, refresh tokens, secrets, packages, ZK code, audit log", """
            CREATE TABLE users (
                id                text   PRIMARY KEY,
                email             text   NOT NULL UNIQUE,
                password_hash     text   NOT NULL,
                created_at        bigint NOT NULL,
                tokens_revoked_at bigint NOT NULL
            );
            CREATE TABLE api_keys (
                id         text   PRIMARY KEY,
                user_id    text   NOT NULL,
                key_hash   text   NOT NULL UNIQUE,
                created_at bigint NOT NULL
            );
            CREATE INDEX api_keys_user ON api_keys (user_id);
            CREATE TABLE refresh_tokens (
                id         text    PRIMARY KEY,
                user_id    text    NOT NULL,
                family_id  text    NOT NULL,
                expires_at bigint  NOT NULL,
                used_at    bigint,
                revoked    boolean NOT NULL
            );
            CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
            CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
            CREATE TABLE secrets (
                user_id    text   NOT NULL,
                name       text   NOT NULL,
                id         text   NOT NULL,
                nonce      bytea  NOT NULL,
                ciphertext bytea  NOT NULL,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                PRIMARY KEY (user_id, name)
            );
            CREATE TABLE packages (
                user_id     text   NOT NULL,
                language    text   NOT NULL,
                name        text   NOT NULL,
                id          text   NOT NULL,
                requirement text   NOT NULL,
                version     text   NOT NULL,
                status      text   NOT NULL,
                message     text   NOT NULL,
                added_at    bigint NOT NULL,
                updated_at  bigint NOT NULL,
                PRIMARY KEY (user_id, language, name)
            );
            CREATE INDEX packages_unfinished ON packages (user_id, language) WHERE status IN ('pending', 'installing');
            CREATE TABLE zk_code (
                user_id     text   NOT NULL,
                name        text   NOT NULL,
                id          text   NOT NULL,
                language    text   NOT NULL,
                description text   NOT NULL,
                salt        bytea  NOT NULL,
                nonce       bytea  NOT NULL,
                ciphertext  bytea  NOT NULL,
                created_at  bigint NOT NULL,
                updated_at  bigint NOT NULL,
                PRIMARY KEY (user_id, name)
            );
            CREATE TABLE audit (
                id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id        text,
                time           bigint NOT NULL,
                action         text   NOT NULL,
                resource       text   NOT NULL,
                outcome        text   NOT NULL,
                client_address text   NOT NULL,
                details        jsonb  NOT NULL
            );
            CREATE INDEX audit_user ON audit (user_id, id DESC);
            CREATE TABLE health_probe (
                id integer PRIMARY KEY,
                at bigint  NOT NULL
            );
            """),
        new(2, "run places, ZK attempts and package install locks: what replicas coordinate through", CoordinationSchema.Create),
        new(3, "interactive WebSocket tickets, by SHA-256, so any replica redeems them", """
            CREATE TABLE interactive_tickets (
                hash        text        PRIMARY KEY,
                user_id     text        NOT NULL,
                email       text        NOT NULL,
                auth_method text        NOT NULL,
                expires_at  timestamptz NOT NULL
            );
            CREATE INDEX interactive_tickets_expiry ON interactive_tickets (expires_at);
            """),
    ];

    public static int Latest => All[^1].Version;

    /// <summary>
    /// Brings the database to <see cref="Latest"/>; returns the versions it applied (none when another replica or an
    /// earlier start already did). A database at a version this code does not know throws <see cref="InvalidSettingException"/>.
    /// </summary>
    public static IReadOnlyList<int> Apply(NpgsqlDataSource dataSource)
    {
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({PostgresStore.LockSpace}, {LockKey})");
        Execute(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version     integer     PRIMARY KEY,
                description text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """);
        var current = Current(connection, transaction);
        if (current > Latest)
            throw new InvalidSettingException(
                $"PythOn:Storage:ConnectionString: the database has schema version {current}, newer than this server's {Latest}: " +
                "it was migrated by a newer Pyth-On. Run that version (or newer), or restore a backup taken before the upgrade.");

        var applied = new List<int>();
        foreach (var migration in All.Where(m => m.Version > current))
        {
            Execute(connection, transaction, migration.Sql);
            using var record = new NpgsqlCommand("INSERT INTO schema_version (version, description) VALUES (@v, @d)", connection, transaction);
            record.Parameters.AddWithValue("v", migration.Version);
            record.Parameters.AddWithValue("d", migration.Description);
            record.ExecuteNonQuery();
            applied.Add(migration.Version);
        }
        transaction.Commit();
        return applied;
    }

    /// <summary>The highest applied version; 0 for an empty database.</summary>
    public static int Current(NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    {
        using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection, transaction);
        return (int)command.ExecuteScalar()!;
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }
}
