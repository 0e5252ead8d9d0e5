using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PythOn.Tests.Packages;

/// <summary>
/// A PEP 503 "simple" package index served by Kestrel on 127.0.0.1 (port 0) in the test process, with wheels and
/// sdists built here: no PyPI is reachable from this machine, so the real pip in the install container (host
/// network) installs from this. Also used by the server tests (linked source file).
/// <code>
/// GET /simple/&lt;name&gt;/       anchors to the files, with #sha256= fragments
/// GET /files/&lt;file&gt;          the wheel or sdist
/// </code>
/// </summary>
public sealed class PackageIndex : IAsyncDisposable
{
    private readonly Dictionary<string, List<(string File, byte[] Bytes)>> _projects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _elsewhere = new(StringComparer.Ordinal);
    private WebApplication? _app;
    private int _downloads;

    /// <summary>The --index-url for pip, e.g. http://127.0.0.1:41234/simple.</summary>
    public string SimpleUrl { get; private set; } = "";

    /// <summary>How many files were downloaded (an install that comes from a cache downloads nothing).</summary>
    public int Downloads => Volatile.Read(ref _downloads);

    /// <summary>Adds a pure-Python wheel "name-version-py3-none-any.whl" whose module (name with '_') has VALUE = "name version".</summary>
    public PackageIndex AddWheel(string name, string version, string? extraCode = null)
    {
        var module = name.Replace('-', '_');
        var distInfo = $"{module}-{version}.dist-info";
        var files = new List<(string Path, byte[] Bytes)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes($"VALUE = \"{name} {version}\"\n{extraCode}")),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: Pyth-On test package\n\n")),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: pyth-on-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n")),
        };

        Add(name, $"{module}-{version}-py3-none-any.whl", Wheel(distInfo, files));
        return this;
    }

    /// <summary>Adds a wheel like <see cref="AddWheel"/> that also installs <paramref name="files"/> data files of
    /// <paramref name="bytesEach"/> zero bytes (small on the wire, that big once installed).</summary>
    public PackageIndex AddPaddedWheel(string name, string version, int files, int bytesEach)
    {
        var module = name.Replace('-', '_');
        var distInfo = $"{module}-{version}.dist-info";
        var entries = new List<(string Path, byte[] Bytes)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes($"VALUE = \"{name} {version}\"\n")),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: pyth-on-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n")),
        };
        for (var i = 0; i < files; i++)
            entries.Add(($"{module}/pad{i}.bin", new byte[bytesEach]));
        Add(name, $"{module}-{version}-py3-none-any.whl", Wheel(distInfo, entries));
        return this;
    }

    /// <summary>
    /// Adds a malicious wheel "name-version": its own metadata is consistent (pip accepts it), but its .data/purelib
    /// files install a module <paramref name="victimModule"/> with VALUE = "POISONED" and overwrite its installed
    /// METADATA to claim it is <paramref name="claimedName"/> <paramref name="claimedVersion"/>. An installer that
    /// names what it installed from the installed metadata then reports exactly the victim's set.
    /// </summary>
    public PackageIndex AddLyingWheel(string name, string version, string claimedName, string claimedVersion, string victimModule)
    {
        var module = name.Replace('-', '_');
        var distInfo = $"{module}-{version}.dist-info";
        var data = $"{module}-{version}.data/purelib";
        var files = new List<(string Path, byte[] Bytes)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes("VALUE = \"liar\"\n")),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n")),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: pyth-on-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n")),
            ($"{data}/{victimModule}/__init__.py", Encoding.UTF8.GetBytes("VALUE = \"POISONED\"\n")),
            ($"{data}/{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {claimedName}\nVersion: {claimedVersion}\n\n")),
        };
        Add(name, $"{module}-{version}-py3-none-any.whl", Wheel(distInfo, files));
        return this;
    }

    /// <summary>Adds a project whose only file the index page links somewhere else (<paramref name="url"/>): an
    /// installer that follows index links would fetch from there.</summary>
    public PackageIndex AddLinkElsewhere(string name, string version, string url)
    {
        _elsewhere[Normalize(name)] = $"<a href=\"{url}\">{name.Replace('-', '_')}-{version}-py3-none-any.whl</a><br/>\n";
        return this;
    }

    /// <summary>Adds only a source distribution "name-version.tar.gz" (pip with --only-binary=:all: must refuse it).</summary>
    public PackageIndex AddSdist(string name, string version)
    {
        var root = $"{name}-{version}";
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz))
        {
            void File(string path, string text)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(entry);
            }
            File($"{root}/PKG-INFO", $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
            // Would run at build time; it must never run (only wheels are installed).
            File($"{root}/setup.py", "raise SystemExit('setup.py ran: sdists must never be built')\n");
        }
        Add(name, $"{root}.tar.gz", buffer.ToArray());
        return this;
    }

    /// <summary>A wheel (zip) of <paramref name="files"/> with its RECORD.</summary>
    private static byte[] Wheel(string distInfo, List<(string Path, byte[] Bytes)> files)
    {
        var record = new StringBuilder();
        foreach (var (path, bytes) in files)
            record.Append($"{path},sha256={Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_')},{bytes.Length}\n");
        record.Append($"{distInfo}/RECORD,,\n");
        files.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, bytes) in files)
            {
                using var entry = zip.CreateEntry(path).Open();
                entry.Write(bytes);
            }
        }
        return buffer.ToArray();
    }

    private void Add(string name, string file, byte[] bytes)
    {
        var key = Normalize(name);
        if (!_projects.TryGetValue(key, out var list))
            _projects[key] = list = [];
        list.Add((file, bytes));
    }

    public static string Normalize(string name) => System.Text.RegularExpressions.Regex.Replace(name, "[-_.]+", "-").ToLowerInvariant();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetTempPath() });
        // Nothing from the test process's configuration (e.g. the server's appsettings.json with its Kestrel
        // endpoints, copied next to the server tests) may move this index off 127.0.0.1:0.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        // Routing ignores the trailing slash: this serves /simple/<name>/ and /simple/<name>.
        _app.MapGet("/simple/{name}/", (string name) =>
        {
            if (_elsewhere.TryGetValue(Normalize(name), out var link))
                return Results.Content($"<!DOCTYPE html><html><body>\n{link}</body></html>\n", "text/html");
            if (!_projects.TryGetValue(Normalize(name), out var files))
                return Results.NotFound();
            var html = new StringBuilder("<!DOCTYPE html><html><body>\n");
            foreach (var (file, bytes) in files)
                html.Append($"<a href=\"/files/{file}#sha256={Convert.ToHexStringLower(SHA256.HashData(bytes))}\">{file}</a><br/>\n");
            html.Append("</body></html>\n");
            return Results.Content(html.ToString(), "text/html");
        });
        _app.MapGet("/files/{file}", (string file) =>
        {
            var match = _projects.Values.SelectMany(f => f).FirstOrDefault(f => f.File == file);
            if (match.Bytes is null)
                return Results.NotFound();
            Interlocked.Increment(ref _downloads);
            return Results.Bytes(match.Bytes, "application/octet-stream");
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        SimpleUrl = address.TrimEnd('/') + "/simple";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }
}
