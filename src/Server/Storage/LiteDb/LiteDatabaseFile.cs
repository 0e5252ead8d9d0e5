using LiteDB;

namespace PythOn.Server.Storage.LiteDb;

/// <summary>
/// The LiteDB file and its collections, shared by the LiteDB repositories. LiteDatabase is thread-safe; one instance
/// per process, and one process per file (Direct mode): the repositories' locks make their read-then-write steps atomic.
/// </summary>
public sealed class LiteDatabaseFile : IDisposable
{
    public const string FileName = "pyth-on.db";

    /// <summary>Keys and names compare byte for byte (as in PostgreSQL with C collation): "B" and "b" are two names.</summary>
    private static readonly Collation Ordinal = new(System.Globalization.CultureInfo.InvariantCulture.LCID, System.Globalization.CompareOptions.Ordinal);
    private readonly LiteDatabase _db;

    public LiteDatabaseFile(string directory)
    {
        Hosting.DataDirectory.Ensure(directory);
        Path = System.IO.Path.Combine(directory, FileName);
        // Direct mode: this process owns the file. Every insert/update commits (and writes its log page)
        // before it returns, so an acknowledged write survives kill -9.
        // LiteDB's default mapper stores "" as null and trims strings; records hold exact values ("" included).
        var mapper = new BsonMapper { EmptyStringToNull = false, TrimWhitespace = false };
        _db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct }, mapper);
        // A file's collation is fixed when it is created (opening it with another one fails), and LiteDB's default
        // ignores case: ids "{user}/B" and "{user}/b" were one row. So a file made with the default (every new file,
        // and those of earlier versions) is rebuilt once; ignoring case → ordinal only splits keys, never merges them.
        if (_db.Collation.ToString() != Ordinal.ToString()) _db.Rebuild(new LiteDB.Engine.RebuildOptions { Collation = Ordinal });

        // Owner-only, like the data directory: hashes and ciphertexts are nobody else's business.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Users.EnsureIndex(u => u.Email, unique: true);
        ApiKeys.EnsureIndex(k => k.KeyHash, unique: true);
        ApiKeys.EnsureIndex(k => k.UserId);
        RefreshTokens.EnsureIndex(t => t.FamilyId);
        RefreshTokens.EnsureIndex(t => t.UserId);
        Secrets.EnsureIndex(s => s.UserId);
        Packages.EnsureIndex(p => p.UserId);
        ZkCode.EnsureIndex(z => z.UserId);
        // Every collection exists before another thread can touch the file: LiteDB 5 may corrupt its header page when
        // one transaction creates a collection while another commits (litedb-org/LiteDB#2792, #2503).
        WriteHealthProbe();
    }

    public string Path { get; }

    /// <summary>Held by every write of refresh tokens: redemption (its repository) and revocation (the account
    /// repository's RevokeAllCredentials) read a row and write it back, so they must not interleave.</summary>
    internal Lock RefreshTokenLock { get; } = new();

    internal ILiteCollection<UserRecord> Users => _db.GetCollection<UserRecord>("users");
    internal ILiteCollection<ApiKeyRecord> ApiKeys => _db.GetCollection<ApiKeyRecord>("api_keys");
    internal ILiteCollection<RefreshTokenRecord> RefreshTokens => _db.GetCollection<RefreshTokenRecord>("refresh_tokens");
    internal ILiteCollection<SecretRecord> Secrets => _db.GetCollection<SecretRecord>("secrets");
    internal ILiteCollection<PackageRecord> Packages => _db.GetCollection<PackageRecord>("packages");
    internal ILiteCollection<ZkCodeRecord> ZkCode => _db.GetCollection<ZkCodeRecord>("zk_code");
    private ILiteCollection<BsonDocument> HealthProbe => _db.GetCollection("health_probe");

    /// <summary>Runs several writes as one transaction (LiteDB transactions are per thread: keep it synchronous).</summary>
    internal T InTransaction<T>(Func<T> work)
    {
        _db.BeginTrans();
        try
        {
            var result = work();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }

    internal void InTransaction(Action work) => InTransaction(() =>
    {
        work();
        return 0;
    });

    /// <summary>
    /// Hands the audit entries this file holds from before the audit log had a file of its own (SqliteAuditRepository)
    /// to <paramref name="move"/>, oldest first, 10,000 at a time, and drops them once every batch is handed over.
    /// Called while the file is opened, before any other thread uses it (dropping a collection beside another thread's
    /// commit is what LiteDB 5 may get wrong); a move cut short leaves them here to be moved again.
    /// </summary>
    internal void MoveLegacyAudit(Action<IReadOnlyList<AuditRecord>> move)
    {
        const string legacy = "audit";
        if (!_db.CollectionExists(legacy)) return;
        foreach (var batch in _db.GetCollection<AuditRecord>(legacy).Query().OrderBy(a => a.Id).ToEnumerable().Chunk(10_000))
            move(batch);
        _db.DropCollection(legacy);
    }

    /// <summary>A cheap read that fails when the file is unusable.</summary>
    internal bool Ping() => _db.GetCollectionNames() is not null;

    /// <summary>A write reaches the store and its directory (where LiteDB writes its log and checkpoints) takes a new
    /// file. Throws with the reason when not.</summary>
    internal void ProbeWrite()
    {
        WriteHealthProbe();
        var probe = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, ".write-probe");
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }

    private void WriteHealthProbe() => HealthProbe.Upsert(new BsonDocument { ["_id"] = 1, ["at"] = Clock.NowMs() });

    public void Dispose() => _db.Dispose();
}
