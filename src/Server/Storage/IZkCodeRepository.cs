using LiteDB;

namespace PythOn.Server.Storage;

/// <summary>Stored zero-knowledge programs (opaque ciphertext), keyed by (user, name).</summary>
public interface IZkCodeRepository
{
    /// <summary>
    /// Inserts or replaces the (UserId, Name) row; a replacement keeps the stored CreatedAt. A new name is refused (null,
    /// nothing written) when the user already has <paramref name="maxPerUser"/> programs (atomic with the write).
    /// </summary>
    ZkCodeRecord? Put(ZkCodeRecord program, int maxPerUser);

    ZkCodeRecord? Find(ObjectId userId, string name);

    bool Delete(ObjectId userId, string name);

    /// <summary>The user's programs ordered by name (ordinal).</summary>
    IReadOnlyList<ZkCodeRecord> List(ObjectId userId);
}
