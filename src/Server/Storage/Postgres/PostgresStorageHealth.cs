using Npgsql;

namespace PythOn.Server.Storage.Postgres;

/// <summary>The health and readiness probes against PostgreSQL: a read, and an upsert of one probe row.</summary>
public sealed class PostgresStorageHealth(PostgresStore store) : IStorageHealth
{
    public string Provider => "PostgreSQL";

    public bool Ping()
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand("SELECT 1", connection);
        return (int)command.ExecuteScalar()! == 1;
    }

    public void ProbeWrite()
    {
        using var connection = store.Open();
        using var command = new NpgsqlCommand(
            "INSERT INTO health_probe (id, at) VALUES (1, @at) ON CONFLICT (id) DO UPDATE SET at = excluded.at", connection);
        command.Parameters.AddWithValue("at", Clock.NowMs());
        command.ExecuteNonQuery();
    }
}
