using System.Diagnostics;
using Grpc.Core;
using PythOn.Sandbox.V1;
using PythOn.Telemetry;

namespace PythOn.Server.Telemetry;

/// <summary>
/// The server's side of one run's trace and metrics: the "run" span (the calls to agents are its children), the
/// "queue" span from handing the run over until an agent started it, and on the end the run counter and durations
/// by language and outcome.
/// </summary>
public sealed class RunTelemetry : IDisposable
{
    private readonly Activity? _span;
    private readonly string _language;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly DateTime _startUtc = DateTime.UtcNow;
    private string? _outcome;
    private bool _started;

    private RunTelemetry(string language, string kind)
    {
        _language = language;
        _span = ServerTelemetry.Source.StartActivity("run");
        _span?.SetTag("pyth_on.language", language);
        _span?.SetTag("pyth_on.run.kind", kind);
    }

    /// <param name="kind">"batch", "interactive" or "zk".</param>
    public static RunTelemetry Start(string language, string kind) => new(language, kind);

    public void Identify(string runId) => _span?.SetTag("pyth_on.run.id", runId);

    /// <summary>An agent has taken the run (its first event arrived) after <paramref name="attempts"/> agents were tried.</summary>
    public void Started(int attempts)
    {
        if (_started) return;
        _started = true;
        var waited = Stopwatch.GetElapsedTime(_start);
        ServerTelemetry.QueueWait.Record(waited.TotalSeconds, Language);
        ServerTelemetry.Span("queue", _startUtc, _startUtc + waited,
            new("pyth_on.queue.for", "agent"), new("pyth_on.queue.agents_tried", attempts));
    }

    public void Ended(RunResult result)
    {
        _outcome = RunOutcomes.Of(result);
        _span?.SetTag("pyth_on.run.exit_code", result.ExitCode);
        _span?.SetTag("pyth_on.run.program_ms", result.DurationMs);
    }

    public void Failed(StatusCode code)
    {
        _outcome ??= code switch
        {
            StatusCode.Cancelled => RunOutcomes.Cancelled,
            StatusCode.Unavailable or StatusCode.DeadlineExceeded => RunOutcomes.Unavailable,
            _ => RunOutcomes.Rejected,
        };
        ServerTelemetry.Failed(_span, code);
    }

    public void Dispose()
    {
        var outcome = _outcome ?? RunOutcomes.Unavailable;
        _span?.SetTag("pyth_on.run.outcome", outcome);
        var tags = new TagList { { "pyth_on.language", _language }, { "pyth_on.run.outcome", outcome } };
        ServerTelemetry.Runs.Add(1, tags);
        ServerTelemetry.RunDuration.Record(Stopwatch.GetElapsedTime(_start).TotalSeconds, tags);
        _span?.Dispose();
    }

    private KeyValuePair<string, object?> Language => new("pyth_on.language", _language);
}
