using System.Text.Json;
using System.Text.Json.Serialization;

namespace PythOn.Cli.Config;

/// <summary>The user's config file: the default server and the credentials per server.</summary>
public sealed class CliConfig
{
    /// <summary>The server used when neither --server nor PYTH_ON_SERVER says otherwise.</summary>
    [JsonPropertyName("server")]
    public string? Server { get; set; }

    /// <summary>Credentials by server address (credentials are only ever sent to the server they came from).</summary>
    [JsonPropertyName("credentials")]
    public Dictionary<string, ServerCredentials> Credentials { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>What pyth-on keeps to authenticate to one server.</summary>
public sealed class ServerCredentials
{
    /// <summary>The account's email.</summary>
    [JsonPropertyName("email")]
    public string? Email { get; set; }

    /// <summary>The API key (from register), sent as x-api-key; preferred over the token.</summary>
    [JsonPropertyName("apiKey")]
    public string? ApiKey { get; set; }

    /// <summary>The JWT from login.</summary>
    [JsonPropertyName("token")]
    public string? Token { get; set; }

    /// <summary>The single-use refresh token; replaced on every refresh.</summary>
    [JsonPropertyName("refreshToken")]
    public string? RefreshToken { get; set; }

    /// <summary>When the token expires.</summary>
    [JsonPropertyName("expiresAt")]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>True when there is something to authenticate with.</summary>
    [JsonIgnore]
    public bool IsSignedIn => !string.IsNullOrEmpty(ApiKey) || !string.IsNullOrEmpty(Token);
}

/// <summary>
/// Reads and writes $XDG_CONFIG_HOME/pyth-on/config.json (or ~/.config/pyth-on/config.json): directory 0700,
/// file 0600, replaced atomically so a crash never leaves half a file.
/// </summary>
public sealed class ConfigStore(string path)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The file's path.</summary>
    public string Path { get; } = path;

    /// <summary>The default location, from XDG_CONFIG_HOME, else HOME/.config.</summary>
    public static ConfigStore Default()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var baseDir = !string.IsNullOrEmpty(xdg) && System.IO.Path.IsPathRooted(xdg)
            ? xdg
            : System.IO.Path.Combine(HomeDirectory(), ".config");
        return new ConfigStore(System.IO.Path.Combine(baseDir, "pyth-on", "config.json"));
    }

    private static string HomeDirectory()
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        return !string.IsNullOrEmpty(home) ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
    }

    /// <summary>The config, or an empty one when the file does not exist.</summary>
    public CliConfig Load()
    {
        if (!File.Exists(Path)) return new CliConfig();
        try
        {
            var config = JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(Path), Options) ?? new CliConfig();
            config.Credentials = new Dictionary<string, ServerCredentials>(config.Credentials ?? [], StringComparer.Ordinal);
            return config;
        }
        catch (JsonException e)
        {
            throw CliException.Usage($"the config file {Path} is not valid JSON ({e.Message}): fix or delete it, then `pyth-on login`.");
        }
    }

    /// <summary>Writes the config with mode 0600 (directory 0700).</summary>
    public void Save(CliConfig config)
    {
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var temp = $"{Path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                // A leftover temp file from a crashed run may have been created with other bits: set them again.
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                JsonSerializer.Serialize(stream, config, Options);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, Path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
