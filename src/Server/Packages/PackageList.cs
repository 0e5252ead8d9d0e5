using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Hosting;
using PythOn.Server.Storage;

namespace PythOn.Server.Packages;

/// <summary>A user's package list per language. Validation is strict because these strings reach installers.</summary>
public sealed class PackageList(IPackageRepository packages, IOptions<PythOnOptions> options)
{
    private readonly int _maxPerLanguage = options.Value.Limits.MaxPackagesPerLanguage;

    public IReadOnlyList<PackageRecord> List(ObjectId userId, string? language = null) => packages.List(userId, language);

    public IReadOnlyList<PackageRecord> Set(ObjectId userId, string language, IEnumerable<string> requirements)
    {
        language = KnownLanguages.Require(language);
        var parsed = new List<PackageRequirement>();
        foreach (var input in requirements)
        {
            var requirement = Parse(language, input);
            if (parsed.Any(p => p.Name == requirement.Name))
                throw Problems.Invalid($"'{requirement.Name}' is listed twice: give each package once.");
            parsed.Add(requirement);
        }
        if (parsed.Count > _maxPerLanguage)
            throw Problems.Invalid($"{parsed.Count} {language} packages given; the limit is {_maxPerLanguage}.");

        // An unchanged requirement keeps its install status; the repository decides that in the same transaction.
        var now = Clock.NowMs();
        packages.ReplaceList(userId, language, parsed.Select(r => NewRecord(userId, r, now)).ToList());
        return List(userId, language);
    }

    public PackageRecord Add(ObjectId userId, string language, string input)
    {
        language = KnownLanguages.Require(language);
        var requirement = Parse(language, input);
        // Count and write are one step in the repository, so concurrent adds cannot pass the limit.
        return packages.Add(NewRecord(userId, requirement, Clock.NowMs()), _maxPerLanguage)
            ?? throw Problems.Invalid($"your {language} list already has {_maxPerLanguage} packages, the limit: remove one first.");
    }

    /// <summary>Removes a package by name; false when the user's list for that language has no such package.</summary>
    public bool Remove(ObjectId userId, string language, string name)
    {
        language = KnownLanguages.Require(language);
        var normalized = PackageRequirements.NormalizeName(language, name);
        return normalized is not null && packages.Remove(userId, language, normalized);
    }

    /// <summary>Sets every package of the list back to pending (the list changed: the whole set is installed again).</summary>
    public void MarkPending(ObjectId userId, string language) => packages.MarkPending(userId, language, Clock.NowMs());

    /// <summary>
    /// Records an install's outcome on the rows it installed: only rows whose requirement is still the one in
    /// <paramref name="installed"/> (name → requirement) change, so a list edited meanwhile is never marked with a stale result.
    /// </summary>
    public void SetStatus(ObjectId userId, string language, IReadOnlyDictionary<string, string> installed,
        Func<PackageRecord, (string Status, string Message)> outcome) =>
        packages.SetStatus(userId, language, installed, outcome, Clock.NowMs());

    /// <summary>(user, language) pairs with packages not installed yet: a restarted server resumes them.</summary>
    public IReadOnlyList<(ObjectId UserId, string Language)> Unfinished() => packages.Unfinished();

    private static PackageRequirement Parse(string language, string input) =>
        PackageRequirements.TryParse(language, input, out var requirement, out var error) ? requirement! : throw Problems.Invalid(error);

    /// <summary>A row as wanted now; the repository keeps the AddedAt of a row it replaces.</summary>
    private static PackageRecord NewRecord(ObjectId userId, PackageRequirement requirement, long now) => new()
    {
        UserId = userId,
        Language = requirement.Language,
        Name = requirement.Name,
        Requirement = requirement.Requirement,
        Version = requirement.Version,
        Status = PackageStates.Pending,
        Message = "",
        AddedAt = now,
        UpdatedAt = now,
    };
}

public static class PackageStates
{
    public const string Pending = "pending";
    public const string Installing = "installing";
    public const string Ready = "ready";
    public const string Failed = "failed";
}
