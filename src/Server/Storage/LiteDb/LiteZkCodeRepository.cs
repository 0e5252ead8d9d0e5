using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteZkCodeRepository(LiteDatabaseFile db) : IZkCodeRepository
{
    // Count-then-write must not interleave, or concurrent puts could pass the limit.
    private readonly Lock _writeLock = new();

    public ZkCodeRecord? Put(ZkCodeRecord program, int maxPerUser)
    {
        lock (_writeLock)
        {
            program.Id = RowId(program.UserId, program.Name);
            var existing = db.ZkCode.FindById(program.Id);
            if (existing is null && db.ZkCode.Count(z => z.UserId == program.UserId) >= maxPerUser) return null;
            if (existing is not null) program.CreatedAt = existing.CreatedAt;
            db.ZkCode.Upsert(program);
            return program;
        }
    }

    public ZkCodeRecord? Find(ObjectId userId, string name) => db.ZkCode.FindById(RowId(userId, name));

    public bool Delete(ObjectId userId, string name) => db.ZkCode.Delete(RowId(userId, name));

    public IReadOnlyList<ZkCodeRecord> List(ObjectId userId) =>
        db.ZkCode.Find(z => z.UserId == userId).OrderBy(z => z.Name, StringComparer.Ordinal).ToList();

    private static string RowId(ObjectId userId, string name) => $"{userId}/{name}";
}
