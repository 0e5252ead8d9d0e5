namespace PythOn.Client;

/// <summary>How a <see cref="PythOnClient"/> connects and authenticates.</summary>
public sealed class PythOnClientOptions
{
    /// <summary>The server's gRPC address; <c>http://127.0.0.1:8081</c> by default (HTTP/2 cleartext).</summary>
    public Uri Address { get; set; } = new("http://127.0.0.1:8081");

    /// <summary>
    /// An API key (<c>pyapi_...</c>), sent as <c>x-api-key</c>. When set it is used instead of <see cref="Token"/>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>A JWT, sent as <c>authorization: Bearer</c> when no <see cref="ApiKey"/> is set.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// The refresh token that came with <see cref="Token"/>. When set, the client exchanges it for a new token
    /// shortly before <see cref="TokenExpiresAt"/> and once when the server answers UNAUTHENTICATED; refresh tokens
    /// rotate, so persist the new pair from <see cref="PythOnClient.CredentialsChanged"/>.
    /// </summary>
    public string? RefreshToken { get; set; }

    /// <summary>When <see cref="Token"/> expires, if known; the client refreshes a little before then.</summary>
    public DateTimeOffset? TokenExpiresAt { get; set; }

    /// <summary>
    /// Attempts per call, first one included, for calls that are safe to repeat and failed with UNAVAILABLE
    /// (see <see cref="PythOnClient"/> for which ones). 1 disables retries. Default 4.
    /// </summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Delay before the first retry; later ones grow by a factor of 2 up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of the delay between two attempts.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An HTTP handler to use instead of the default <see cref="SocketsHttpHandler"/> (e.g. for tests or proxies).</summary>
    public HttpMessageHandler? HttpHandler { get; set; }
}

/// <summary>The credentials a client holds after a sign-in, a register or a token refresh.</summary>
/// <param name="ApiKey">The API key, when known (it is shown only by Register).</param>
/// <param name="Token">The current JWT, if any.</param>
/// <param name="RefreshToken">The refresh token that goes with <paramref name="Token"/>; each works once.</param>
/// <param name="TokenExpiresAt">When <paramref name="Token"/> expires, if known.</param>
public sealed record PythOnCredentials(string? ApiKey, string? Token, string? RefreshToken, DateTimeOffset? TokenExpiresAt);

/// <summary>Carries the client's new credentials after they changed.</summary>
/// <param name="credentials">The credentials now in use.</param>
public sealed class PythOnCredentialsChangedEventArgs(PythOnCredentials credentials) : EventArgs
{
    /// <summary>The credentials now in use; store the refresh token, the previous one no longer works.</summary>
    public PythOnCredentials Credentials { get; } = credentials;
}
