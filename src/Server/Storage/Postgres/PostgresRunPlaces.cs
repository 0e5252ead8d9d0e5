using Npgsql;
using PythOn.Server.Execution;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// The per-user run cap across replicas: a row per run in progress, taken under a per-user transaction lock so the count
/// and the insert are one step. Rows carry an expiry that this replica's <see cref="RunPlaceHeartbeat"/> keeps pushing
/// forward; the rows of a replica that died expire after <see cref="Lifetime"/> and stop counting.
/// </summary>
public sealed class PostgresRunPlaces(PostgresStore store) : IRunPlaces
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(15);

    /// <summary>This process's name on its rows (the heartbeat renews them by it).</summary>
    public string Replica { get; } = Guid.NewGuid().ToString("N");

    public object? TryTake(string userId, int cap, out int held)
    {
        var id = Guid.NewGuid();
        using var connection = store.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("SELECT pg_advisory_xact_lock(hashtextextended('pyth-on run places ' || $1, 0))") { Parameters = { new() { Value = userId } } },
                new("DELETE FROM run_places WHERE user_id = $1 AND expires_at < now()") { Parameters = { new() { Value = userId } } },
                new("""
                    INSERT INTO run_places (id, user_id, replica, expires_at)
                    SELECT $1, $2, $3, now() + $4 WHERE (SELECT count(*) FROM run_places WHERE user_id = $2) < $5
                    """)
                {
                    Parameters = { new() { Value = id }, new() { Value = userId }, new() { Value = Replica }, new() { Value = Lifetime }, new() { Value = (long)cap } },
                },
            },
        };
        batch.ExecuteNonQuery();
        var took = batch.BatchCommands[2].RecordsAffected == 1;
        using var count = new NpgsqlCommand("SELECT count(*) FROM run_places WHERE user_id = $1", connection, transaction)
        {
            Parameters = { new() { Value = userId } },
        };
        var after = (long)count.ExecuteScalar()!;
        transaction.Commit();
        held = (int)(took ? after - 1 : after);
        return took ? id : null;
    }

    public void Release(string userId, object place)
    {
        using var command = store.DataSource.CreateCommand("DELETE FROM run_places WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = (Guid)place });
        command.ExecuteNonQuery();
    }

    public int Held(string userId)
    {
        using var command = store.DataSource.CreateCommand("SELECT count(*) FROM run_places WHERE user_id = $1 AND expires_at >= now()");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        return (int)(long)command.ExecuteScalar()!;
    }

    /// <summary>Pushes this replica's rows' expiry forward (called by the heartbeat).</summary>
    public void Renew()
    {
        using var command = store.DataSource.CreateCommand("UPDATE run_places SET expires_at = now() + $1 WHERE replica = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = Lifetime });
        command.Parameters.Add(new NpgsqlParameter { Value = Replica });
        command.ExecuteNonQuery();
    }
}
