using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteAccountRepository(LiteDatabaseFile db) : IAccountRepository
{
    public bool TryCreate(UserRecord user, ApiKeyRecord firstKey)
    {
        try
        {
            db.InTransaction(() =>
            {
                db.Users.Insert(user);
                db.ApiKeys.Insert(firstKey);
            });
            return true;
        }
        catch (LiteException e) when (e.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            // The unique email index refused it (the rollback dropped the key too).
            return false;
        }
    }

    public UserRecord? FindByEmail(string email) => db.Users.FindOne(u => u.Email == email);

    public UserRecord? FindById(ObjectId userId) => db.Users.FindById(userId);

    public UserRecord? FindByApiKeyHash(string keyHash)
    {
        var key = db.ApiKeys.FindOne(k => k.KeyHash == keyHash);
        return key is null ? null : db.Users.FindById(key.UserId);
    }

    public int ReplaceApiKeys(ObjectId userId, ApiKeyRecord newKey) => db.InTransaction(() =>
    {
        var deleted = db.ApiKeys.DeleteMany(k => k.UserId == userId);
        db.ApiKeys.Insert(newKey);
        return deleted;
    });

    public (int ApiKeys, int RefreshTokens)? RevokeAllCredentials(ObjectId userId, long now)
    {
        lock (db.RefreshTokenLock)
        {
            return db.InTransaction<(int, int)?>(() =>
            {
                var user = db.Users.FindById(userId);
                if (user is null) return null;
                var keys = db.ApiKeys.DeleteMany(k => k.UserId == userId);
                var tokens = db.RefreshTokens.Find(t => t.UserId == userId && !t.Revoked).ToList();
                foreach (var t in tokens) t.Revoked = true;
                var revoked = db.RefreshTokens.Update(tokens);
                user.TokensRevokedAt = now;
                db.Users.Update(user);
                return (keys, revoked);
            });
        }
    }
}
