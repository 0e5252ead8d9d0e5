namespace PythOn.Server.Storage.Postgres;

/// <summary>Keeps this replica's run places alive: renews them at a third of their lifetime.</summary>
public sealed class RunPlaceHeartbeat(PostgresRunPlaces places, ILogger<RunPlaceHeartbeat> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PostgresRunPlaces.Lifetime / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    places.Renew();
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                {
                    // The database is away: the places may lapse, which loosens the cap for a while, never tightens it.
                    log.LogWarning("Renewing this replica's run places failed: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
