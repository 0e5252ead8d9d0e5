using System.Text;
using System.Text.RegularExpressions;

namespace PythOn.Server.Packages;

/// <summary>
/// A validated package requirement.
/// <para><see cref="Language"/> is "python" or "javascript".</para>
/// <para><see cref="Name"/> is normalised: Python names per PEP 503 (lower-case, runs of '-', '_' and '.'
/// become one '-'); npm names exactly as given (they must already be lower-case).</para>
/// <para><see cref="Version"/> is the version specifier (Python, e.g. "&gt;=2.31,&lt;3") or semver range /
/// dist-tag (npm, e.g. "^18.2.0", "latest") alone, without spaces around operators; "" means any version.</para>
/// <para><see cref="Requirement"/> is the canonical string to store and hand to the installer. Python:
/// normalised name, extras normalised, de-duplicated and sorted, then the specifier, with no spaces
/// (e.g. "uvicorn[standard]==0.30.1"). npm: "name" or "name@range" (a range keeps single spaces
/// between comparators, e.g. "react@&gt;=16.8 &lt;19").</para>
/// </summary>
public sealed record PackageRequirement(string Language, string Name, string Version, string Requirement);

// The Python (PEP 508 subset) and npm parsers are in PackageRequirements.Python.cs and PackageRequirements.Npm.cs.
/// <summary>
/// Strict validation of user-supplied package requirements. Only plain registry packages with an
/// optional version constraint are accepted: the canonical strings are later passed to
/// <c>pip install --only-binary=:all:</c> and <c>npm install --ignore-scripts</c>, so URLs, paths,
/// installer options, VCS references, protocols, aliases, tarballs, direct references,
/// environment markers, control characters, non-ASCII characters and shell metacharacters are refused.
/// Python specifiers may optionally be wrapped in parentheses as PEP 508 allows ("name (&gt;=1.0)");
/// the canonical form drops them.
/// </summary>
public static partial class PackageRequirements
{
    public const string Python = "python";
    public const string JavaScript = "javascript";

    /// <summary>The supported languages, lower-case: ["python", "javascript"].</summary>
    public static readonly IReadOnlyList<string> Languages = Array.AsReadOnly(new[] { Python, JavaScript });

    /// <summary>Maximum length of a requirement string as given by the user.</summary>
    public const int MaxLength = 200;

    /// <summary>Maximum length of an npm package name (npm's own limit).</summary>
    public const int MaxNpmNameLength = 214;

    public const string LanguageError = "language must be 'python' or 'javascript'";

    private const string PythonAccepted =
        "Use a PyPI package name with optional [extras] and an optional version specifier, " +
        "e.g. 'requests', 'requests>=2.31,<3' or 'uvicorn[standard]==0.30.1'.";

    private const string NpmAccepted =
        "Use an npm registry package name with an optional semver range or dist-tag, " +
        "e.g. 'lodash', 'react@^18.2.0', '@types/node@20' or 'typescript@next'.";

    private const string PythonOperators = "'==', '!=', '<=', '>=', '<', '>', '~=' or '==='";

    private static readonly HashSet<string> NpmReservedNames = new(StringComparer.Ordinal) { "node_modules", "favicon.ico" };

    /// <summary>
    /// Validates <paramref name="input"/> for <paramref name="language"/> (case-insensitive).
    /// Returns true and the canonical requirement, or false and an error message meant for the API user
    /// that quotes the offending input, says what is wrong and what is accepted.
    /// </summary>
    public static bool TryParse(string language, string input, out PackageRequirement? requirement, out string error)
    {
        requirement = null;
        error = "";

        var lang = NormalizeLanguage(language);
        if (lang is null)
        {
            error = LanguageError;
            return false;
        }

        var kind = lang == Python ? "Python" : "npm";
        var accepted = lang == Python ? PythonAccepted : NpmAccepted;

        if (input is null || input.Trim(' ').Length == 0)
        {
            error = $"the {kind} package requirement is empty. {accepted}";
            return false;
        }

        string? reason;
        if (input.Length > MaxLength)
            reason = $"it is longer than {MaxLength} characters";
        else
            reason = CheckCharacters(input);

        if (reason is null)
        {
            var trimmed = input.Trim(' ');
            reason = lang == Python ? ParsePython(trimmed, out requirement) : ParseNpm(trimmed, out requirement);
        }

        if (reason is not null)
        {
            requirement = null;
            error = $"'{Show(input)}' is not a valid {kind} package requirement: {reason}. {accepted}";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Normalises a bare package name for lookups (e.g. removing a package): Python names per PEP 503,
    /// npm names only trimmed (npm names must already be lower-case). Returns null when the language is
    /// unknown or the trimmed text is not a valid bare name for the language (no version, extras or '@' range).
    /// </summary>
    public static string? NormalizeName(string language, string name)
    {
        var lang = NormalizeLanguage(language);
        if (lang is null || name is null)
            return null;

        var trimmed = name.Trim();
        if (lang == Python && !PythonNameRegex().IsMatch(trimmed))
            return null;
        if (!TryParse(lang, trimmed, out var parsed, out _) || parsed is null)
            return null;
        return parsed.Version.Length == 0 && parsed.Requirement == parsed.Name ? parsed.Name : null;
    }

    private static string? NormalizeLanguage(string? language)
    {
        if (language is null)
            return null;
        var lower = language.ToLowerInvariant();
        return lower is Python or JavaScript ? lower : null;
    }

    // ---------------------------------------------------------------- common checks

    private static string? CheckCharacters(string input)
    {
        foreach (var c in input)
        {
            if (c < 0x20 || c == 0x7F || char.IsControl(c))
                return $"it contains a control character (U+{(int)c:X4})";
            if (c > 0x7E)
                return $"it contains the non-ASCII character U+{(int)c:X4} (only printable ASCII is accepted)";
        }
        return null;
    }

    /// <summary>Renders user input for an error message: non-printable characters escaped, long input shortened.</summary>
    private static string Show(string input)
    {
        const int max = 80;
        var sb = new StringBuilder();
        foreach (var c in input)
        {
            if (c < 0x20 || c > 0x7E)
                sb.Append("\\u").Append(((int)c).ToString("X4"));
            else
                sb.Append(c);
            if (sb.Length > max)
            {
                sb.Length = max - 3;
                sb.Append("...");
                break;
            }
        }
        return sb.ToString();
    }

    private static bool IsArchiveName(string s) => ArchiveRegex().IsMatch(s);

    // ---------------------------------------------------------------- regular expressions

    [GeneratedRegex(@"\A([A-Za-z][A-Za-z0-9+.-]*):", RegexOptions.CultureInvariant)]
    private static partial Regex SchemeRegex();

    [GeneratedRegex(@"\.(?:whl|zip|tar|tgz|tar\.gz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.lz|tlz)\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ArchiveRegex();
}
