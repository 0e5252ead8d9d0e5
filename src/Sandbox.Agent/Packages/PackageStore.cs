using System.Runtime.InteropServices;
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
///   .staging/          0700 root  fresh install directories (owned by the installer uid while it runs)
///   .requests/         0700 root  requested-set hash → store id (the cache that skips the installer)
///   .key               0600 root  random key: store ids are HMACs of the resolved set under it
/// </code>
/// A store id is HMAC-SHA256(key, language + resolved set), so identical resolved sets share one store, but a
/// sandbox cannot compute the id of a set it was not given (it could otherwise probe which sets exist).
/// A store becomes visible only complete: it is installed into .staging, re-owned to root, made read-only
/// and then renamed into place (atomic on one file system).
/// </summary>
public sealed partial class PackageStore(IOptions<AgentOptions> options, ILogger<PackageStore> log)
{
    public const string MountPoint = "/packages";
    public const string ManifestFile = "pyth-on-manifest.json";
    private const UnixFileMode Mode0711 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Mode0755 = Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

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
            var manifest = ReadManifest(PathOf(storeId));
            return (storeId, manifest, DirectorySize(PathOf(storeId)));
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            log.LogWarning("Ignoring unreadable cache entry {Key}: {Error}", requestKey, e.Message);
            return null;
        }
    }

    /// <summary>A fresh, empty staging directory owned by the installer uid (mounted as /out in the install container).</summary>
    public string CreateStaging(int installerUid)
    {
        var dir = Path.Combine(StagingRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, Mode0700);
        Chown(dir, installerUid);
        return dir;
    }

    /// <summary>
    /// Makes a finished staging directory a store: drops everything that is not a regular file, directory or
    /// in-tree symlink, re-owns everything to root, sets modes (dirs 0755, files 0644 or 0755), measures it,
    /// and renames it to its content-addressed id. The install container has exited, so nothing changes under us;
    /// symlinks are never followed.
    /// </summary>
    public StoreOutcome Commit(string staging, string language, long maxBytes)
    {
        var size = Normalize(staging, staging);
        if (size > maxBytes)
        {
            DeleteQuietly(staging);
            return StoreOutcome.Failed(
                $"the installed packages take {size / (1024 * 1024)} MiB, more than the store limit of {maxBytes / (1024 * 1024)} MiB");
        }
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
        if (Directory.Exists(target))
        {
            DeleteQuietly(staging); // the same resolved set is already installed: share it
            return StoreOutcome.Ready(storeId, resolved, DirectorySize(target), reused: true);
        }
        File.SetUnixFileMode(staging, Mode0755);
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            DeleteQuietly(staging); // a concurrent install of the same resolved set won the rename
            return StoreOutcome.Ready(storeId, resolved, DirectorySize(target), reused: true);
        }
        return StoreOutcome.Ready(storeId, resolved, size, reused: false);
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

    /// <summary>Returns the bytes of regular files under <paramref name="dir"/> after normalising it.</summary>
    private long Normalize(string dir, string top)
    {
        long size = 0;
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            var path = entry.FullName;
            if (entry.LinkTarget is { } target)
            {
                // Symlinks resolve inside the sandbox's own mount namespace; keep only those that stay in the store
                // (npm's node_modules/.bin links), so a store never points at the sandbox's other files.
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
                if (Path.IsPathRooted(target) || !resolved.StartsWith(top + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    File.Delete(path);
                else
                    Chown(path, 0);
                continue;
            }
            if (entry is DirectoryInfo && entry.Name == "__pycache__")
            {
                // Byte-code is dropped: pip compiles it in a temporary directory whose random name ends up inside every
                // .pyc, so identical sets would never hash alike, and a .pyc need not match its source (a timestamp
                // pyc is trusted by its header). Programs compile package code at import instead (the store is
                // read-only, so nothing is cached: a few ms per thousand lines).
                Directory.Delete(path, recursive: true);
                continue;
            }
            if (entry is DirectoryInfo)
            {
                size += Normalize(path, top);
                Chown(path, 0);
                File.SetUnixFileMode(path, Mode0755);
                continue;
            }
            if ((entry.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) != 0 || !IsRegularFile(path))
            {
                File.Delete(path); // fifos, sockets
                continue;
            }
            Chown(path, 0); // also clears any setuid/setgid bit
            var executable = (entry.UnixFileMode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
            File.SetUnixFileMode(path, executable ? Mode0755 : Mode0644);
            size += ((FileInfo)entry).Length;
        }
        return size;
    }

    private static long DirectorySize(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Sum(f => f.Length);

    private static bool IsRegularFile(string path)
    {
        if (Lstat(path, out var st) != 0)
            return false;
        return (st.Mode & 0xF000) == 0x8000; // S_IFREG
    }

    private static void Chown(string path, int uid)
    {
        if (lchown(path, uid, uid) != 0)
            throw new IOException($"lchown {path} to {uid} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int lchown(string path, int owner, int group);

    [StructLayout(LayoutKind.Sequential)]
    private struct StatBuf
    {
        public uint Mode;
    }

    // statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE) reads only the type: portable across architectures.
    private static int Lstat(string path, out StatBuf st)
    {
        var buffer = new byte[256];
        var rc = statx(-100, path, 0x100, 0x1, buffer);
        st = new StatBuf { Mode = BitConverter.ToUInt16(buffer, 28) };
        return rc;
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);

    [GeneratedRegex(@"\A(?:py|js)-[0-9a-f]{40}\z", RegexOptions.CultureInvariant)]
    private static partial Regex StoreIdRegex();
}

/// <summary>What committing an install gave.</summary>
public sealed record StoreOutcome(bool Ok, string StoreId, IReadOnlyList<string> Resolved, long Size, string Message, bool Reused)
{
    public static StoreOutcome Failed(string message) => new(false, "", [], 0, message, false);
    public static StoreOutcome Ready(string id, IReadOnlyList<string> resolved, long size, bool reused) => new(true, id, resolved, size, "", reused);
}
