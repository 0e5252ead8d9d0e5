using Npgsql;
using PythOn.Server.Auth;
using PythOn.Server.Execution;

namespace PythOn.Server.Storage.Postgres;

/// <summary>
/// Interactive tickets across replicas: a row per ticket keyed by its SHA-256. Redeeming is one conditional DELETE …
/// RETURNING, so of two replicas redeeming the same ticket at once exactly one gets the account. Expiry is judged by
/// the database's clock; expired rows are pruned whenever a ticket is issued, so the table holds about a minute of tickets.
/// </summary>
public sealed class PostgresInteractiveTickets(PostgresStore store) : IInteractiveTickets
{
    public string Issue(Caller caller, DateTimeOffset expires)
    {
        var ticket = OpaqueTokens.New(OpaqueTokens.TicketPrefix);
        using var batch = store.DataSource.CreateBatch();
        batch.BatchCommands.Add(new("DELETE FROM interactive_tickets WHERE expires_at <= now()"));
        batch.BatchCommands.Add(new("INSERT INTO interactive_tickets (hash, user_id, email, auth_method, expires_at) VALUES ($1, $2, $3, $4, $5)")
        {
            Parameters =
            {
                new() { Value = OpaqueTokens.Hash(ticket) }, new() { Value = PostgresStore.Text(caller.UserId) },
                new() { Value = caller.Email }, new() { Value = caller.AuthMethod }, new() { Value = expires.ToUniversalTime() },
            },
        });
        batch.ExecuteNonQuery();
        return ticket;
    }

    public Caller? Redeem(string ticket)
    {
        using var command = store.DataSource.CreateCommand(
            "DELETE FROM interactive_tickets WHERE hash = $1 AND expires_at > now() RETURNING user_id, email, auth_method");
        command.Parameters.Add(new NpgsqlParameter { Value = OpaqueTokens.Hash(ticket) });
        using var reader = command.ExecuteReader();
        return reader.Read() ? new Caller(PostgresStore.Id(reader.GetString(0)), reader.GetString(1), reader.GetString(2), "") : null;
    }
}
