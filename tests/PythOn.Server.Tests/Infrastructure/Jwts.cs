using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>Forged and altered JWTs for the authentication tests.</summary>
public static class Jwts
{
    /// <summary>A token signed with the server's own key, issuer and audience, that expired ten minutes ago.</summary>
    public static string Expired(SecurityKey serverKey, string subject, string email) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "pyth-on",
            Audience = "pyth-on",
            IssuedAt = DateTime.UtcNow.AddMinutes(-70),
            NotBefore = DateTime.UtcNow.AddMinutes(-70),
            Expires = DateTime.UtcNow.AddMinutes(-10),
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("email", email)]),
            SigningCredentials = new SigningCredentials(serverKey, SecurityAlgorithms.HmacSha256),
        });

    /// <summary>A well-formed, unexpired token signed with a key the server does not have.</summary>
    public static string SignedWithAnotherKey(string subject, string email) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "pyth-on",
            Audience = "pyth-on",
            Expires = DateTime.UtcNow.AddMinutes(30),
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("email", email)]),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256),
        });

    /// <summary>A genuine token whose payload was edited (a claim changed) while the signature was kept.</summary>
    public static string Tampered(string token, string claim, string newValue)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        Assert.True(payload.ContainsKey(claim), $"token has no '{claim}' claim");
        payload[claim] = newValue;
        parts[1] = Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return string.Join('.', parts);
    }

    /// <summary>A copy of a genuine token's claims with "alg":"none" and no signature.</summary>
    public static string Unsigned(string token)
    {
        var parts = token.Split('.');
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        return $"{header}.{parts[1]}.";
    }

    /// <summary>A fresh token with the claims of <paramref name="token"/>, built like the forgeries but signed with the right key and valid now.</summary>
    public static string Reissued(SecurityKey serverKey, string token)
    {
        var payload = Payload(token);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "pyth-on",
            Audience = "pyth-on",
            Expires = DateTime.UtcNow.AddMinutes(10),
            Subject = new ClaimsIdentity([new Claim("sub", payload.GetProperty("sub").GetString()!), new Claim("email", payload.GetProperty("email").GetString()!)]),
            SigningCredentials = new SigningCredentials(serverKey, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The claims of a token, unverified.</summary>
    public static JsonElement Payload(string token) =>
        JsonDocument.Parse(Base64UrlEncoder.Decode(token.Split('.')[1])).RootElement.Clone();
}
