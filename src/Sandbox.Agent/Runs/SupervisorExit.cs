using System.Text.Json.Serialization;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>The supervisor's exit frame of a run (JSON; runtime/README.md): the status it took from waitpid of the
/// run's init, outside the run's namespaces, and what it did to the run.</summary>
internal sealed record SupervisorExit(
    [property: JsonPropertyName("exit_code")] int ExitCode,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("output_capped")] bool OutputCapped,
    [property: JsonPropertyName("oom_killed")] bool OomKilled);
