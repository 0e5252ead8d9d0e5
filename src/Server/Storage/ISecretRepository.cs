using LiteDB;

namespace PythOn.Server.Storage;

/// <summary>Encrypted secret rows (the repository never sees plaintext), keyed by (user, name).</summary>
public interface ISecretRepository
{
    /// <summary>
    /// Inserts or replaces the (UserId, Name) row. A replacement keeps the stored CreatedAt. A new name is refused (null
    /// returned, nothing written) when the user already has <paramref name="maxPerUser"/> secrets; the count and the write
    /// are one atomic step, also across replicas. Returns the row as stored.
    /// </summary>
    SecretRecord? Put(SecretRecord secret, int maxPerUser);

    /// <summary>False when there was no such row.</summary>
    bool Delete(ObjectId userId, string name);

    /// <summary>The user's rows ordered by name (ordinal).</summary>
    IReadOnlyList<SecretRecord> List(ObjectId userId);
}
