using LiteDB;
using Npgsql;
using PythOn.Server.Packages;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// A list's install lock is its row in package_install_locks, locked FOR UPDATE SKIP LOCKED by a transaction that stays
/// open for the install: a busy list is skipped at once, and when a replica dies its connection closes and the lock goes.
/// An operator's idle_in_transaction_session_timeout shorter than an install would end the lock early (then a second
/// replica may install the same list again: wasted work, never a wrong status).
/// </summary>
public sealed class PostgresInstallLocks(PostgresStore store) : IInstallLocks
{
    public bool Shared => true;

    public IDisposable? TryLock(ObjectId userId, string language)
    {
        // Committed on its own first: an uncommitted insert would make other replicas wait on it instead of skipping.
        using (var ensure = store.DataSource.CreateCommand("INSERT INTO package_install_locks (user_id, language) VALUES ($1, $2) ON CONFLICT DO NOTHING"))
        {
            ensure.Parameters.Add(new NpgsqlParameter { Value = userId.ToString() });
            ensure.Parameters.Add(new NpgsqlParameter { Value = language });
            ensure.ExecuteNonQuery();
        }

        var connection = store.DataSource.OpenConnection();
        try
        {
            var transaction = connection.BeginTransaction();
            using var select = new NpgsqlCommand(
                "SELECT 1 FROM package_install_locks WHERE user_id = $1 AND language = $2 FOR UPDATE SKIP LOCKED", connection, transaction)
            {
                Parameters = { new() { Value = userId.ToString() }, new() { Value = language } },
            };
            if (select.ExecuteScalar() is null)
            {
                transaction.Dispose();
                connection.Dispose();
                return null;
            }
            return new Held(connection, transaction);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                transaction.Commit();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection broke: the lock went with it, which is all releasing means.
            }
            finally
            {
                transaction.Dispose();
                connection.Dispose();
            }
        }
    }
}
