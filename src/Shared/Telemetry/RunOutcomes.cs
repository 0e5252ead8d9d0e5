using PythOn.Sandbox.V1;

namespace PythOn.Telemetry;

/// <summary>
/// The outcome of a run as a metric label and span attribute: a small fixed set, never the run's output or code.
/// One file for both processes (src/Shared, linked into both), so the server's and the agent's labels mean the same.
/// </summary>
public static class RunOutcomes
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string IdleTimeout = "idle_timeout";
    public const string OutputCap = "output_cap";
    public const string StdinCap = "stdin_cap";
    public const string Oom = "oom";
    public const string ZkFailed = "zk_failed";
    /// <summary>The run did not happen or did not finish: refused, no agent, cancelled, failed in between.</summary>
    public const string Rejected = "rejected";
    public const string Unavailable = "unavailable";
    public const string Cancelled = "cancelled";

    /// <summary>The outcome of a run that ended with a result, the most specific reason first.</summary>
    public static string Of(RunResult result) =>
        result.TimedOut ? Timeout
        : result.IdleTimedOut ? IdleTimeout
        : result.StoppedAtStdinCap ? StdinCap
        : result.StoppedAtOutputCap ? OutputCap
        : result.OomKilled ? Oom
        : result.ZkDecryptionFailed ? ZkFailed
        : result.ExitCode == 0 ? Ok
        : Error;

    /// <summary>Bucket boundaries (seconds) of run, program and queue durations: 1 ms to 2 min.</summary>
    public static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
}
