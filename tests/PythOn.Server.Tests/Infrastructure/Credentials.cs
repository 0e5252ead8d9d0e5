using Grpc.Core;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>How a call authenticates: `x-api-key` or `Authorization: Bearer`, as HTTP headers or gRPC metadata.</summary>
public sealed record Credentials(string? HeaderName, string? HeaderValue)
{
    public static readonly Credentials None = new(null, null);

    public static Credentials ApiKey(string key) => new("x-api-key", key);

    public static Credentials Bearer(string token) => new("authorization", "Bearer " + token);

    /// <summary>Any raw Authorization header value (e.g. "Basic abc").</summary>
    public static Credentials Authorization(string value) => new("authorization", value);

    public Metadata Metadata => HeaderName is null ? [] : new Metadata { { HeaderName, HeaderValue! } };

    public void Apply(HttpRequestMessage request)
    {
        if (HeaderName is not null) request.Headers.TryAddWithoutValidation(HeaderName, HeaderValue);
    }

    public override string ToString() => HeaderName is null ? "no credentials" : $"{HeaderName}: {HeaderValue}";
}

/// <summary>A registered account and the credentials issued for it.</summary>
public sealed record TestUser(string Email, string Password, string ApiKey, string Token, string RefreshToken)
{
    public Credentials Key => Credentials.ApiKey(ApiKey);
    public Credentials Jwt => Credentials.Bearer(Token);
    public override string ToString() => Email;
}
