using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PythOn.Server.Hosting;

namespace PythOn.Server.Auth;

/// <summary>Creates and describes the HS256 JWTs the API hands out.</summary>
public sealed class JwtIssuer
{
    private readonly JwtOptions _options;
    private readonly JsonWebTokenHandler _handler = new();

    public JwtIssuer(IOptions<PythOnOptions> options)
    {
        _options = options.Value.Jwt;
        var key = KeyFiles.LoadOrCreate(options.Value.FullDataDirectory, "jwt-signing.key", _options.SigningKey, 32, "PythOn:Jwt:SigningKey");
        SigningKey = new SymmetricSecurityKey(key);
    }

    public SymmetricSecurityKey SigningKey { get; }

    public TokenValidationParameters ValidationParameters => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Audience,
        IssuerSigningKey = SigningKey,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = CallerClaims.Email,
    };

    public const string IssuedAtMsClaim = "iat_ms";

    public (string Token, DateTimeOffset ExpiresAt) Issue(string userId, string email)
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(_options.LifetimeMinutes);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            Expires = expires.UtcDateTime,
            Subject = new ClaimsIdentity([
                new Claim(CallerClaims.UserId, userId),
                new Claim(CallerClaims.Email, email),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
                // Millisecond issue time: RevokeAllCredentials refuses tokens issued before its moment, even the same second.
                new Claim(IssuedAtMsClaim, Storage.Clock.NowMs().ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            ]),
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    public TimeSpan RefreshLifetime => TimeSpan.FromDays(_options.RefreshLifetimeDays);
}
