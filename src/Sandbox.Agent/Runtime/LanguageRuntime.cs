namespace PythOn.Sandbox.Agent.Runtime;

/// <summary>A language the sandbox runs: the runner command that waits in a warm container for its job.</summary>
public sealed record LanguageRuntime(string Name, IReadOnlyList<string> RunnerCommand)
{
    // Python user code must run under /usr/bin/python3: Debian's python3-* packages load only there.
    // -u: unbuffered, so output streams to the caller as it is written.
    public static readonly LanguageRuntime Python =
        new("python", ["/usr/bin/python3", "-u", "/opt/pyth-on/runner.py"]);

    public static readonly LanguageRuntime JavaScript =
        new("javascript", ["/usr/bin/node", "/opt/pyth-on/runner.js"]);

    public static readonly IReadOnlyList<LanguageRuntime> All = [Python, JavaScript];

    public static LanguageRuntime? Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
}
