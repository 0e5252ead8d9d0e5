using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Hosting;
using PythOn.Server.Storage;

namespace PythOn.Server.Packages;

/// <summary>A user's package list per language. Validation is strict because these strings reach installers.</summary>
public sealed class PackageList(Database db, IOptions<PythOnOptions> options)
{
    private readonly int _maxPerLanguage = options.Value.Limits.MaxPackagesPerLanguage;
    // Count-then-write must not interleave, or concurrent adds could pass the limit.
    private readonly Lock _writeLock = new();

    public IReadOnlyList<PackageRecord> List(ObjectId userId, string? language = null)
    {
        var rows = db.Packages.Find(p => p.UserId == userId);
        if (language is not null) rows = rows.Where(p => p.Language == language);
        return rows.OrderBy(p => p.Language, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

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

        lock (_writeLock)
        {
            var existing = List(userId, language).ToDictionary(p => p.Name);
            var now = Clock.NowMs();
            db.InTransaction(() =>
            {
                foreach (var old in existing.Values.Where(o => parsed.All(p => p.Name != o.Name)))
                    db.Packages.Delete(old.Id);
                foreach (var requirement in parsed)
                {
                    // An unchanged requirement keeps its install status.
                    if (existing.TryGetValue(requirement.Name, out var same) && same.Requirement == requirement.Requirement) continue;
                    db.Packages.Upsert(NewRecord(userId, requirement, existing.GetValueOrDefault(requirement.Name), now));
                }
            });
        }
        return List(userId, language);
    }

    public PackageRecord Add(ObjectId userId, string language, string input)
    {
        language = KnownLanguages.Require(language);
        var requirement = Parse(language, input);
        lock (_writeLock)
        {
            var existing = db.Packages.FindById(RowId(userId, language, requirement.Name));
            if (existing is null && db.Packages.Count(p => p.UserId == userId && p.Language == language) >= _maxPerLanguage)
                throw Problems.Invalid($"your {language} list already has {_maxPerLanguage} packages, the limit: remove one first.");
            if (existing is not null && existing.Requirement == requirement.Requirement) return existing;

            var record = NewRecord(userId, requirement, existing, Clock.NowMs());
            db.Packages.Upsert(record);
            return record;
        }
    }

    /// <summary>Removes a package by name; false when the user's list for that language has no such package.</summary>
    public bool Remove(ObjectId userId, string language, string name)
    {
        language = KnownLanguages.Require(language);
        var normalized = PackageRequirements.NormalizeName(language, name);
        return normalized is not null && db.Packages.Delete(RowId(userId, language, normalized));
    }

    /// <summary>Sets every package of the list back to pending (the list changed: the whole set is installed again).</summary>
    public void MarkPending(ObjectId userId, string language)
    {
        lock (_writeLock)
        {
            db.InTransaction(() =>
            {
                foreach (var row in List(userId, language).Where(r => r.Status != PackageStates.Pending || r.Message != ""))
                {
                    row.Status = PackageStates.Pending;
                    row.Message = "";
                    db.Packages.Update(row);
                }
            });
        }
    }

    /// <summary>
    /// Records an install's outcome on the rows it installed: only rows whose requirement is still the one in
    /// <paramref name="installed"/> (name → requirement) change, so a list edited meanwhile is never marked with a stale result.
    /// </summary>
    public void SetStatus(ObjectId userId, string language, IReadOnlyDictionary<string, string> installed,
        Func<PackageRecord, (string Status, string Message)> outcome)
    {
        lock (_writeLock)
        {
            db.InTransaction(() =>
            {
                foreach (var row in List(userId, language))
                {
                    if (!installed.TryGetValue(row.Name, out var requirement) || requirement != row.Requirement) continue;
                    (row.Status, row.Message) = outcome(row);
                    db.Packages.Update(row);
                }
            });
        }
    }

    /// <summary>(user, language) pairs with packages not installed yet: a restarted server resumes them.</summary>
    public IReadOnlyList<(ObjectId UserId, string Language)> Unfinished() =>
        db.Packages.Find(p => p.Status == PackageStates.Pending || p.Status == PackageStates.Installing)
            .Select(p => (p.UserId, p.Language)).Distinct().ToList();

    private static PackageRequirement Parse(string language, string input) =>
        PackageRequirements.TryParse(language, input, out var requirement, out var error) ? requirement! : throw Problems.Invalid(error);

    private static PackageRecord NewRecord(ObjectId userId, PackageRequirement requirement, PackageRecord? previous, long now) => new()
    {
        Id = RowId(userId, requirement.Language, requirement.Name),
        UserId = userId,
        Language = requirement.Language,
        Name = requirement.Name,
        Requirement = requirement.Requirement,
        Version = requirement.Version,
        Status = PackageStates.Pending,
        Message = "",
        AddedAt = previous?.AddedAt ?? now,
        UpdatedAt = now,
    };

    private static string RowId(ObjectId userId, string language, string name) => $"{userId}/{language}/{name}";
}

public static class PackageStates
{
    public const string Pending = "pending";
    public const string Installing = "installing";
    public const string Ready = "ready";
    public const string Failed = "failed";
}
