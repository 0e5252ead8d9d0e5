using System.Diagnostics;
using System.Diagnostics.Metrics;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Telemetry;

namespace PythOn.Sandbox.Agent.Telemetry;

/// <summary>
/// The agent's own spans and metric instruments, all defined here. They carry languages, outcomes, slot states,
/// counts, durations and run ids; never code, stdin, output, environment variables (secrets) or ZK payloads.
/// </summary>
public static class AgentTelemetry
{
    public const string Name = "PythOn.Sandbox.Agent";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    private static InstrumentAdvice<double> Buckets => new() { HistogramBucketBoundaries = RunOutcomes.DurationBuckets };

    /// <summary>Runs this agent ended, by language and outcome.</summary>
    public static readonly Counter<long> Runs = Meter.CreateCounter<long>("pyth_on.agent.runs", "{run}", "Runs by language and outcome");

    /// <summary>From the job sent to the slot until the supervisor's exit frame.</summary>
    public static readonly Histogram<double> ProgramDuration = Meter.CreateHistogram("pyth_on.agent.program.duration", "s",
        "Program duration in its run sandbox, by language and outcome", advice: Buckets);

    /// <summary>Waiting for an idle slot of the run's language.</summary>
    public static readonly Histogram<double> SlotWait = Meter.CreateHistogram("pyth_on.agent.slot.wait", "s",
        "Time a run waited for an idle slot, by language", advice: Buckets);

    /// <summary>Slots by language and state (starting, idle, busy, recycling), read when metrics are collected.</summary>
    public static void ObserveSlots(SlotPool pool) =>
        Meter.CreateObservableGauge("pyth_on.agent.slots", () => SlotCounts(pool), "{slot}", "Slots by language and state");

    private static IEnumerable<Measurement<int>> SlotCounts(SlotPool pool)
    {
        var slots = pool.Slots;
        var recycling = pool.RecyclingSlots;
        foreach (var language in LanguageRuntime.All)
        {
            int Count(SlotState state) => slots.Count(s => s.Language == language && s.State == state);
            yield return Measure(Count(SlotState.Idle), language, "idle");
            yield return Measure(Count(SlotState.Busy), language, "busy");
            yield return Measure(Count(SlotState.Starting) + pool.StartingCount(language), language, "starting");
            yield return Measure(recycling.Count(s => s.Language == language), language, "recycling");
        }
    }

    private static Measurement<int> Measure(int value, LanguageRuntime language, string state) =>
        new(value, new KeyValuePair<string, object?>("pyth_on.language", language.Name), new KeyValuePair<string, object?>("pyth_on.slot.state", state));
}
