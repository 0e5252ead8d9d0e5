using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

public sealed class LitePackageRepository(LiteDatabaseFile db) : IPackageRepository
{
    private const string Pending = "pending";
    private const string Installing = "installing";

    // Read-then-write steps (limits, kept statuses, stale outcomes) must not interleave.
    private readonly Lock _writeLock = new();

    public IReadOnlyList<PackageRecord> List(ObjectId userId, string? language = null)
    {
        var rows = db.Packages.Find(p => p.UserId == userId);
        if (language is not null) rows = rows.Where(p => p.Language == language);
        return rows.OrderBy(p => p.Language, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    public void ReplaceList(ObjectId userId, string language, IReadOnlyList<PackageRecord> wanted)
    {
        lock (_writeLock)
        {
            db.InTransaction(() =>
            {
                var existing = List(userId, language).ToDictionary(p => p.Name, StringComparer.Ordinal);
                foreach (var old in existing.Values.Where(o => wanted.All(w => w.Name != o.Name)))
                    db.Packages.Delete(old.Id);
                foreach (var row in wanted)
                {
                    var previous = existing.GetValueOrDefault(row.Name);
                    if (previous is not null && previous.Requirement == row.Requirement) continue;
                    Write(Keyed(row, userId, language), previous);
                }
            });
        }
    }

    public PackageRecord? Add(PackageRecord wanted, int maxPerLanguage)
    {
        lock (_writeLock)
        {
            var row = Keyed(wanted, wanted.UserId, wanted.Language);
            var existing = db.Packages.FindById(row.Id);
            if (existing is not null && existing.Requirement == row.Requirement) return existing;
            if (existing is null && db.Packages.Count(p => p.UserId == row.UserId && p.Language == row.Language) >= maxPerLanguage)
                return null;
            Write(row, existing);
            return row;
        }
    }

    public bool Remove(ObjectId userId, string language, string name)
    {
        lock (_writeLock) return db.Packages.Delete(RowId(userId, language, name));
    }

    public void MarkPending(ObjectId userId, string language, long now)
    {
        lock (_writeLock)
        {
            db.InTransaction(() =>
            {
                foreach (var row in List(userId, language).Where(r => r.Status != Pending || r.Message != ""))
                {
                    row.Status = Pending;
                    row.Message = "";
                    row.UpdatedAt = now;
                    db.Packages.Update(row);
                }
            });
        }
    }

    public void SetStatus(ObjectId userId, string language, IReadOnlyDictionary<string, string> installed,
        Func<PackageRecord, (string Status, string Message)> outcome, long now)
    {
        lock (_writeLock)
        {
            db.InTransaction(() =>
            {
                foreach (var row in List(userId, language))
                {
                    if (!installed.TryGetValue(row.Name, out var requirement) || requirement != row.Requirement) continue;
                    (row.Status, row.Message) = outcome(row);
                    row.UpdatedAt = now;
                    db.Packages.Update(row);
                }
            });
        }
    }

    public IReadOnlyList<(ObjectId UserId, string Language)> Unfinished() =>
        db.Packages.Find(p => p.Status == Pending || p.Status == Installing)
            .Select(p => (p.UserId, p.Language)).Distinct().ToList();

    private void Write(PackageRecord row, PackageRecord? replaced)
    {
        if (replaced is not null) row.AddedAt = replaced.AddedAt;
        db.Packages.Upsert(row);
    }

    private static PackageRecord Keyed(PackageRecord row, ObjectId userId, string language)
    {
        row.UserId = userId;
        row.Language = language;
        row.Id = RowId(userId, language, row.Name);
        return row;
    }

    private static string RowId(ObjectId userId, string language, string name) => $"{userId}/{language}/{name}";
}
