using Grpc.Core;
using PythOn.Api.V1;

namespace PythOn.Client;

// Auth RPCs, and the credentials every call carries: API key or token, refreshed before expiry and after a rejection.
public sealed partial class PythOnClient
{
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

    // ---------------------------------------------------------------- authenticated calls

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
