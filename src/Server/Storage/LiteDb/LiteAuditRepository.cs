using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteAuditRepository(LiteDatabaseFile db) : IAuditRepository
{
    // InsertBulk sets each record's Id from the collection's Int64 sequence, in order.
    public void Append(IReadOnlyList<AuditRecord> entries) => db.InTransaction(() => db.Audit.InsertBulk(entries));

    public IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count)
    {
        var query = db.Audit.Query().Where(a => a.UserId == userId);
        if (beforeId is { } before) query = query.Where(a => a.Id < before);
        return query.OrderByDescending(a => a.Id).Limit(count).ToList();
    }
}
