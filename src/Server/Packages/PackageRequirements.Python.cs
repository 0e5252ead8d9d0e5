using System.Text;
using System.Text.RegularExpressions;

namespace PythOn.Server.Packages;

// Python requirements: a PEP 508 subset (name, extras, version specifiers; no URLs, markers or direct references).
public static partial class PackageRequirements
{
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

    [GeneratedRegex(@"\A(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\z", RegexOptions.CultureInvariant)]
    private static partial Regex PythonNameRegex();

    [GeneratedRegex(@"[-_.]+", RegexOptions.CultureInvariant)]
    private static partial Regex PythonSeparatorRunRegex();

    [GeneratedRegex(@"(?:\A| )-", RegexOptions.CultureInvariant)]
    private static partial Regex OptionRegex();

    [GeneratedRegex(@"\A(?:(?:git|hg|svn|bzr)\+|git@)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PythonVcsRegex();

    [GeneratedRegex(@"\A[A-Za-z0-9._-]+ *(?:\[[^\]]*\])? *@", RegexOptions.CultureInvariant)]
    private static partial Regex PythonDirectReferenceRegex();

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
}
