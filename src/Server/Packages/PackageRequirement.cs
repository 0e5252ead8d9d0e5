using System.Text;
using System.Text.RegularExpressions;
using PythOn.Api.Languages;

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
    public static readonly string Python = LanguageRegistry.Python.Name;
    public static readonly string JavaScript = LanguageRegistry.JavaScript.Name;

    /// <summary>The supported languages, lower-case (<see cref="LanguageRegistry.Names"/>).</summary>
    public static readonly IReadOnlyList<string> Languages = LanguageRegistry.Names;

    /// <summary>Maximum length of a requirement string as given by the user.</summary>
    public const int MaxLength = 200;

    /// <summary>Maximum length of an npm package name (npm's own limit).</summary>
    public const int MaxNpmNameLength = 214;

    public static readonly string LanguageError = $"language must be {LanguageRegistry.Accepted}";

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

        var kind = LanguageRegistry.Find(lang)!.PackageKind;
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

    private static string? NormalizeLanguage(string? language) => LanguageRegistry.Find(language)?.Name;

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

    // ---------------------------------------------------------------- Python (PEP 508 subset)

    private static string? ParsePython(string s, out PackageRequirement? result)
    {
        result = null;

        if (OptionRegex().IsMatch(s))
            return "installer options such as '--index-url', '-e' or '-r' are not allowed";
        if (PythonVcsRegex().IsMatch(s))
            return "VCS references (e.g. 'git+https://...') are not allowed";
        if (PythonDirectReferenceRegex().IsMatch(s))
            return "direct references ('name @ url') are not allowed";
        if (s.Contains("://"))
            return "URLs are not allowed";
        if (s.Contains(';'))
            return "environment markers (';') are not allowed";
        if (s.Contains(':'))
            return "':' is not allowed: URLs and schemes such as 'file:' are not supported";
        if (s.Contains('@'))
            return "'@' is not allowed: direct references are not supported";
        if (s.Contains('/') || s.Contains('\\') || s[0] == '.')
            return "local paths are not allowed";
        if (IsArchiveName(s))
            return "archive and wheel files are not allowed";
        foreach (var c in s)
        {
            if (!IsPythonChar(c))
                return $"the character '{c}' is not allowed";
        }

        // Name.
        var i = 0;
        while (i < s.Length && IsPythonNameChar(s[i]))
            i++;
        var rawName = s[..i];
        if (rawName.Length == 0)
            return "it must start with a package name";
        if (!PythonNameRegex().IsMatch(rawName))
            return $"'{rawName}' is not a valid package name (letters, digits, '.', '_' and '-', starting and ending with a letter or digit)";
        i = SkipSpaces(s, i);

        // Extras.
        var extras = new SortedSet<string>(StringComparer.Ordinal);
        if (i < s.Length && s[i] == '[')
        {
            var close = s.IndexOf(']', i);
            if (close < 0)
                return "'[' is not closed";
            var inner = s[(i + 1)..close];
            if (inner.Contains('['))
                return "extras cannot be nested";
            if (inner.Trim(' ').Length > 0)
            {
                foreach (var part in inner.Split(','))
                {
                    var extra = part.Trim(' ');
                    if (extra.Length == 0)
                        return "an extra name in '[...]' is empty";
                    if (!PythonNameRegex().IsMatch(extra))
                        return $"'{extra}' is not a valid extra name";
                    extras.Add(NormalizePythonName(extra));
                }
            }
            i = SkipSpaces(s, close + 1);
        }

        // Version specifier, optionally in parentheses.
        var spec = s[i..];
        var parenthesised = false;
        if (spec.StartsWith('('))
        {
            var close = spec.IndexOf(')');
            if (close < 0)
                return "'(' is not closed";
            if (spec[(close + 1)..].Trim(' ').Length > 0)
                return $"unexpected text after ')': '{spec[(close + 1)..].Trim(' ')}'";
            spec = spec[1..close];
            parenthesised = true;
        }
        var stray = spec.IndexOfAny(['[', ']', '(', ')']);
        if (stray >= 0)
            return $"unexpected '{spec[stray]}' in the version specifier";

        var clauses = new List<string>();
        if (spec.Trim(' ').Length == 0)
        {
            if (parenthesised)
                return "the parentheses contain no version specifier";
        }
        else
        {
            foreach (var part in spec.Split(','))
            {
                var reason = ParsePythonClause(part.Trim(' '), out var clause);
                if (reason is not null)
                    return reason;
                clauses.Add(clause);
            }
        }

        var name = NormalizePythonName(rawName);
        var version = string.Join(",", clauses);
        var requirement = name + (extras.Count > 0 ? "[" + string.Join(",", extras) + "]" : "") + version;
        result = new PackageRequirement(Python, name, version, requirement);
        return null;
    }

    private static string? ParsePythonClause(string clause, out string canonical)
    {
        canonical = "";
        if (clause.Length == 0)
            return "a version clause is empty (check for a stray ',')";

        var op = PythonOperatorRegex().Match(clause).Value;
        if (op.Length == 0)
            return $"expected a version specifier starting with {PythonOperators}, found '{clause}'";

        var version = clause[op.Length..].TrimStart(' ');
        if (version.Length == 0)
            return $"the operator '{op}' must be followed by a version";
        if (version.Contains(' '))
            return $"'{clause}' contains a space inside the version; separate version clauses with ','";

        var wildcard = version.EndsWith(".*", StringComparison.Ordinal);
        var core = wildcard ? version[..^2] : version;
        var plus = core.IndexOf('+');
        var local = plus >= 0 ? core[(plus + 1)..] : null;
        var publicPart = plus >= 0 ? core[..plus] : core;

        var match = Pep440PublicRegex().Match(publicPart);
        if (!match.Success || (local is not null && !Pep440LocalRegex().IsMatch(local)) || (wildcard && local is not null))
            return $"'{version}' is not a valid PEP 440 version";
        if (wildcard)
        {
            if (op is not ("==" or "!="))
                return $"the '.*' wildcard is only allowed with '==' and '!=' (found '{op}{version}')";
            if (!Pep440ReleaseOnlyRegex().IsMatch(publicPart))
                return $"the '.*' wildcard must directly follow the release number, e.g. '==2.31.*' (found '{op}{version}')";
        }
        if (local is not null && op is not ("==" or "!=" or "==="))
            return $"local version labels ('+{local}') are only allowed with '==', '!=' and '===' (found '{op}{version}')";
        if (op == "~=" && !match.Groups["release"].Value.Contains('.'))
            return $"'~=' needs a version with at least two release segments, e.g. '~=2.31' (found '{op}{version}')";

        canonical = op + version;
        return null;
    }

    private static string NormalizePythonName(string name) => PythonSeparatorRunRegex().Replace(name, "-").ToLowerInvariant();

    private static bool IsPythonNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    private static bool IsPythonChar(char c) =>
        IsPythonNameChar(c) || c is ' ' or '[' or ']' or '(' or ')' or ',' or '<' or '>' or '=' or '!' or '~' or '*' or '+';

    private static int SkipSpaces(string s, int i)
    {
        while (i < s.Length && s[i] == ' ')
            i++;
        return i;
    }

    // ---------------------------------------------------------------- npm

    private static string? ParseNpm(string s, out PackageRequirement? result)
    {
        result = null;

        if (NpmOptionRegex().IsMatch(s))
            return "installer options such as '--registry', '-g' or '--ignore-scripts=false' are not allowed";
        if (s.StartsWith("git@", StringComparison.OrdinalIgnoreCase))
            return "git references (e.g. 'github:user/repo', 'git+https://...') are not allowed";

        var scoped = s.StartsWith('@');
        var at = s.IndexOf('@', scoped ? 1 : 0);
        var name = at < 0 ? s : s[..at];
        var spec = at < 0 ? null : s[(at + 1)..];

        var reason = CheckNpmScheme(s) ?? (spec is null ? null : CheckNpmScheme(spec));
        if (reason is not null)
            return reason;
        if (s.Contains(':'))
            return "':' is not allowed: protocols such as 'file:', 'npm:', 'git+https:' or 'workspace:' are not supported";
        if (s.Contains('#'))
            return "'#' is not allowed: git references are not supported";
        if (s[0] is '.' or '/' or '\\' or '~')
            return "local paths are not allowed";
        if (!scoped && name.Contains('/'))
            return "'/' is not allowed outside a scoped name like '@scope/name': GitHub shorthands ('user/repo') and paths are not supported";
        if (scoped && name.Count(c => c == '/') > 1)
            return "a path after the package name is not allowed";
        if (spec is not null && spec.Contains('/'))
            return "'/' is not allowed in a version range: GitHub shorthands, URLs and paths are not supported";
        if (IsArchiveName(name) || (spec is not null && IsArchiveName(spec)))
            return "tarballs are not allowed";
        foreach (var c in s)
        {
            if (!IsNpmChar(c))
                return $"the character '{c}' is not allowed";
        }
        if (spec is not null && spec.Contains('@'))
            return "only one '@' may separate the name from the version";

        reason = ValidateNpmName(name);
        if (reason is not null)
            return reason;

        var version = "";
        if (spec is not null)
        {
            if (spec.Length == 0)
                return "'@' must be followed by a semver range or dist-tag";
            if (spec.StartsWith(' ') || spec.EndsWith(' ') || spec.Contains("  "))
                return "a version range may only contain single spaces between its parts";
            if (TryParseSemverRange(spec, out var range))
                version = range;
            else if (NpmDistTagRegex().IsMatch(spec))
                version = spec;
            else
                return $"'{spec}' is neither a semver range (e.g. '^1.2.3', '~1.2', '>=1.0.0 <2', '1.x', '1.2.3 - 2.3.4') nor a dist-tag (e.g. 'latest')";
        }

        result = new PackageRequirement(JavaScript, name, version, version.Length == 0 ? name : name + "@" + version);
        return null;
    }

    private static string? CheckNpmScheme(string text)
    {
        var match = SchemeRegex().Match(text);
        if (!match.Success)
            return null;
        var scheme = match.Groups[1].Value.ToLowerInvariant();
        if (scheme.Length == 1)
            return "local paths are not allowed";
        return scheme switch
        {
            "file" or "link" => "local paths ('file:', 'link:') are not allowed",
            "npm" => "npm aliases ('npm:') are not allowed",
            "workspace" => "workspace references ('workspace:') are not allowed",
            "http" or "https" => "URLs and tarball URLs are not allowed",
            "github" or "gitlab" or "bitbucket" or "gist" => "git references (e.g. 'github:user/repo', 'git+https://...') are not allowed",
            _ when scheme.StartsWith("git", StringComparison.Ordinal) => "git references (e.g. 'github:user/repo', 'git+https://...') are not allowed",
            _ => $"'{match.Groups[1].Value}:' references are not allowed",
        };
    }

    private static string? ValidateNpmName(string name)
    {
        if (name.Contains(' '))
            return $"the name '{name}' contains a space; put the version after '@', e.g. 'react@^18.2.0'";
        if (name.Length > MaxNpmNameLength)
            return $"npm package names are at most {MaxNpmNameLength} characters long";
        if (name.Any(char.IsAsciiLetterUpper))
            return $"npm package names must be lower-case (did you mean '{name.ToLowerInvariant()}'?)";
        if (name.StartsWith('@') && !name.Contains('/'))
            return $"a scoped name must look like '@scope/name' (found '{name}')";
        var local = name[(name.IndexOf('/') + 1)..];
        if (name[0] is '.' or '_' || local.StartsWith('.') || local.StartsWith('_') || name.StartsWith("@.") || name.StartsWith("@_"))
            return "npm package names must not start with '.' or '_'";
        if (NpmReservedNames.Contains(name))
            return $"'{name}' is a reserved name";
        if (!NpmNameRegex().IsMatch(name))
            return $"'{name}' is not a valid npm package name (lower-case letters, digits, '-', '.', '_' and '~', optionally '@scope/')";
        return null;
    }

    private static bool IsNpmChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '~' or '@' or '/' or ' ' or '<' or '>' or '=' or '^' or '*' or '|' or '+';

    /// <summary>
    /// node-semver range grammar: '||'-separated sets; a set is a hyphen range "A - B" or space-separated
    /// comparators (optional operator &lt; &lt;= &gt; &gt;= = ~ ^, then a partial version with x/X/* wildcards,
    /// optional leading 'v', prerelease and build). A single space between an operator and its version is
    /// tolerated and removed. Produces the canonical range with single spaces.
    /// </summary>
    private static bool TryParseSemverRange(string spec, out string canonical)
    {
        canonical = "";
        var sets = new List<string>();
        foreach (var raw in spec.Split("||"))
        {
            var set = raw.Trim(' ');
            if (set.Length == 0)
                return false;
            var tokens = set.Split(' ');
            if (tokens.Length == 3 && tokens[1] == "-")
            {
                if (!SemverPartialRegex().IsMatch(tokens[0]) || !SemverPartialRegex().IsMatch(tokens[2]))
                    return false;
                sets.Add($"{tokens[0]} - {tokens[2]}");
                continue;
            }
            var comparators = new List<string>();
            for (var k = 0; k < tokens.Length; k++)
            {
                var token = tokens[k];
                if (token is "<" or "<=" or ">" or ">=" or "=" or "~" or "^")
                {
                    if (k + 1 >= tokens.Length)
                        return false;
                    token += tokens[++k];
                }
                if (!SemverComparatorRegex().IsMatch(token))
                    return false;
                comparators.Add(token);
            }
            sets.Add(string.Join(" ", comparators));
        }
        canonical = string.Join(" || ", sets);
        return true;
    }

    // ---------------------------------------------------------------- regular expressions

    [GeneratedRegex(@"\A(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\z", RegexOptions.CultureInvariant)]
    private static partial Regex PythonNameRegex();

    [GeneratedRegex(@"[-_.]+", RegexOptions.CultureInvariant)]
    private static partial Regex PythonSeparatorRunRegex();

    [GeneratedRegex(@"(?:\A| )-", RegexOptions.CultureInvariant)]
    private static partial Regex OptionRegex();

    // A token starting with '-' that is not the lone '-' of an npm hyphen range ("1.2.3 - 2.3.4").
    [GeneratedRegex(@"\A-| -[^ ]", RegexOptions.CultureInvariant)]
    private static partial Regex NpmOptionRegex();

    [GeneratedRegex(@"\A(?:(?:git|hg|svn|bzr)\+|git@)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PythonVcsRegex();

    [GeneratedRegex(@"\A[A-Za-z0-9._-]+ *(?:\[[^\]]*\])? *@", RegexOptions.CultureInvariant)]
    private static partial Regex PythonDirectReferenceRegex();

    [GeneratedRegex(@"\A([A-Za-z][A-Za-z0-9+.-]*):", RegexOptions.CultureInvariant)]
    private static partial Regex SchemeRegex();

    [GeneratedRegex(@"\.(?:whl|zip|tar|tgz|tar\.gz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.lz|tlz)\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ArchiveRegex();

    [GeneratedRegex(@"\A(?:===|~=|==|!=|<=|>=|<|>)", RegexOptions.CultureInvariant)]
    private static partial Regex PythonOperatorRegex();

    // PEP 440 public version (as accepted by the 'packaging' library), without local label or wildcard.
    [GeneratedRegex(
        @"\Av?(?:[0-9]+!)?(?<release>[0-9]+(?:\.[0-9]+)*)" +
        @"(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?" +
        @"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?" +
        @"(?:[-_.]?dev[-_.]?[0-9]*)?\z",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Pep440PublicRegex();

    [GeneratedRegex(@"\Av?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Pep440ReleaseOnlyRegex();

    [GeneratedRegex(@"\A[a-z0-9]+(?:[-_.][a-z0-9]+)*\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Pep440LocalRegex();

    [GeneratedRegex(@"\A(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex NpmNameRegex();

    [GeneratedRegex(@"\A[a-z][a-z0-9._-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex NpmDistTagRegex();

    private const string SemverXr = @"(?:[xX*]|0|[1-9][0-9]*)";
    private const string SemverPreId = @"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][A-Za-z0-9-]*)";
    private const string SemverPartial =
        "v?" + SemverXr + @"(?:\." + SemverXr + @"(?:\." + SemverXr +
        @"(?:-" + SemverPreId + @"(?:\." + SemverPreId + @")*)?" +
        @"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?";

    [GeneratedRegex(@"\A" + SemverPartial + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex SemverPartialRegex();

    [GeneratedRegex(@"\A(?:<=|>=|<|>|=|~|\^)?" + SemverPartial + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex SemverComparatorRegex();
}
