using System.Formats.Tar;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// Writes the installer's tar stream (its finished /out) into a root-owned staging directory, trusting nothing in it:
/// only regular files, directories and symlinks whose target stays inside the tree are written (other entry types
/// and escaping symlinks are dropped, as is byte-code); every name must be a plain relative path under a directory
/// this extractor created itself, so nothing is ever written through a symlink; a name seen twice, an absolute name
/// or a ".." fails the install; and the file bytes and entry count are capped while reading, so a stream bigger than
/// the store limits is never written out. Files get mode 0644 (0755 when executable), directories 0755, owner the agent.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the agent runs on Linux (Docker host)
public static class StoreExtractor
{
    private const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Extracts <paramref name="tar"/> into the empty directory <paramref name="root"/>; returns the file bytes written.</summary>
    /// <exception cref="StoreLimitException">the stream holds more than <paramref name="maxBytes"/> file bytes or
    /// <paramref name="maxEntries"/> entries</exception>
    /// <exception cref="InvalidDataException">the stream is not a tar or names a path outside the tree</exception>
    public static async Task<long> ExtractAsync(Stream tar, string root, long maxBytes, long maxEntries, CancellationToken ct)
    {
        var directories = new HashSet<string>(StringComparer.Ordinal) { "" };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0, entries = 0;
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            if (++entries > maxEntries)
                throw new StoreLimitException(StoreLimit.Files);
            var name = RelativeName(entry.Name);
            if (name.Length == 0)
                continue; // "." itself
            if (!seen.Add(name))
                throw new InvalidDataException($"the installer's output names '{name}' twice");
            if (name.Split('/').Contains("__pycache__"))
                continue; // byte-code is never stored (see PackageStore)
            var parent = name.Contains('/') ? name[..name.LastIndexOf('/')] : "";
            if (!directories.Contains(parent))
                throw new InvalidDataException($"the installer's output has '{name}' before its directory");
            var path = Path.Combine(root, name);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    File.SetUnixFileMode(path, Mode0755);
                    directories.Add(name);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    bytes += entry.Length;
                    if (bytes > maxBytes)
                        throw new StoreLimitException(StoreLimit.Bytes);
                    var mode = (entry.Mode & AnyExecute) != 0 ? Mode0755 : Mode0644;
                    await using (var file = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode, Options = FileOptions.Asynchronous,
                    }))
                    {
                        if (entry.DataStream is { } data)
                            await CopyExactlyAsync(data, file, entry.Length, ct);
                    }
                    File.SetUnixFileMode(path, mode); // the umask may have narrowed the create mode
                    break;
                case TarEntryType.SymbolicLink:
                    // Links resolve inside the sandbox's own mount namespace: keep only those that stay in the store
                    // (npm's node_modules/.bin links), so a store never points at the sandbox's other files.
                    var target = entry.LinkName;
                    var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
                    if (target.Length > 0 && !Path.IsPathRooted(target) && !target.Contains('\0')
                        && resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        File.CreateSymbolicLink(path, target);
                    break;
                default:
                    break; // hard links, devices, fifos: never stored
            }
        }
        return bytes;
    }

    /// <summary>A plain relative path with '/' separators ("" for the root), or InvalidDataException.</summary>
    private static string RelativeName(string raw)
    {
        var parts = raw.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (raw.StartsWith('/') || raw.Contains('\0') || parts.Any(p => p == ".."))
            throw new InvalidDataException($"the installer's output names a path outside the store: '{raw.Replace("\0", "\\0")}'");
        return string.Join('/', parts);
    }

    private static async Task CopyExactlyAsync(Stream from, Stream to, long length, CancellationToken ct)
    {
        var buffer = new byte[81920];
        while (length > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), ct);
            if (read == 0)
                throw new InvalidDataException("the installer's output ended inside a file");
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
            length -= read;
        }
    }
}

/// <summary>Which store limit an install went over.</summary>
public enum StoreLimit
{
    Bytes,
    Files,
}

/// <summary>An install's files went over a store limit (the tmpfs filled, or the extractor counted past it).</summary>
public sealed class StoreLimitException(StoreLimit limit) : Exception($"store limit exceeded: {limit}")
{
    public StoreLimit Limit { get; } = limit;
}
