namespace PythOn.Sandbox.Agent;

/// <summary>Configuration section "Agent" (appsettings.json or env vars such as Agent__Pool__Python=2).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Unix socket the gRPC service listens on; empty disables it.</summary>
    public string SocketPath { get; set; } = "/run/pyth-on/agent.sock";

    /// <summary>Optional TCP endpoint, e.g. "127.0.0.1:8090" (HTTP/2). Requires <see cref="AuthToken"/>: the link carries
    /// code, secrets and ZK master passwords. A non-loopback address also needs TLS (<see cref="Tls"/>) unless
    /// <see cref="AllowCleartextTcp"/> is set (a private network you trust, documented as a risk).</summary>
    public string? ListenTcp { get; set; }

    /// <summary>Shared secret every caller must send as "authorization: Bearer TOKEN" (at least 32 characters).
    /// Required with ListenTcp; optional on the unix socket (whose file mode already limits who can connect).</summary>
    public string? AuthToken { get; set; }

    /// <summary>Serve TCP in cleartext on a non-loopback address (not recommended).</summary>
    public bool AllowCleartextTcp { get; set; }

    /// <summary>TLS for the TCP endpoint, optionally with client certificates (mutual TLS).</summary>
    public AgentTlsOptions Tls { get; set; } = new();

    /// <summary>Docker Engine API endpoint.</summary>
    public string DockerEndpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>Runtime image (scripts/build-runtime-image.sh tags its latest build pyth-on-runtime:current).</summary>
    public string Image { get; set; } = "pyth-on-runtime:current";

    /// <summary>Stable name of this agent: its containers carry the label pyth-on.agent=&lt;id&gt;, and at start
    /// it removes every container with that label left by an earlier process (orphans).</summary>
    public string InstanceId { get; set; } = "default";

    /// <summary>Directory for the agent's own files on the Docker host (the empty resolv.conf mounted read-only
    /// into slots; runs see /dev/null there instead).</summary>
    public string StateDir { get; set; } = "/run/pyth-on";

    /// <summary>After SIGTERM, how long runs in flight may take to finish (new runs are refused with UNAVAILABLE at
    /// once); then the remaining runs end with their slots.</summary>
    public int ShutdownGraceSeconds { get; set; } = 30;

    public PoolOptions Pool { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public PackageOptions Packages { get; set; } = new();
}

/// <summary>TLS of the agent's TCP endpoint (section Agent:Tls).</summary>
public sealed class AgentTlsOptions
{
    /// <summary>PEM certificate (chain) of the agent; empty: no TLS.</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>PEM private key of that certificate.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>PEM CA certificate that client certificates must chain to; set: every caller needs one (mutual TLS).</summary>
    public string ClientCaPath { get; set; } = "";
}

/// <summary>Package installs (section Agent:Packages): the install container and the store.</summary>
public sealed class PackageOptions
{
    /// <summary>Host directory of the package stores. Mounted read-only at /packages into every sandbox;
    /// mode 0711 (not listable), each store 0755 under a content-addressed name.</summary>
    public string StoreRoot { get; set; } = "/var/lib/pyth-on/packages";

    /// <summary>Installer image (scripts/build-installer-image.sh tags its latest build pyth-on-installer:current).</summary>
    public string InstallerImage { get; set; } = "pyth-on-installer:current";

    /// <summary>Docker network of the install container. "none" (default): its only way out is the agent's egress
    /// proxy, which reaches the configured index hosts and nothing else. Another network ("host") gives the installer
    /// that network directly (npm and pip follow URLs in package metadata: it could reach this host's loopback and
    /// link-local addresses): not recommended.</summary>
    public string Network { get; set; } = "none";

    /// <summary>More hosts installs may reach besides the index hosts, as host or host:port (443 when no port):
    /// PyPI's index links to files.pythonhosted.org.</summary>
    public List<string> AllowedHosts { get; set; } = ["files.pythonhosted.org"];

    /// <summary>Python package index (PEP 503 simple API) given to pip as --index-url.</summary>
    public string PipIndexUrl { get; set; } = "https://pypi.org/simple";

    /// <summary>npm registry given to npm as --registry.</summary>
    public string NpmRegistry { get; set; } = "https://registry.npmjs.org/";

    /// <summary>Host file of trusted CA certificates (PEM) for the installer's HTTPS, mounted read-only and used by
    /// pip (PIP_CERT) and npm (NODE_EXTRA_CA_CERTS). The default is the host's own trust store, so an index behind a
    /// TLS-inspecting proxy whose CA the host trusts works; empty uses the installer image's ca-certificates only.</summary>
    public string CaBundle { get; set; } = "/etc/ssl/certs/ca-certificates.crt";

    /// <summary>uid/gid the installer runs as (must not be a sandbox uid).</summary>
    public int InstallerUid { get; set; } = 19999;

    /// <summary>Wall-clock limit of one install; on expiry the container is killed and the install fails.</summary>
    public int InstallTimeoutSeconds { get; set; } = 300;

    /// <summary>Largest store (file bytes). Enforced while the install runs: the installer writes into a tmpfs of this
    /// size (its pages count against <see cref="MemoryMb"/>), and the agent counts again while extracting its output.</summary>
    public int MaxStoreSizeMb { get; set; } = 512;

    /// <summary>Total size of all stores: after each new store (and at start) the least recently used others are
    /// removed until the total fits (never one in use by a run). 0: no limit.</summary>
    public int MaxTotalStoreSizeMb { get; set; } = 10_240;

    /// <summary>Most files, directories and links in one store (the tmpfs inode cap, counted again while extracting).</summary>
    public int MaxStoreFiles { get; set; } = 200_000;

    /// <summary>Most requirements in one install.</summary>
    public int MaxRequirements { get; set; } = 100;

    /// <summary>Installs running at once (more wait their turn).</summary>
    public int MaxConcurrentInstalls { get; set; } = 2;

    /// <summary>Memory of the install container (memory = memory+swap). Files in its /out and /tmp tmpfs count against
    /// it, so it should exceed MaxStoreSizeMb plus what pip or npm hold in /tmp (pip --target stages the whole set there
    /// first) plus the tools themselves; an install that runs out is OOM-killed and fails naming this setting.</summary>
    public int MemoryMb { get; set; } = 2048;

    /// <summary>Size of the install container's /tmp tmpfs (pip and npm caches, unpacking).</summary>
    public int TmpSizeMb { get; set; } = 1024;

    /// <summary>Processes in the install container.</summary>
    public long PidsLimit { get; set; } = 256;

    /// <summary>Largest single file the installer may write (ulimit fsize).</summary>
    public int FileSizeMb { get; set; } = 256;
}

/// <summary>Slots (section Agent:Pool): long-lived containers that serve runs one at a time.</summary>
public sealed class PoolOptions
{
    /// <summary>Slots serving Python runs: at most this many Python runs at once on this agent.</summary>
    public int Python { get; set; } = 4;

    /// <summary>Slots serving JavaScript runs.</summary>
    public int JavaScript { get; set; } = 2;

    /// <summary>Runs a slot serves before it is replaced. 1 gives one container per run (the slot's container
    /// then never sees a second run, at ~150–300 ms of Docker CPU per run); higher values keep runs apart by the
    /// run sandbox alone.</summary>
    public int RunsPerSlot { get; set; } = 1000;

    /// <summary>Age after which a slot is replaced (when it next becomes free).</summary>
    public int SlotMaxAgeSeconds { get; set; } = 3600;

    /// <summary>How many slots are started at once.</summary>
    public int RefillConcurrency { get; set; } = 2;

    /// <summary>Upper bound on slot containers alive at once (serving + starting + being removed); each gets its own uid.</summary>
    public int MaxSandboxes { get; set; } = 32;

    /// <summary>Slot uid index n runs as uid/gid UidBase+n.</summary>
    public int UidBase { get; set; } = 20000;

    /// <summary>How long a run waits for a free slot of its language before RESOURCE_EXHAUSTED.</summary>
    public int AcquireTimeoutMs { get; set; } = 10_000;

    /// <summary>How long a new slot (or a slot's next run sandbox) may take to get ready before it is given up.</summary>
    public int SlotStartTimeoutMs { get; set; } = 30_000;

    /// <summary><see cref="SlotStartTimeoutMs"/> as the wait it is, never under a second.</summary>
    public TimeSpan SlotReadyTimeout => TimeSpan.FromMilliseconds(Math.Max(1000, SlotStartTimeoutMs));

    /// <summary>How long a killed run may take to end before its slot is removed as an anomaly.</summary>
    public int KillGraceMs { get; set; } = 3_000;
}

public sealed class LimitOptions
{
    public int DefaultTimeoutMs { get; set; } = 10_000;
    public int MaxTimeoutMs { get; set; } = 120_000;
    public int DefaultMaxOutputBytes { get; set; } = 1 << 20;
    public int MaxOutputBytes { get; set; } = 16 << 20;
    public int MemoryMb { get; set; } = 256;
    public int MaxMemoryMb { get; set; } = 2048;
    public double Cpus { get; set; } = 1.0;
    public long PidsLimit { get; set; } = 128;
    public int TmpSizeMb { get; set; } = 64;
    public int WorkSizeMb { get; set; } = 64;
    public int ShmSizeMb { get; set; } = 16;
    /// <summary>Inode cap per tmpfs: without it an empty-file flood ends in an OOM kill instead of ENOSPC.</summary>
    public int TmpfsInodes { get; set; } = 8192;
    public int OpenFiles { get; set; } = 1024;
    public int FileSizeMb { get; set; } = 64;
    /// <summary>Upper bound on code + stdin + env + args of one request.</summary>
    public int MaxJobBytes { get; set; } = 16 << 20;
    /// <summary>Interactive runs end when neither stdin nor output came for this long (a request may ask for less, or
    /// more up to MaxIdleTimeoutMs).</summary>
    public int DefaultIdleTimeoutMs { get; set; } = 30_000;
    public int MaxIdleTimeoutMs { get; set; } = 600_000;
    /// <summary>Most stdin bytes one interactive run takes in all.</summary>
    public long MaxInteractiveStdinBytes { get; set; } = 16 << 20;
}
