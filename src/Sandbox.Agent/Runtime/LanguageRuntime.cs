namespace PythOn.Sandbox.Agent.Runtime;

/// <summary>A language the sandbox runs. Each slot serves one language: its supervisor pre-starts that
/// language's run sandbox (runtime/sandbox.py).</summary>
public sealed record LanguageRuntime(string Name)
{
    public static readonly LanguageRuntime Python = new("python");

    public static readonly LanguageRuntime JavaScript = new("javascript");

    public static readonly IReadOnlyList<LanguageRuntime> All = [Python, JavaScript];

    public static LanguageRuntime? Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
}
