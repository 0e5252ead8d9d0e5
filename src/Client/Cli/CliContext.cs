using System.CommandLine;
using PythOn.Cli.Config;
using PythOn.Client;

namespace PythOn.Cli;

/// <summary>What every command needs: the server address, the output mode, the config file and clients.</summary>
public sealed class CliContext
{
    /// <summary>Environment variable naming the server.</summary>
    public const string ServerVariable = "PYTH_ON_SERVER";
    /// <summary>Environment variable holding an API key (overrides the config file).</summary>
    public const string ApiKeyVariable = "PYTH_ON_API_KEY";
    /// <summary>The server when nothing else says which.</summary>
    public const string DefaultServer = "http://127.0.0.1:8081";

    /// <summary>--server, on every command.</summary>
    public static readonly Option<string?> ServerOption = new("--server", "-s")
    {
        Description = $"gRPC address of the server (default: ${ServerVariable}, then the config file, then {DefaultServer})",
        Recursive = true,
        HelpName = "URL",
    };

    /// <summary>--json, on every command.</summary>
    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Machine-readable output: JSON on stdout",
        Recursive = true,
    };

    private CliContext(bool json, string server, ConfigStore store, CliConfig config)
    {
        Json = json;
        Server = server;
        Store = store;
        Config = config;
    }

    /// <summary>True for --json.</summary>
    public bool Json { get; }

    /// <summary>The normalised server address (scheme://host:port).</summary>
    public string Server { get; }

    /// <summary>The config file.</summary>
    public ConfigStore Store { get; }

    /// <summary>The config as loaded.</summary>
    public CliConfig Config { get; }

    /// <summary>Resolves the server (flag, env, config, default) and loads the config.</summary>
    public static CliContext From(ParseResult parse)
    {
        var store = ConfigStore.Default();
        var config = store.Load();
        var server = parse.GetValue(ServerOption);
        if (string.IsNullOrWhiteSpace(server)) server = Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(server)) server = config.Server;
        if (string.IsNullOrWhiteSpace(server)) server = DefaultServer;
        return new CliContext(parse.GetValue(JsonOption), Normalize(server), store, config);
    }

    /// <summary>"http://host:port" for a server URL; a usage error for anything else.</summary>
    public static string Normalize(string server)
    {
        if (!Uri.TryCreate(server.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw CliException.Usage($"'{server}' is not a server address: use http://host:port (the gRPC port, 8081 by default).");
        return uri.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>The stored credentials for this server, or null.</summary>
    public ServerCredentials? StoredCredentials =>
        Config.Credentials.TryGetValue(Server, out var c) && c.IsSignedIn ? c : null;

    /// <summary>A client without credentials (register, login, health, info).</summary>
    public PythOnClient Anonymous() => new(new PythOnClientOptions { Address = new Uri(Server) });

    /// <summary>Whether an API key ($PYTH_ON_API_KEY) or stored credentials for this server exist.</summary>
    public bool HasCredentials => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable)) || StoredCredentials is not null;

    /// <summary>
    /// A client with this server's credentials: $PYTH_ON_API_KEY, else the config file's API key, else its token
    /// (refreshed when needed, the new pair written back to the config file).
    /// </summary>
    public PythOnClient Authenticated()
    {
        var envKey = Environment.GetEnvironmentVariable(ApiKeyVariable);
        if (!string.IsNullOrEmpty(envKey)) return new PythOnClient(new PythOnClientOptions { Address = new Uri(Server), ApiKey = envKey });

        var stored = StoredCredentials
            ?? throw new CliException($"not signed in to {Server}: run `pyth-on login` (or `pyth-on register`).", ExitCodes.Auth);
        var client = new PythOnClient(new PythOnClientOptions
        {
            Address = new Uri(Server),
            ApiKey = stored.ApiKey,
            Token = stored.Token,
            RefreshToken = stored.RefreshToken,
            TokenExpiresAt = stored.ExpiresAt,
        });
        client.CredentialsChanged += (_, e) =>
        {
            // Refresh tokens rotate: the old one is dead now, so the new pair must be on disk.
            stored.Token = e.Credentials.Token;
            stored.RefreshToken = e.Credentials.RefreshToken;
            stored.ExpiresAt = e.Credentials.TokenExpiresAt;
            Store.Save(Config);
        };
        return client;
    }

    /// <summary>Stores credentials for this server and makes it the default server.</summary>
    public void SaveCredentials(ServerCredentials credentials)
    {
        Config.Credentials[Server] = credentials;
        Config.Server = Server;
        Store.Save(Config);
    }
}
