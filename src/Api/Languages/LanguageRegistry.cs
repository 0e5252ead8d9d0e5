namespace PythOn.Api.Languages;

/// <summary>A language Pyth-On runs.</summary>
/// <param name="Name">The canonical name; responses and stored records always use it.</param>
/// <param name="DisplayName">How people call it, e.g. in model prompts.</param>
/// <param name="Aliases">Other names accepted wherever a language is given, lower-case.</param>
/// <param name="Extensions">Source file extensions, lower-case with the dot; the first is the usual one.</param>
/// <param name="PackageManager">The installer of its packages ("pip", "npm").</param>
/// <param name="PackageKind">How its packages are called in messages ("Python", "npm").</param>
/// <param name="Runner">The interpreter the run sandbox starts (runtime/sandbox.py).</param>
/// <param name="MainFile">The program's file name as the program sees it (its <c>__file__</c> / <c>__filename</c>).</param>
public sealed record Language(
    string Name,
    string DisplayName,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> Extensions,
    string PackageManager,
    string PackageKind,
    string Runner,
    string MainFile);

/// <summary>
/// The languages, their aliases and file names: the one list that execution, package lists, stored code, System.Info,
/// the OpenAPI document, the CLI and the agent derive theirs from. An alias is accepted wherever a name is.
/// </summary>
public static class LanguageRegistry
{
    public static readonly Language Python =
        new("python", "Python 3", ["py", "python3", "py3"], [".py"], "pip", "Python", "python3", "main.py");

    public static readonly Language JavaScript =
        new("javascript", "JavaScript (Node.js)", ["js", "node", "nodejs"], [".js", ".mjs", ".cjs"], "npm", "npm", "node", "main.js");

    public static readonly IReadOnlyList<Language> All = [Python, JavaScript];

    /// <summary>The canonical names, e.g. ["python", "javascript"].</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(l => l.Name)];

    /// <summary>Every accepted spelling: names, then aliases.</summary>
    public static IReadOnlyList<string> NamesAndAliases { get; } = [.. Names, .. All.SelectMany(l => l.Aliases)];

    /// <summary>The language a name or alias stands for (case-insensitive, surrounding spaces ignored); null when none.</summary>
    public static Language? Find(string? nameOrAlias)
    {
        var key = (nameOrAlias ?? "").Trim().ToLowerInvariant();
        return All.FirstOrDefault(l => l.Name == key || l.Aliases.Contains(key));
    }

    /// <summary>The language a file extension (".py", with or without the dot, any case) implies; null when none.</summary>
    public static Language? FromExtension(string? extension)
    {
        var key = (extension ?? "").Trim().ToLowerInvariant();
        if (key.Length > 0 && key[0] != '.') key = "." + key;
        return All.FirstOrDefault(l => l.Extensions.Contains(key));
    }

    /// <summary>The canonical names quoted for messages: "'python' or 'javascript'".</summary>
    public static string Accepted { get; } = string.Join(" or ", Names.Select(n => $"'{n}'"));

    /// <summary>The canonical names for command-line help: "python|javascript".</summary>
    public static string Choices { get; } = string.Join("|", Names);

    /// <summary>The error text for a language that is none of these.</summary>
    public static string UnknownLanguageMessage(string? given) =>
        $"language must be {Accepted} (got '{given}'); also accepted: {string.Join(", ", All.SelectMany(l => l.Aliases))}.";
}
