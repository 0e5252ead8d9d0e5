using LiteDB;

namespace PythOn.Server.Storage;

/// <summary>
/// Accounts and their API keys (PythOn:Storage:Provider picks LiteDB or PostgreSQL). Every method is one atomic
/// operation that is committed when it returns, and safe when several server replicas share the store.
/// </summary>
public interface IAccountRepository
{
    /// <summary>Inserts the user and its first API key together; false (nothing written) when the email is taken.</summary>
    bool TryCreate(UserRecord user, ApiKeyRecord firstKey);

    /// <summary>The user with this (lower-cased) email, or null.</summary>
    UserRecord? FindByEmail(string email);

    UserRecord? FindById(ObjectId userId);

    /// <summary>The owner of the API key with this SHA-256 hash (hex), or null.</summary>
    UserRecord? FindByApiKeyHash(string keyHash);

    /// <summary>Deletes every API key of the user and stores <paramref name="newKey"/>, in one transaction; returns how many keys were deleted.</summary>
    int ReplaceApiKeys(ObjectId userId, ApiKeyRecord newKey);

    /// <summary>
    /// In one transaction: deletes every API key of the user, revokes every refresh token of the user that is not revoked
    /// yet, and sets the user's TokensRevokedAt to <paramref name="now"/>. Null (nothing written) when the user does not exist.
    /// </summary>
    (int ApiKeys, int RefreshTokens)? RevokeAllCredentials(ObjectId userId, long now);
}
