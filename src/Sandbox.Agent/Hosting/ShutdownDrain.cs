using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Runs;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>
/// Graceful shutdown. From the moment the host begins stopping (SIGTERM), new runs and installs are refused with
/// UNAVAILABLE (the server tries another agent); runs in flight get up to <c>Agent:ShutdownGraceSeconds</c> (the host's
/// shutdown timeout) to finish. Kestrel itself waits for calls in flight when it stops; this service makes the same wait
/// explicit for the hosted services: registered last, it stops first, so slots are removed only after the drain.
/// </summary>
public sealed class ShutdownDrain(IHostApplicationLifetime lifetime, IOptions<AgentOptions> options, ILogger<ShutdownDrain> log)
    : IHostedService
{
    private readonly SemaphoreSlim _changed = new(0);
    private int _inFlight;

    public bool Draining => lifetime.ApplicationStopping.IsCancellationRequested;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Counts a run as in flight until the lease is disposed; refuses it once the agent is draining.</summary>
    public IDisposable EnterRun()
    {
        // Count first, then look: a drain that read zero before this increment is seen here as Draining.
        Interlocked.Increment(ref _inFlight);
        if (Draining)
        {
            Leave();
            throw RefusedWhileDraining("run");
        }
        return new Lease(this);
    }

    public static RunRejectedException RefusedWhileDraining(string what) =>
        new(RunRejection.Unavailable, $"this sandbox agent is shutting down and takes no new {what}; try again (another agent, or this one after its restart)");

    private void Leave()
    {
        Interlocked.Decrement(ref _inFlight);
        _changed.Release();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <param name="cancellationToken">The host's shutdown deadline (Agent:ShutdownGraceSeconds after SIGTERM).</param>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var grace = options.Value.ShutdownGraceSeconds;
        if (InFlight > 0)
            log.LogInformation("Shutting down: waiting up to {Grace} s for {Count} run(s) in flight", grace, InFlight);
        try
        {
            while (InFlight > 0)
                await _changed.WaitAsync(cancellationToken);
            log.LogInformation("Shutting down: no run in flight");
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("Shutting down: {Count} run(s) still in flight after the grace of {Grace} s are ended with their slots",
                InFlight, grace);
        }
    }

    private sealed class Lease(ShutdownDrain drain) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                drain.Leave();
        }
    }
}
