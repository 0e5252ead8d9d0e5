using Npgsql;
using PythOn.Server.ZeroKnowledge;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// The ZK failure budget across replicas: one row per attempt and budget. An attempt in progress expires after
/// <see cref="InProgressLifetime"/> (its replica may have died); a failure counts for <see cref="ZkFailureLimiter.Window"/>
/// from when it happened (a sliding window: never more than the limit of failures in any 15 minutes). The budgets'
/// transaction locks make the check and the reservation one step.
/// </summary>
public sealed class PostgresZkAttemptLedger(PostgresStore store) : IZkAttemptLedger
{
    /// <summary>Longer than any run (its timeout and its wait for packages): a live attempt never expires early.</summary>
    public static readonly TimeSpan InProgressLifetime = TimeSpan.FromMinutes(30);

    public ZkReservation Reserve(IReadOnlyList<ZkBudget> budgets)
    {
        var keys = budgets.Select(b => b.Key).ToArray();
        using var connection = store.DataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var prepare = new NpgsqlBatch(connection, transaction))
        {
            // Locks taken in key order, so two attempts never wait on each other in a cycle.
            foreach (var key in keys.Order(StringComparer.Ordinal))
                prepare.BatchCommands.Add(new("SELECT pg_advisory_xact_lock(hashtextextended('pyth-on zk ' || $1, 0))") { Parameters = { new() { Value = key } } });
            prepare.BatchCommands.Add(new("""
                DELETE FROM zk_attempts WHERE budget_key = ANY($1)
                  AND ((failed AND at < now() - $2) OR (NOT failed AND expires_at < now()))
                """) { Parameters = { new() { Value = keys }, new() { Value = ZkFailureLimiter.Window } } });
            prepare.ExecuteNonQuery();
        }

        var counts = new Dictionary<string, (long Failures, long InProgress, TimeSpan RetryAfter)>(StringComparer.Ordinal);
        using (var select = new NpgsqlCommand("""
            SELECT budget_key, count(*) FILTER (WHERE failed), count(*) FILTER (WHERE NOT failed),
                   coalesce(min(at) FILTER (WHERE failed) + $2 - now(), interval '0')
            FROM zk_attempts WHERE budget_key = ANY($1) GROUP BY budget_key
            """, connection, transaction) { Parameters = { new() { Value = keys }, new() { Value = ZkFailureLimiter.Window } } })
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
                counts[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<TimeSpan>(3));
        }

        foreach (var budget in budgets)
        {
            var (failures, inProgress, retryAfter) = counts.GetValueOrDefault(budget.Key);
            if (failures >= budget.Limit) return new ZkReservation.Refused(budget, InProgress: false, retryAfter);
            if (failures + inProgress >= budget.Limit) return new ZkReservation.Refused(budget, InProgress: true, TimeSpan.Zero);
        }

        var id = Guid.NewGuid();
        using (var insert = new NpgsqlCommand("""
            INSERT INTO zk_attempts (id, budget_key, at, expires_at) SELECT $1, key, now(), now() + $3 FROM unnest($2::text[]) AS key
            """, connection, transaction) { Parameters = { new() { Value = id }, new() { Value = keys }, new() { Value = InProgressLifetime } } })
            insert.ExecuteNonQuery();
        transaction.Commit();
        return new ZkReservation.Granted(id);
    }

    public void Finish(ZkReservation.Granted reservation, bool failed)
    {
        using var command = store.DataSource.CreateCommand(failed
            ? "UPDATE zk_attempts SET failed = true, at = now(), expires_at = NULL WHERE id = $1"
            : "DELETE FROM zk_attempts WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = (Guid)reservation.Token });
        command.ExecuteNonQuery();
    }
}
