using LiteDB;

namespace PythOn.Server.Storage;

/// <summary>Users' package lists with each package's install status, keyed by (user, language, name).</summary>
public interface IPackageRepository
{
    /// <summary>The user's rows (of one language when given) ordered by language, then name (ordinal).</summary>
    IReadOnlyList<PackageRecord> List(ObjectId userId, string? language = null);

    /// <summary>
    /// Makes the user's list for <paramref name="language"/> exactly <paramref name="wanted"/>, in one transaction: rows whose
    /// name is not wanted are deleted; a wanted row whose name exists with the same Requirement is left as it is (it keeps
    /// its status); any other wanted row is written as given, except that it keeps the AddedAt of the row it replaces.
    /// </summary>
    void ReplaceList(ObjectId userId, string language, IReadOnlyList<PackageRecord> wanted);

    /// <summary>
    /// Adds or replaces one row (same rule as <see cref="ReplaceList"/> for an existing name: same Requirement → the existing
    /// row is returned untouched). A new name is refused (null, nothing written) when the user's list for that language
    /// already has <paramref name="maxPerLanguage"/> rows (atomic with the write).
    /// </summary>
    PackageRecord? Add(PackageRecord wanted, int maxPerLanguage);

    bool Remove(ObjectId userId, string language, string name);

    /// <summary>Sets every row of the list to Pending with an empty message.</summary>
    void MarkPending(ObjectId userId, string language, long now);

    /// <summary>
    /// Records an install outcome on the rows whose name is a key of <paramref name="installed"/> and whose Requirement
    /// still equals its value (a row edited meanwhile is left alone), in one transaction. <paramref name="outcome"/> maps
    /// each such row to its (Status, Message).
    /// </summary>
    void SetStatus(ObjectId userId, string language, IReadOnlyDictionary<string, string> installed,
        Func<PackageRecord, (string Status, string Message)> outcome, long now);

    /// <summary>(user, language) pairs with a row Pending or Installing.</summary>
    IReadOnlyList<(ObjectId UserId, string Language)> Unfinished();
}
