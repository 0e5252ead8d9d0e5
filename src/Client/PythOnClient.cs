using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using SystemClient = PythOn.Api.V1.System.SystemClient;

namespace PythOn.Client;

// The methods are grouped by service in PythOnClient.<Service>.cs; credentials and the authenticated call in
// PythOnClient.Auth.cs.
/// <summary>
/// A client for every RPC of the Pyth-On API over gRPC (one HTTP/2 channel, thread-safe, dispose when done).
/// </summary>
/// <remarks>
/// <para><b>Authentication.</b> Calls carry <c>x-api-key</c> when an API key is set, otherwise
/// <c>authorization: Bearer</c> with the current token. With a refresh token the client renews the token shortly
/// before it expires and once more when the server answers UNAUTHENTICATED (the rejected call is then repeated
/// once, which is safe: the server refused it before doing anything). Refresh tokens rotate: each works once,
/// so save the new pair from <see cref="CredentialsChanged"/>.</para>
/// <para><b>Retries.</b> gRPC's built-in retry policy (exponential backoff with jitter) repeats a call that failed
/// with UNAVAILABLE, and only for the RPCs listed in <see cref="RetriedMethods"/>: reads, idempotent writes
/// (put, set, add-or-replace, store, delete) and Login. Never retried: runs (Execute, ExecuteStream,
/// ZK.ExecuteCode, Generate), Register and RefreshToken. The server answers UNAVAILABLE both when no sandbox
/// agent could be reached (nothing ran) and when an agent failed during a run (the program may have run, with
/// its side effects and audit entry), and the two cannot be told apart from the status alone; a single-use
/// refresh token presented twice revokes the whole sign-in, and a repeated Register would lose the API key.
/// Those calls fail at once and the caller decides.</para>
/// <para>Every method takes a <see cref="CancellationToken"/>; errors surface as <see cref="RpcException"/> with
/// the status the API documents.</para>
/// </remarks>
public sealed partial class PythOnClient : IDisposable
{
    /// <summary>The RPCs retried on UNAVAILABLE, as "service/method" with the proto package, e.g. "pythonapi.v1.Secrets/PutSecret".</summary>
    public static IReadOnlyList<string> RetriedMethods { get; } =
    [
        "pythonapi.v1.Auth/Login",
        "pythonapi.v1.Auth/VerifyToken",
        "pythonapi.v1.Secrets/PutSecret",
        "pythonapi.v1.Secrets/DeleteSecret",
        "pythonapi.v1.Secrets/ListSecrets",
        "pythonapi.v1.Packages/ListPackages",
        "pythonapi.v1.Packages/SetPackages",
        "pythonapi.v1.Packages/AddPackage",
        "pythonapi.v1.Packages/RemovePackage",
        "pythonapi.v1.Audit/GetAuditLog",
        "pythonapi.v1.System/Health",
        "pythonapi.v1.System/Info",
        "pythonapi.v1.ZK/Encrypt",
        "pythonapi.v1.ZK/StoreCode",
        "pythonapi.v1.ZK/DeleteCode",
        "pythonapi.v1.ZK/ListCode",
    ];

    // Renew a token this long before it expires, so a call does not race the expiry.
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);

    private readonly GrpcChannel _channel;
    private readonly Auth.AuthClient _auth;
    private readonly Execute.ExecuteClient _execute;
    private readonly Secrets.SecretsClient _secrets;
    private readonly Packages.PackagesClient _packages;
    private readonly Audit.AuditClient _audit;
    private readonly SystemClient _system;
    private readonly Generate.GenerateClient _generate;
    private readonly ZK.ZKClient _zk;

    private readonly Lock _state = new();
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private string? _apiKey;
    private string? _token;
    private string? _refreshToken;
    private DateTimeOffset? _expiresAt;

    /// <summary>Creates a client for <paramref name="address"/> with an API key (or none, for anonymous calls and sign-in).</summary>
    /// <param name="address">The server's gRPC address, e.g. <c>http://127.0.0.1:8081</c>.</param>
    /// <param name="apiKey">An API key (<c>pyapi_...</c>), or null.</param>
    public PythOnClient(string address, string? apiKey = null)
        : this(new PythOnClientOptions { Address = new Uri(address), ApiKey = apiKey })
    {
    }

    /// <summary>Creates a client from options (address, API key or token and refresh token, retry settings).</summary>
    /// <param name="options">The settings; read once, here.</param>
    public PythOnClient(PythOnClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Address);
        Address = options.Address;
        _apiKey = NullIfEmpty(options.ApiKey);
        _token = NullIfEmpty(options.Token);
        _refreshToken = NullIfEmpty(options.RefreshToken);
        _expiresAt = options.TokenExpiresAt;

        _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler,
            DisposeHttpClient = true,
            ServiceConfig = BuildServiceConfig(options),
            MaxRetryAttempts = Math.Max(1, options.MaxAttempts),
        });
        _auth = new Auth.AuthClient(_channel);
        _execute = new Execute.ExecuteClient(_channel);
        _secrets = new Secrets.SecretsClient(_channel);
        _packages = new Packages.PackagesClient(_channel);
        _audit = new Audit.AuditClient(_channel);
        _system = new SystemClient(_channel);
        _generate = new Generate.GenerateClient(_channel);
        _zk = new ZK.ZKClient(_channel);
    }

    /// <summary>The server address this client talks to.</summary>
    public Uri Address { get; }

    /// <summary>The credentials the client currently holds.</summary>
    public PythOnCredentials Credentials
    {
        get
        {
            lock (_state) return new PythOnCredentials(_apiKey, _token, _refreshToken, _expiresAt);
        }
    }

    /// <summary>
    /// Raised after <see cref="RegisterAsync"/>, <see cref="LoginAsync"/> or a token refresh changed the credentials.
    /// Handlers run on the calling thread and should be quick (e.g. write the refresh token to disk).
    /// </summary>
    public event EventHandler<PythOnCredentialsChangedEventArgs>? CredentialsChanged;

    /// <summary>Closes the channel.</summary>
    public void Dispose()
    {
        _channel.Dispose();
        _refreshGate.Dispose();
    }

    private static ServiceConfig BuildServiceConfig(PythOnClientOptions options)
    {
        var config = new ServiceConfig();
        if (options.MaxAttempts <= 1) return config;
        var method = new MethodConfig
        {
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = options.MaxAttempts,
                InitialBackoff = options.InitialBackoff,
                MaxBackoff = options.MaxBackoff,
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        foreach (var name in RetriedMethods)
        {
            var slash = name.IndexOf('/');
            method.Names.Add(new MethodName { Service = name[..slash], Method = name[(slash + 1)..] });
        }
        config.MethodConfigs.Add(method);
        return config;
    }
}
