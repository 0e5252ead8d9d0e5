using PythOn.Api.Languages;

namespace PythOn.Sandbox.Agent.Runtime;

/// <summary>A language the sandbox runs (one per <see cref="LanguageRegistry"/> entry). Each slot serves one language:
/// its supervisor pre-starts that language's run sandbox (runtime/sandbox.py). The server sends canonical names only.</summary>
public sealed record LanguageRuntime(string Name)
{
    public static readonly IReadOnlyList<LanguageRuntime> All = [.. LanguageRegistry.All.Select(l => new LanguageRuntime(l.Name))];

    public static readonly LanguageRuntime Python = new(LanguageRegistry.Python.Name);

    public static readonly LanguageRuntime JavaScript = new(LanguageRegistry.JavaScript.Name);

    public static LanguageRuntime? Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
}
