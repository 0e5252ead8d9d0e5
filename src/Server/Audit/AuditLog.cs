using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Audit;

public static class AuditOutcome
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Denied = "denied";
}

/// <summary>
/// Appends audit entries. Callers pass only non-sensitive facts: never a secret value, password, token or code.
/// </summary>
public sealed class AuditLog(Database db)
{
    public void Record(ObjectId? userId, string action, string resource, string outcome, string clientAddress,
        IReadOnlyDictionary<string, string>? details = null)
    {
        db.Audit.Insert(new AuditRecord
        {
            UserId = userId,
            Time = Clock.NowMs(),
            Action = action,
            Resource = resource,
            Outcome = outcome,
            ClientAddress = clientAddress,
            Details = details is null ? [] : new Dictionary<string, string>(details),
        });
    }

    /// <summary>A user's entries with Id below <paramref name="beforeId"/> (exclusive), newest first.</summary>
    public IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count)
    {
        var query = db.Audit.Query().Where(a => a.UserId == userId);
        if (beforeId is { } before) query = query.Where(a => a.Id < before);
        return query.OrderByDescending(a => a.Id).Limit(count).ToList();
    }
}
