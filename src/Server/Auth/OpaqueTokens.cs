using System.Security.Cryptography;
using System.Text;

namespace PythOn.Server.Auth;

/// <summary>High-entropy bearer strings (API keys, refresh tokens, interactive tickets): random, stored only as SHA-256.</summary>
public static class OpaqueTokens
{
    public const string ApiKeyPrefix = "pyapi_";
    public const string RefreshTokenPrefix = "pyrt_";
    public const string TicketPrefix = "pyws_";

    /// <summary>prefix + base64url of 32 random bytes (43 characters).</summary>
    public static string New(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A plain hash suffices: the input has 256 bits of entropy, so there is nothing to brute-force.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
