using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Server.Hosting;

namespace PythOn.Server.Storage;

/// <summary>The LiteDB file and its collections. LiteDatabase is thread-safe; one instance per process.</summary>
public sealed class Database : IDisposable
{
    private readonly LiteDatabase _db;

    public Database(IOptions<PythOnOptions> options)
    {
        var directory = options.Value.FullDataDirectory;
        DataDirectory.Ensure(directory);
        Path = System.IO.Path.Combine(directory, "pyth-on.db");
        // Direct mode: this process owns the file. Every insert/update commits (and writes its log page)
        // before it returns, so an acknowledged write survives kill -9.
        // LiteDB's default mapper stores "" as null and trims strings; records hold exact values ("" included).
        var mapper = new BsonMapper { EmptyStringToNull = false, TrimWhitespace = false };
        _db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct }, mapper);

        // Owner-only, like the data directory: hashes and ciphertexts are nobody else's business.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Users.EnsureIndex(u => u.Email, unique: true);
        ApiKeys.EnsureIndex(k => k.KeyHash, unique: true);
        RefreshTokens.EnsureIndex(t => t.FamilyId);
        Secrets.EnsureIndex(s => s.UserId);
        Packages.EnsureIndex(p => p.UserId);
        Audit.EnsureIndex(a => a.UserId);
        ZkCode.EnsureIndex(z => z.UserId);
    }

    public string Path { get; }

    public ILiteCollection<UserRecord> Users => _db.GetCollection<UserRecord>("users");
    public ILiteCollection<ApiKeyRecord> ApiKeys => _db.GetCollection<ApiKeyRecord>("api_keys");
    public ILiteCollection<RefreshTokenRecord> RefreshTokens => _db.GetCollection<RefreshTokenRecord>("refresh_tokens");
    public ILiteCollection<SecretRecord> Secrets => _db.GetCollection<SecretRecord>("secrets");
    public ILiteCollection<PackageRecord> Packages => _db.GetCollection<PackageRecord>("packages");
    public ILiteCollection<ZkCodeRecord> ZkCode => _db.GetCollection<ZkCodeRecord>("zk_code");
    public ILiteCollection<AuditRecord> Audit => _db.GetCollection<AuditRecord>("audit", BsonAutoId.Int64);

    /// <summary>Runs several writes as one transaction (LiteDB transactions are per thread: keep it synchronous).</summary>
    public void InTransaction(Action work)
    {
        _db.BeginTrans();
        try
        {
            work();
            _db.Commit();
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }

    /// <summary>A cheap read that fails when the file is unusable.</summary>
    public bool Ping() => _db.GetCollectionNames() is not null;

    /// <summary>Readiness: a write reaches the store and its directory (where LiteDB writes its log and checkpoints)
    /// takes a new file. Throws with the reason when not.</summary>
    public void ProbeWrite()
    {
        _db.GetCollection("health_probe").Upsert(new LiteDB.BsonDocument { ["_id"] = 1, ["at"] = Clock.NowMs() });
        var probe = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, ".write-probe");
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }

    public void Dispose() => _db.Dispose();
}

public static class Clock
{
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static Google.Protobuf.WellKnownTypes.Timestamp ToTimestamp(long unixMs) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
