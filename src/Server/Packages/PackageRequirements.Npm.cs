using System.Text;
using System.Text.RegularExpressions;

namespace PythOn.Server.Packages;

// npm requirements: a registry name with an optional semver range or dist-tag (no URLs, aliases, tarballs or protocols).
public static partial class PackageRequirements
{
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

    // A token starting with '-' that is not the lone '-' of an npm hyphen range ("1.2.3 - 2.3.4").
    [GeneratedRegex(@"\A-| -[^ ]", RegexOptions.CultureInvariant)]
    private static partial Regex NpmOptionRegex();

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
