using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using PythOn.Api.Operations;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using SystemClient = PythOn.Api.V1.System.SystemClient;

namespace PythOn.Client;

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
/// with UNAVAILABLE, and only for the RPCs listed in <see cref="RetriedMethods"/>: those the proto marks
/// <c>idempotent: true</c> (reads, writes that set a state such as put, set, add-or-replace, store, delete, and Login).
/// Never retried: runs (Execute, ExecuteStream, ZK.ExecuteCode, Generate), Register, RefreshToken, RotateApiKey and
/// RevokeAllCredentials. The server answers UNAVAILABLE both when no sandbox
/// agent could be reached (nothing ran) and when an agent failed during a run (the program may have run, with
/// its side effects and audit entry), and the two cannot be told apart from the status alone; a single-use
/// refresh token presented twice revokes the whole sign-in, and a repeated Register would lose the API key.
/// Those calls fail at once and the caller decides.</para>
/// <para>Every method takes a <see cref="CancellationToken"/>; errors surface as <see cref="RpcException"/> with
/// the status the API documents.</para>
/// </remarks>
public sealed partial class PythOnClient : IDisposable
{
    /// <summary>The RPCs retried on UNAVAILABLE, as "service/method" with the proto package, e.g. "pythonapi.v1.Secrets/PutSecret":
    /// those whose <c>(pythonapi.v1.operation)</c> option says <c>idempotent: true</c> (<see cref="ApiOperations"/>).</summary>
    public static IReadOnlyList<string> RetriedMethods { get; } =
        [.. ApiOperations.All.Where(o => o.Info.Idempotent).Select(o => o.FullName)];

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

    // ---------------------------------------------------------------- Auth

    /// <summary>
    /// Creates an account (Auth.Register). The response holds the API key, shown only this once; the client
    /// adopts the returned API key, token and refresh token for its later calls. Not retried.
    /// </summary>
    /// <param name="email">The account's email address.</param>
    /// <param name="password">8 to 256 characters with at least one letter and one non-letter.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The token, refresh token, API key and account.</returns>
    public async Task<AuthResponse> RegisterAsync(string email, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(password);
        var response = await _auth.RegisterAsync(new AuthRequest { Email = email, Password = password }, cancellationToken: cancellationToken);
        Adopt(response.HasApiKey ? response.ApiKey : null, response, replaceApiKey: true);
        return response;
    }

    /// <summary>
    /// Signs in with email and password (Auth.Login). The client then authenticates with the returned token
    /// (any API key it held is dropped) and refreshes it with the returned refresh token.
    /// </summary>
    /// <param name="email">The account's email address.</param>
    /// <param name="password">The password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The token, refresh token and account (no API key).</returns>
    public async Task<AuthResponse> LoginAsync(string email, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(password);
        var response = await _auth.LoginAsync(new AuthRequest { Email = email, Password = password }, cancellationToken: cancellationToken);
        Adopt(null, response, replaceApiKey: true);
        return response;
    }

    /// <summary>Returns the account the client's credentials belong to (Auth.VerifyToken).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The account, with <c>auth_method</c> "api_key" or "jwt".</returns>
    public Task<UserInfo> VerifyTokenAsync(CancellationToken cancellationToken = default) =>
        CallAsync((h, ct) => _auth.VerifyTokenAsync(new VerifyTokenRequest(), h, cancellationToken: ct), cancellationToken);

    /// <summary>
    /// Exchanges the client's refresh token for a new token and refresh token (Auth.RefreshToken) and adopts them.
    /// Not retried: a refresh token works once and presenting a used one revokes the sign-in.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new credentials.</returns>
    /// <exception cref="InvalidOperationException">The client holds no refresh token.</exception>
    public async Task<AuthResponse> RefreshTokenAsync(CancellationToken cancellationToken = default)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            string refresh;
            lock (_state) refresh = _refreshToken ?? throw new InvalidOperationException("the client holds no refresh token: sign in first.");
            return await RefreshCoreAsync(refresh, cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Exchanges the given refresh token (Auth.RefreshToken) and adopts the new credentials. Not retried.</summary>
    /// <param name="refreshToken">A refresh token from an earlier <see cref="AuthResponse"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new credentials.</returns>
    public async Task<AuthResponse> RefreshTokenAsync(string refreshToken, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(refreshToken);
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            return await RefreshCoreAsync(refreshToken, cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    // ---------------------------------------------------------------- Execute

    /// <summary>Runs a program to completion (Execute.Execute). Not retried.</summary>
    /// <param name="request">Code, language, stdin, arguments, timeout, environment.</param>
    /// <param name="cancellationToken">Cancels the call (the server then stops the run).</param>
    /// <returns>Output, error output, exit code and run facts.</returns>
    public Task<ExecuteResponse> ExecuteAsync(ExecuteRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _execute.ExecuteAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Runs <paramref name="code"/> in <paramref name="language"/> to completion (Execute.Execute). Not retried.</summary>
    /// <param name="code">The program text.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output, exit code and run facts.</returns>
    public Task<ExecuteResponse> ExecuteAsync(string code, string language, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new ExecuteRequest { Code = code ?? throw new ArgumentNullException(nameof(code)), Language = language ?? throw new ArgumentNullException(nameof(language)) },
            cancellationToken);

    /// <summary>
    /// Runs a program and yields its output as it is produced (Execute.ExecuteStream): any number of events with
    /// <see cref="ExecuteStreamEvent.Chunk"/> set, then exactly one with <see cref="ExecuteStreamEvent.Result"/>.
    /// Not retried. Stopping the enumeration or cancelling ends the call and the run.
    /// </summary>
    /// <param name="request">Code, language, stdin, arguments, timeout, environment.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stream of events.</returns>
    public async IAsyncEnumerable<ExecuteStreamEvent> ExecuteStreamAsync(ExecuteRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (headers, used) = await AuthHeadersAsync(cancellationToken);
        var call = _execute.ExecuteStream(request, headers, cancellationToken: cancellationToken);
        try
        {
            bool more;
            try
            {
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && CanRefresh(used))
            {
                // Refused before anything ran: renew the token and start the run once more.
                call.Dispose();
                await RefreshAfterRejectionAsync(used, cancellationToken);
                (headers, _) = await AuthHeadersAsync(cancellationToken);
                call = _execute.ExecuteStream(request, headers, cancellationToken: cancellationToken);
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
            while (more)
            {
                yield return call.ResponseStream.Current;
                more = await call.ResponseStream.MoveNext(cancellationToken);
            }
        }
        finally
        {
            call.Dispose();
        }
    }

    // ---------------------------------------------------------------- Secrets

    /// <summary>Creates or replaces a secret (Secrets.PutSecret). Retried on UNAVAILABLE.</summary>
    /// <param name="name">The environment variable name, <c>[A-Z_][A-Z0-9_]*</c>.</param>
    /// <param name="value">The value, 1 byte to 64 KiB of UTF-8.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The secret's metadata (never its value).</returns>
    public Task<SecretMetadata> PutSecretAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var request = new PutSecretRequest { Name = name, Secret = new SecretInput { Value = value } };
        return CallAsync((h, ct) => _secrets.PutSecretAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Deletes a secret (Secrets.DeleteSecret); NOT_FOUND when there is none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the secret is gone.</returns>
    public async Task DeleteSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await CallAsync((h, ct) => _secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = name }, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Lists the caller's secrets, names and timestamps only (Secrets.ListSecrets). Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The secrets, ordered by name.</returns>
    public async Task<IReadOnlyList<SecretMetadata>> ListSecretsAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync((h, ct) => _secrets.ListSecretsAsync(new ListSecretsRequest(), h, cancellationToken: ct), cancellationToken)).Secrets;

    // ---------------------------------------------------------------- Packages

    /// <summary>Lists the caller's packages with their install status (Packages.ListPackages). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript"; null for both.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The packages, ordered by language and name.</returns>
    public async Task<IReadOnlyList<PackageInfo>> ListPackagesAsync(string? language = null, CancellationToken cancellationToken = default)
    {
        var request = new ListPackagesRequest();
        if (language is not null) request.Language = language;
        return (await CallAsync((h, ct) => _packages.ListPackagesAsync(request, h, cancellationToken: ct), cancellationToken)).Packages;
    }

    /// <summary>Replaces the caller's package list for one language (Packages.SetPackages). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="requirements">The new list, e.g. "requests>=2.31"; empty clears it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The list now stored.</returns>
    public async Task<IReadOnlyList<PackageInfo>> SetPackagesAsync(string language, IEnumerable<string> requirements,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(requirements);
        var request = new SetPackagesRequest { Language = language, Packages = { requirements } };
        return (await CallAsync((h, ct) => _packages.SetPackagesAsync(request, h, cancellationToken: ct), cancellationToken)).Packages;
    }

    /// <summary>Adds a package, or replaces the requirement of the package of that name (Packages.AddPackage). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="requirement">The requirement, e.g. "requests>=2.31" or "lodash@^4".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored package.</returns>
    public Task<PackageInfo> AddPackageAsync(string language, string requirement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(requirement);
        var request = new AddPackageRequest { Language = language, Package = requirement };
        return CallAsync((h, ct) => _packages.AddPackageAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Removes a package (Packages.RemovePackage); NOT_FOUND when the list has none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">The package name without version, e.g. "requests" or "@scope/pkg".</param>
    /// <param name="language">"python" or "javascript"; null means "python".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the package is removed.</returns>
    public async Task RemovePackageAsync(string name, string? language = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = new RemovePackageRequest { Name = name };
        if (language is not null) request.Language = language;
        await CallAsync((h, ct) => _packages.RemovePackageAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    // ---------------------------------------------------------------- Audit

    /// <summary>Returns one page of the caller's audit log, newest first (Audit.GetAuditLog). Retried on UNAVAILABLE.</summary>
    /// <param name="pageSize">Entries per page, 1 to 200; 0 for the server's default (50).</param>
    /// <param name="pageToken">The previous page's <c>next_page_token</c>; null or empty for the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entries and the token of the next page (empty on the last page).</returns>
    public Task<GetAuditLogResponse> GetAuditLogAsync(int pageSize = 0, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var request = new GetAuditLogRequest { PageSize = pageSize, PageToken = pageToken ?? "" };
        return CallAsync((h, ct) => _audit.GetAuditLogAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    // ---------------------------------------------------------------- System

    /// <summary>Reports the health of storage, sandbox agents, Docker, the sandbox slots and the model (System.Health).
    /// Anonymous; the details beyond <c>status</c> come only with credentials, which the client sends when it has them.
    /// Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's health.</returns>
    public Task<HealthResponse> GetHealthAsync(CancellationToken cancellationToken = default) =>
        CallAsync((headers, ct) => _system.HealthAsync(new HealthRequest(), headers, cancellationToken: ct), cancellationToken);

    /// <summary>Reports the version, languages and limits (System.Info). Anonymous; retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's version, languages and limits.</returns>
    public Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _system.InfoAsync(new InfoRequest(), cancellationToken: cancellationToken).ResponseAsync;

    // ---------------------------------------------------------------- Generate

    /// <summary>Has the server's model write (and by default run) a program (Generate.Generate). Not retried.</summary>
    /// <param name="request">Prompt, language, whether to run, attempts.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The program and the result of its last run.</returns>
    public Task<GenerateResponse> GenerateAsync(GenerateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _generate.GenerateAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Has the server's model write and run a program for <paramref name="prompt"/> (Generate.Generate). Not retried.</summary>
    /// <param name="prompt">What the program should do.</param>
    /// <param name="language">"python" or "javascript"; null for the server's default (python).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The program and the result of its last run.</returns>
    public Task<GenerateResponse> GenerateAsync(string prompt, string? language = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(new GenerateRequest { Prompt = prompt ?? throw new ArgumentNullException(nameof(prompt)), Language = language ?? "" }, cancellationToken);

    // ---------------------------------------------------------------- Zero knowledge

    /// <summary>
    /// Encrypts <paramref name="code"/> on this machine into a v1 payload (Argon2id + XChaCha20-Poly1305), without
    /// any call. Takes about a second and 64 MiB (the key derivation).
    /// </summary>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password; it never leaves this process.</param>
    /// <param name="cancellationToken">Stops waiting for the derivation.</param>
    /// <returns>The payload, ready for <see cref="StoreCodeAsync"/>.</returns>
    public static async Task<ZKPayload> EncryptLocallyAsync(string code, string masterPassword, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentException.ThrowIfNullOrEmpty(masterPassword);
        cancellationToken.ThrowIfCancellationRequested();
        return await ZkPayloadV1.EncryptAsync(code, masterPassword).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Encrypts <paramref name="code"/> locally (<see cref="EncryptLocallyAsync"/>) and stores the ciphertext under
    /// <paramref name="name"/> (ZK.StoreCode): neither the program text nor the master password is sent.
    /// </summary>
    /// <param name="name">1 to 64 characters of <c>[A-Za-z0-9._-]</c>; an existing program of that name is replaced.</param>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password; needed again to run the program.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="description">Free text, at most 1024 characters; null for none.</param>
    /// <param name="cancellationToken">Cancels the encryption wait or the call.</param>
    /// <returns>The server's confirmation.</returns>
    public async Task<StoreCodeResponse> StoreEncryptedCodeAsync(string name, string code, string masterPassword, string language,
        string? description = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(language);
        var payload = await EncryptLocallyAsync(code, masterPassword, cancellationToken);
        return await StoreCodeAsync(name, payload, language, description, cancellationToken);
    }

    /// <summary>Stores an already encrypted v1 payload under a name (ZK.StoreCode). Retried on UNAVAILABLE.</summary>
    /// <param name="name">1 to 64 characters of <c>[A-Za-z0-9._-]</c>.</param>
    /// <param name="payload">The encrypted program.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="description">Free text; null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's confirmation.</returns>
    public Task<StoreCodeResponse> StoreCodeAsync(string name, ZKPayload payload, string language, string? description = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(language);
        var request = new StoreCodeRequest { Name = name, EncryptedPayload = payload, Language = language, Description = description ?? "" };
        return CallAsync((h, ct) => _zk.StoreCodeAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>
    /// Has the server encrypt a program (ZK.Encrypt, a testing helper: the server sees the plaintext and the
    /// password). Prefer <see cref="EncryptLocallyAsync"/>. Retried on UNAVAILABLE.
    /// </summary>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The payload.</returns>
    public Task<ZKPayload> EncryptOnServerAsync(string code, string masterPassword, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(masterPassword);
        var request = new EncryptRequest { Code = code, MasterPassword = masterPassword };
        return CallAsync((h, ct) => _zk.EncryptAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Deletes a stored program (ZK.DeleteCode); NOT_FOUND when there is none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the program is deleted.</returns>
    public async Task DeleteCodeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await CallAsync((h, ct) => _zk.DeleteCodeAsync(new DeleteCodeRequest { Name = name }, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Lists the caller's stored programs, metadata only (ZK.ListCode). Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The programs, ordered by name; <c>size</c> is the ciphertext's length in bytes.</returns>
    public async Task<IReadOnlyList<EncryptedCodeMetadata>> ListCodeAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync((h, ct) => _zk.ListCodeAsync(new ListCodeRequest(), h, cancellationToken: ct), cancellationToken)).Code;

    /// <summary>
    /// Runs a stored program; it is decrypted inside the sandbox with the master password (ZK.ExecuteCode). A wrong
    /// password is PERMISSION_DENIED "decryption failed". Not retried.
    /// </summary>
    /// <param name="request">Name, master password, stdin, arguments, timeout.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output and exit code.</returns>
    public Task<ExecuteResponse> ExecuteCodeAsync(ExecuteCodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _zk.ExecuteCodeAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Runs the stored program <paramref name="name"/> with <paramref name="masterPassword"/> (ZK.ExecuteCode). Not retried.</summary>
    /// <param name="name">The stored program's name.</param>
    /// <param name="masterPassword">The master password it was encrypted with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output and exit code.</returns>
    public Task<ExecuteResponse> ExecuteCodeAsync(string name, string masterPassword, CancellationToken cancellationToken = default) =>
        ExecuteCodeAsync(new ExecuteCodeRequest
        {
            Name = name ?? throw new ArgumentNullException(nameof(name)),
            MasterPassword = masterPassword ?? throw new ArgumentNullException(nameof(masterPassword)),
        }, cancellationToken);

    /// <summary>Closes the channel.</summary>
    public void Dispose()
    {
        _channel.Dispose();
        _refreshGate.Dispose();
    }

    // ---------------------------------------------------------------- plumbing

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

    private async Task<TResponse> CallAsync<TResponse>(Func<Metadata, CancellationToken, AsyncUnaryCall<TResponse>> start,
        CancellationToken cancellationToken)
    {
        var (headers, used) = await AuthHeadersAsync(cancellationToken);
        try
        {
            using var call = start(headers, cancellationToken);
            return await call.ResponseAsync;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && CanRefresh(used))
        {
            // The server refused the call before doing anything: renew the token and try once more.
            await RefreshAfterRejectionAsync(used, cancellationToken);
            (headers, _) = await AuthHeadersAsync(cancellationToken);
            using var again = start(headers, cancellationToken);
            return await again.ResponseAsync;
        }
    }

    // The headers for a call, and the token they carry (null when an API key or nothing is sent).
    private async Task<(Metadata Headers, string? Token)> AuthHeadersAsync(CancellationToken cancellationToken)
    {
        string? apiKey, token, refresh;
        DateTimeOffset? expiresAt;
        lock (_state) (apiKey, token, refresh, expiresAt) = (_apiKey, _token, _refreshToken, _expiresAt);

        if (apiKey is not null) return (new Metadata { { "x-api-key", apiKey } }, null);
        if (token is null) return ([], null);
        if (refresh is not null && expiresAt is { } expiry && expiry - DateTimeOffset.UtcNow < RefreshMargin)
        {
            await RefreshIfStillCurrentAsync(token, cancellationToken);
            lock (_state) token = _token;
        }
        return (new Metadata { { "authorization", "Bearer " + token } }, token);
    }

    private bool CanRefresh([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? usedToken)
    {
        if (usedToken is null) return false;
        lock (_state) return _refreshToken is not null;
    }

    private Task RefreshAfterRejectionAsync(string rejectedToken, CancellationToken cancellationToken) =>
        RefreshIfStillCurrentAsync(rejectedToken, cancellationToken);

    // Refreshes only when nobody else already replaced `staleToken`: presenting a refresh token twice would
    // revoke the whole sign-in, so concurrent callers must share one refresh.
    private async Task RefreshIfStillCurrentAsync(string staleToken, CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            string? refresh;
            lock (_state)
            {
                if (_token != staleToken) return;
                refresh = _refreshToken;
            }
            if (refresh is not null) await RefreshCoreAsync(refresh, cancellationToken);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private async Task<AuthResponse> RefreshCoreAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var response = await _auth.RefreshTokenAsync(new RefreshTokenRequest { RefreshToken = refreshToken }, cancellationToken: cancellationToken);
        Adopt(null, response, replaceApiKey: false);
        return response;
    }

    private void Adopt(string? apiKey, AuthResponse response, bool replaceApiKey)
    {
        PythOnCredentials now;
        lock (_state)
        {
            if (replaceApiKey) _apiKey = NullIfEmpty(apiKey);
            _token = NullIfEmpty(response.Token);
            _refreshToken = NullIfEmpty(response.RefreshToken);
            _expiresAt = response.ExpiresAt?.ToDateTimeOffset();
            now = new PythOnCredentials(_apiKey, _token, _refreshToken, _expiresAt);
        }
        CredentialsChanged?.Invoke(this, new PythOnCredentialsChangedEventArgs(now));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
