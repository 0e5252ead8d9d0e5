using LiteDB;

namespace PythOn.Server.Storage;

// Stored records, shared by every provider; ids keep LiteDB's ObjectId type (the only LiteDB type features use).
// Times are Unix milliseconds (UTC): LiteDB would hand DateTime back in local time.

public sealed class UserRecord
{
    public ObjectId Id { get; set; } = ObjectId.NewObjectId();
    /// <summary>Lower-cased; unique.</summary>
    public string Email { get; set; } = "";
    /// <summary>Argon2id PHC string.</summary>
    public string PasswordHash { get; set; } = "";
    public long CreatedAt { get; set; }
    /// <summary>Unix ms of the last RevokeAllCredentials: JWTs issued before it are refused (0: never).</summary>
    public long TokensRevokedAt { get; set; }
}

public sealed class ApiKeyRecord
{
    public ObjectId Id { get; set; } = ObjectId.NewObjectId();
    public ObjectId UserId { get; set; } = ObjectId.Empty;
    /// <summary>SHA-256 of the key, hex; the key itself is never stored.</summary>
    public string KeyHash { get; set; } = "";
    public long CreatedAt { get; set; }
}

public sealed class RefreshTokenRecord
{
    /// <summary>SHA-256 of the token, hex.</summary>
    public string Id { get; set; } = "";
    public ObjectId UserId { get; set; } = ObjectId.Empty;
    /// <summary>All tokens rotated from one sign-in share a family; reuse of any revokes the family.</summary>
    public string FamilyId { get; set; } = "";
    public long ExpiresAt { get; set; }
    public long? UsedAt { get; set; }
    public bool Revoked { get; set; }
}

public sealed class SecretRecord
{
    /// <summary>"{userId}/{name}".</summary>
    public string Id { get; set; } = "";
    public ObjectId UserId { get; set; } = ObjectId.Empty;
    public string Name { get; set; } = "";
    public byte[] Nonce { get; set; } = [];
    public byte[] Ciphertext { get; set; } = [];
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

public sealed class PackageRecord
{
    /// <summary>"{userId}/{language}/{name}".</summary>
    public string Id { get; set; } = "";
    public ObjectId UserId { get; set; } = ObjectId.Empty;
    public string Language { get; set; } = "";
    public string Name { get; set; } = "";
    public string Requirement { get; set; } = "";
    public string Version { get; set; } = "";
    public string Status { get; set; } = "pending";
    public string Message { get; set; } = "";
    public long AddedAt { get; set; }
    public long UpdatedAt { get; set; }
}

public sealed class AuditRecord
{
    /// <summary>Auto-incremented: the order of appends, which is what "newest first" pages over.</summary>
    public long Id { get; set; }
    /// <summary>Null for events that belong to no account (e.g. a login with an unknown email).</summary>
    public ObjectId? UserId { get; set; }
    public long Time { get; set; }
    public string Action { get; set; } = "";
    public string Resource { get; set; } = "";
    public string Outcome { get; set; } = "";
    public string ClientAddress { get; set; } = "";
    public Dictionary<string, string> Details { get; set; } = [];
}

public sealed class ZkCodeRecord
{
    /// <summary>"{userId}/{name}".</summary>
    public string Id { get; set; } = "";
    public ObjectId UserId { get; set; } = ObjectId.Empty;
    public string Name { get; set; } = "";
    public string Language { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>The v1 payload's parts, opaque to the server: it never derives a key or decrypts.</summary>
    public byte[] Salt { get; set; } = [];
    public byte[] Nonce { get; set; } = [];
    public byte[] Ciphertext { get; set; } = [];
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}
