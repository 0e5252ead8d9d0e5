using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// The package stores on the Docker host, under <see cref="PackageOptions.StoreRoot"/>:
/// <code>
/// StoreRoot/            0711 root  mounted read-only at /packages in every sandbox; not listable there
///   py-&lt;hex&gt;/          0755 root  one resolved python set: site-packages/ (pip --target)
///   js-&lt;hex&gt;/          0755 root  one resolved javascript set: node_modules/ (npm --prefix)
///   .staging/          0700 root  fresh install directories (the agent extracts the installer's output there)
///   .requests/         0700 root  requested-set hash → store id (the cache that skips the installer)
///   .key               0600 root  random key: store ids are HMACs of the resolved set under it
/// </code>
/// A store id is HMAC-SHA256(key, language + every installed file's path, mode and content hash), so identical
/// installed trees share one store, but a sandbox cannot compute the id of a set it was not given (it could otherwise
/// probe which sets exist), and the installer's own claims (its manifest) never decide which store a set gets.
/// A store becomes visible only complete: the installer's output is extracted into .staging by the agent (root-owned,
/// checked entry by entry, capped) and then renamed into place (atomic on one file system).
/// </summary>
public sealed partial class PackageStore(IOptions<AgentOptions> options, ILogger<PackageStore> log)
{
    public const string MountPoint = "/packages";
    public const string ManifestFile = "pyth-on-manifest.json";
    private const UnixFileMode Mode0711 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Mode0755 = Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private byte[] _key = [];

    public string Root { get; } = Path.GetFullPath(options.Value.Packages.StoreRoot);
    private string StagingRoot => Path.Combine(Root, ".staging");
    private string RequestsRoot => Path.Combine(Root, ".requests");

    /// <summary>Creates the layout with its modes and loads (or creates) the id key; removes stale staging dirs.</summary>
    public void Initialize()
    {
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, Mode0711);
        foreach (var dir in new[] { StagingRoot, RequestsRoot })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, Mode0700);
        }
        foreach (var stale in Directory.EnumerateDirectories(StagingRoot))
            DeleteQuietly(stale);

        var keyPath = Path.Combine(Root, ".key");
        if (!File.Exists(keyPath))
        {
            File.WriteAllText(keyPath + ".tmp", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            File.SetUnixFileMode(keyPath + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(keyPath + ".tmp", keyPath, overwrite: false);
        }
        _key = Convert.FromBase64String(File.ReadAllText(keyPath).Trim());
        log.LogInformation("Package stores at {Root}", Root);
    }

    public static bool IsValidId(string id) => StoreIdRegex().IsMatch(id);

    public static string Prefix(string language) => language == "python" ? "py" : "js";

    public string PathOf(string storeId) => Path.Combine(Root, storeId);

    public bool Exists(string storeId) => IsValidId(storeId) && Directory.Exists(PathOf(storeId));

    /// <summary>Cache key of a requested set: language, index and the sorted requirements.</summary>
    public static string RequestKey(string language, string index, IEnumerable<string> requirements)
    {
        var text = $"{language}\n{index}\n{string.Join("\n", requirements.OrderBy(r => r, StringComparer.Ordinal))}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The store a requested set resolved to before, when it still exists.</summary>
    public (string StoreId, IReadOnlyList<string> Resolved, long Size)? FindCached(string requestKey)
    {
        var path = Path.Combine(RequestsRoot, requestKey);
        if (!File.Exists(path))
            return null;
        try
        {
            var storeId = File.ReadAllText(path).Trim();
            if (!Exists(storeId))
                return null;
            Touch(storeId);
            var manifest = ReadManifest(PathOf(storeId));
            return (storeId, manifest, DirectorySize(PathOf(storeId)));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            log.LogWarning("Ignoring unreadable cache entry {Key}: {Error}", requestKey, e.Message);
            return null;
        }
    }

    /// <summary>A fresh, empty, root-owned staging directory the agent extracts an installer's output into.</summary>
    public string CreateStaging()
    {
        var dir = Path.Combine(StagingRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, Mode0700);
        return dir;
    }

    /// <summary>
    /// Makes a finished staging directory (written by <see cref="StoreExtractor"/>: root-owned, normalised modes, only
    /// files, directories and in-tree symlinks) a store: reads its manifest and renames it to its content-addressed id.
    /// </summary>
    public StoreOutcome Commit(string staging, string language, long size)
    {
        IReadOnlyList<string> resolved;
        try
        {
            resolved = ReadManifest(staging);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            DeleteQuietly(staging);
            return StoreOutcome.Failed($"the installer left no readable manifest: {e.Message}");
        }

        // The id is the agent's own keyed hash of the installed files: the installer's manifest (the packages' own
        // metadata, which a malicious wheel controls) only describes the set and never decides which store it is.
        var storeId = ContentId(staging, language);
        var target = PathOf(storeId);
        File.SetUnixFileMode(staging, Mode0755);
        lock (Gate)
        {
            // Under the gate, so the collector cannot remove a store between "it exists" and its last use being recorded.
            if (!Directory.Exists(target))
            {
                Directory.Move(staging, target);
                Touch(storeId);
                return StoreOutcome.Ready(storeId, resolved, size, reused: false);
            }
            Touch(storeId);
        }
        DeleteQuietly(staging); // the same installed tree is already a store: share it
        return StoreOutcome.Ready(storeId, resolved, DirectorySize(target), reused: true);
    }

    /// <summary>Held while a store appears (Commit), is removed (<see cref="StoreCollector"/>) or is taken for a run.</summary>
    public object Gate { get; } = new();

    /// <summary>Every store on disk.</summary>
    public IReadOnlyList<string> StoreIds() =>
        Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && IsValidId(n)).ToList()!;

    /// <summary>Records a use of a store (its directory's mtime, so it survives restarts): the collector removes the
    /// least recently used first.</summary>
    public void Touch(string storeId)
    {
        try
        {
            Directory.SetLastWriteTimeUtc(PathOf(storeId), DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not record the use of store {Store}: {Error}", storeId, e.Message);
        }
    }

    public DateTime LastUse(string storeId) => Directory.GetLastWriteTimeUtc(PathOf(storeId));

    public long SizeOf(string storeId) => DirectorySize(PathOf(storeId));

    /// <summary>Takes a store out of sight at once (renamed into .staging, hold <see cref="Gate"/>); the caller deletes
    /// the returned directory later. Request-cache entries that named it are dropped.</summary>
    public string Retire(string storeId)
    {
        var retired = Path.Combine(StagingRoot, "retired-" + Guid.NewGuid().ToString("N"));
        Directory.Move(PathOf(storeId), retired);
        foreach (var entry in Directory.EnumerateFiles(RequestsRoot))
        {
            try
            {
                if (File.ReadAllText(entry).Trim() == storeId)
                    File.Delete(entry);
            }
            catch (IOException)
            {
                // a concurrent Remember replaced it: it names another (or a re-created) store
            }
        }
        return retired;
    }

    public void Remember(string requestKey, string storeId)
    {
        var path = Path.Combine(RequestsRoot, requestKey);
        File.WriteAllText(path + ".tmp", storeId);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public void DeleteQuietly(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true); // does not follow symlinks
        }
        catch (Exception e)
        {
            log.LogWarning("Could not delete {Dir}: {Error}", dir, e.Message);
        }
    }

    /// <summary>Keyed hash of a normalised tree: every entry's relative path, kind and mode, a file's content hash,
    /// a symlink's target, in ordinal order. Equal trees share one store; a sandbox cannot compute an id (the key).</summary>
    private string ContentId(string root, string language)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.UTF8.GetBytes(language + "\n"));
        void Walk(string dir)
        {
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(root, entry.FullName);
                var mode = Convert.ToString((int)File.GetUnixFileMode(entry.FullName), 8);
                if (entry.LinkTarget is { } link)
                {
                    hmac.AppendData(Encoding.UTF8.GetBytes($"L {relative}\0{link}\n"));
                }
                else if (entry is DirectoryInfo)
                {
                    hmac.AppendData(Encoding.UTF8.GetBytes($"D {relative}\0{mode}\n"));
                    Walk(entry.FullName);
                }
                else
                {
                    using var stream = File.OpenRead(entry.FullName);
                    var digest = Convert.ToHexStringLower(SHA256.HashData(stream));
                    hmac.AppendData(Encoding.UTF8.GetBytes($"F {relative}\0{mode}\0{digest}\n"));
                }
            }
        }
        Walk(root);
        return $"{Prefix(language)}-{Convert.ToHexStringLower(hmac.GetHashAndReset())[..40]}";
    }

    private static IReadOnlyList<string> ReadManifest(string dir)
    {
        var info = new FileInfo(Path.Combine(dir, ManifestFile));
        if (!info.Exists || info.LinkTarget is not null || info.Length > 4 << 20)
            throw new IOException($"{ManifestFile} is missing or not a plain file under 4 MiB");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(info.FullName));
        return doc.RootElement.GetProperty("resolved").EnumerateArray()
            .Select(e => e.GetString() ?? "").Where(s => s.Length is > 0 and <= 300)
            .Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
    }

    private static long DirectorySize(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Sum(f => f.Length);

    [GeneratedRegex(@"\A(?:py|js)-[0-9a-f]{40}\z", RegexOptions.CultureInvariant)]
    private static partial Regex StoreIdRegex();
}

/// <summary>What committing an install gave.</summary>
public sealed record StoreOutcome(bool Ok, string StoreId, IReadOnlyList<string> Resolved, long Size, string Message, bool Reused)
{
    public static StoreOutcome Failed(string message) => new(false, "", [], 0, message, false);
    public static StoreOutcome Ready(string id, IReadOnlyList<string> resolved, long size, bool reused) => new(true, id, resolved, size, "", reused);
}
