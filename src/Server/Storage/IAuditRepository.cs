using LiteDB;

namespace PythOn.Server.Storage;

/// <summary>The audit log: append-only, one log for every replica.</summary>
public interface IAuditRepository
{
    /// <summary>
    /// Appends the entries in one transaction (a group commit) and sets each record's Id; ids grow in append order
    /// across the whole store (all replicas), which is what "newest first" pages over.
    /// </summary>
    void Append(IReadOnlyList<AuditRecord> entries);

    /// <summary>A user's entries with Id below <paramref name="beforeId"/> (exclusive), newest first, at most <paramref name="count"/>.</summary>
    IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count);
}
