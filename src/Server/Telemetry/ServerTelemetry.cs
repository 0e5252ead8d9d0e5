using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using PythOn.Telemetry;

namespace PythOn.Server.Telemetry;

/// <summary>
/// The server's own spans and metric instruments, all defined here. What they may carry: languages, outcomes,
/// status code names, counts, durations, run ids. Never code, output, stdin, secrets, credentials, emails, messages
/// of errors (they may quote input) or URL query strings.
/// </summary>
public static class ServerTelemetry
{
    public const string Name = "PythOn.Server";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Runs that ended, by language and outcome (ok, error, timeout, ..., unavailable, rejected, cancelled).</summary>
    public static readonly Counter<long> Runs = Meter.CreateCounter<long>("pyth_on.runs", "{run}", "Runs by language and outcome");

    /// <summary>A run from the moment the server hands it to the sandbox until its result (or failure).</summary>
    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram("pyth_on.run.duration", "s",
        "Run duration as the server sees it, by language and outcome", advice: Buckets);

    /// <summary>From handing a run to the sandbox until an agent started it (packages ready, an agent and a slot found).</summary>
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram("pyth_on.run.queue.duration", "s",
        "Time a run waited for its packages, an agent and a slot, by language", advice: Buckets);

    /// <summary>Package installs the server asked an agent for, by language and outcome (ready, cached, failed, still_installing).</summary>
    public static readonly Counter<long> PackageInstalls = Meter.CreateCounter<long>("pyth_on.package.installs", "{install}",
        "Package set installs by language and outcome");

    /// <summary>Rejected credentials, by method (api_key, jwt, password, refresh_token).</summary>
    public static readonly Counter<long> AuthFailures = Meter.CreateCounter<long>("pyth_on.auth.failures", "{failure}",
        "Rejected credentials by method");

    /// <summary>Requests refused by a limit, by policy (auth, generate, zk-encrypt, global, runs_per_user).</summary>
    public static readonly Counter<long> RateLimitRejections = Meter.CreateCounter<long>("pyth_on.rate_limit.rejections", "{request}",
        "Requests refused by a rate limit or the per-user run cap, by policy");

    private static InstrumentAdvice<double> Buckets => new() { HistogramBucketBoundaries = RunOutcomes.DurationBuckets };

    public static void AuthFailed(string method) => AuthFailures.Add(1, new KeyValuePair<string, object?>("method", method));

    public static void RateLimited(string policy) => RateLimitRejections.Add(1, new KeyValuePair<string, object?>("policy", policy));

    /// <summary>Records a span that has already happened (its start and end measured), as a child of the current one.</summary>
    public static void Span(string name, DateTime startUtc, DateTime endUtc, params KeyValuePair<string, object?>[] tags)
    {
        var current = Activity.Current;
        using (var span = Source.StartActivity(name, ActivityKind.Internal, current?.Context ?? default, tags, startTime: startUtc))
            span?.SetEndTime(endUtc);
        Activity.Current = current;
    }

    /// <summary>Marks a span failed with the status code's name only: error messages may quote what the caller sent.</summary>
    public static void Failed(Activity? span, StatusCode code) =>
        span?.SetStatus(ActivityStatusCode.Error, code.ToString()).SetTag("rpc.grpc.status_code", (int)code);
}
