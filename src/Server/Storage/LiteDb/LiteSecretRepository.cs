using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteSecretRepository(LiteDatabaseFile db) : ISecretRepository
{
    // Count-then-write must not interleave, or concurrent puts could pass the limit.
    private readonly Lock _writeLock = new();

    public SecretRecord? Put(SecretRecord secret, int maxPerUser)
    {
        lock (_writeLock)
        {
            secret.Id = RowId(secret.UserId, secret.Name);
            var existing = db.Secrets.FindById(secret.Id);
            if (existing is null && db.Secrets.Count(s => s.UserId == secret.UserId) >= maxPerUser) return null;
            if (existing is not null) secret.CreatedAt = existing.CreatedAt;
            db.Secrets.Upsert(secret);
            return secret;
        }
    }

    public bool Delete(ObjectId userId, string name) => db.Secrets.Delete(RowId(userId, name));

    public IReadOnlyList<SecretRecord> List(ObjectId userId) =>
        db.Secrets.Find(s => s.UserId == userId).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();

    private static string RowId(ObjectId userId, string name) => $"{userId}/{name}";
}
