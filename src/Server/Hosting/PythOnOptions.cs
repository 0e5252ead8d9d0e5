namespace PythOn.Server.Hosting;

/// <summary>Server configuration, bound from the "PythOn" section (env: PythOn__DataDirectory, ...).</summary>
public sealed class PythOnOptions
{
    public const string Section = "PythOn";

    /// <summary>Where the LiteDB file and generated keys live. Relative paths are under the working directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The storage provider (LiteDB or PostgreSQL) and its connection.</summary>
    public Storage.StorageOptions Storage { get; set; } = new();

    public JwtOptions Jwt { get; set; } = new();

    /// <summary>Base64 of 32 bytes; when unset a key is generated into the data directory (mode 0600).</summary>
    public string? SecretsKey { get; set; }

    public RateLimitOptions RateLimits { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public PackageInstallOptions Packages { get; set; } = new();

    /// <summary>Sandbox agent addresses: "unix:/path/agent.sock", "https://host:port", (loopback, or with
    /// AllowCleartextAgents) "http://host:port", or "dns:///name:port" for every address the name resolves to.</summary>
    public List<string> Agents { get; set; } = [];

    /// <summary>Agent discovery (DNS refresh), status polling and health timings.</summary>
    public Agents.AgentFleetOptions Fleet { get; set; } = new();

    /// <summary>Key that shows Health's details (agents, Docker, pool, model) to a caller without an account, sent as
    /// the header x-operator-key (monitoring). Unset: only authenticated callers see details.</summary>
    public string? OperatorKey { get; set; }

    /// <summary>The agents' shared token (their Agent:AuthToken), sent on every call as "authorization: Bearer TOKEN".</summary>
    public string? AgentToken { get; set; }

    /// <summary>Allow http:// agent addresses that are not loopback (the link then crosses the network in clear).</summary>
    public bool AllowCleartextAgents { get; set; }

    /// <summary>Client certificate for agents that require mutual TLS, and the CA their certificates chain to.</summary>
    public AgentClientTlsOptions AgentTls { get; set; } = new();

    /// <summary>After SIGTERM, how long requests in flight (runs, streams) may take to finish; readiness turns 503 at once.</summary>
    public int ShutdownGraceSeconds { get; set; } = 30;

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}

public sealed class AgentClientTlsOptions
{
    /// <summary>PEM client certificate presented to agents (Agent:Tls:ClientCaPath on their side); empty: none.</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>PEM private key of the client certificate.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>PEM CA that agents' server certificates must chain to; empty: the system's trust store.</summary>
    public string CaPath { get; set; } = "";
}

public sealed class JwtOptions
{
    /// <summary>Base64 of at least 32 bytes; when unset a key is generated into the data directory (mode 0600).</summary>
    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "pyth-on";
    public string Audience { get; set; } = "pyth-on";
    public int LifetimeMinutes { get; set; } = 60;
    public int RefreshLifetimeDays { get; set; } = 30;
}

public sealed class RateLimitOptions
{
    /// <summary>Register and login attempts per minute per client address.</summary>
    public int AuthPerMinute { get; set; } = 10;
    /// <summary>Authenticated requests per minute per user.</summary>
    public int UserPerMinute { get; set; } = 300;
    /// <summary>Calls of the ZK encrypt testing helper per minute per user.</summary>
    public int ZkEncryptPerMinute { get; set; } = 10;
    /// <summary>Generate calls per minute per user (each may ask the model up to five times).</summary>
    public int GeneratePerMinute { get; set; } = 10;
    /// <summary>Anonymous requests (health, info, docs) per minute per client address.</summary>
    public int AnonymousPerMinute { get; set; } = 600;
}

public sealed class LimitOptions
{
    public int MaxSecretsPerUser { get; set; } = 100;
    public int MaxSecretBytes { get; set; } = 64 * 1024;
    public int MaxPackagesPerLanguage { get; set; } = 50;
    public int MaxCodeBytes { get; set; } = 256 * 1024;
    public int MaxStdinBytes { get; set; } = 1024 * 1024;
    public double DefaultTimeoutSeconds { get; set; } = 10;
    public double MaxTimeoutSeconds { get; set; } = 60;
    public int MaxOutputBytes { get; set; } = 1024 * 1024;
    public int MemoryMb { get; set; } = 256;
    /// <summary>Runs one user may have in progress at once (Execute, ExecuteStream, ZK ExecuteCode, Generate with
    /// execution); beyond it RESOURCE_EXHAUSTED (429) with Retry-After.</summary>
    public int MaxConcurrentRunsPerUser { get; set; } = 2;
    /// <summary>Most stdin bytes one interactive run takes in all; past it the run ends (stopped_at_stdin_cap).</summary>
    public long MaxInteractiveStdinBytes { get; set; } = 8 * 1024 * 1024;
    /// <summary>Password hashes (register, login) computed at once; each takes 19 MiB and a core for tens of ms.</summary>
    public int PasswordChecksAtOnce { get; set; } = Math.Max(2, Environment.ProcessorCount);
    /// <summary>How long a sign-in waits for a free password check before RESOURCE_EXHAUSTED (429) with Retry-After.</summary>
    public int PasswordCheckWaitMs { get; set; } = 10_000;
    /// <summary>Largest request body, REST or gRPC.</summary>
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;
}

/// <summary>Package installation (section PythOn:Packages).</summary>
public sealed class PackageInstallOptions
{
    /// <summary>How long a run waits for its packages: for the caller's list to finish installing, and for a
    /// per-request set to be installed. Then the run fails with UNAVAILABLE (503) "still installing".</summary>
    public double RunWaitSeconds { get; set; } = 30;

    /// <summary>Most packages one request may add (ExecuteRequest.packages, ZK ExecuteCode packages).</summary>
    public int MaxPerRequest { get; set; } = 20;

    /// <summary>Background installs (user lists) running at once.</summary>
    public int InstallWorkers { get; set; } = 2;

    /// <summary>How long the server waits for one background install on an agent (the agent's own install limit
    /// is Agent:Packages:InstallTimeoutSeconds).</summary>
    public double InstallWaitSeconds { get; set; } = 900;

    /// <summary>When no agent is reachable, a list install is retried after this long (its packages stay pending).</summary>
    public double RetrySeconds { get; set; } = 30;
}
