using System.Net.Mail;
using System.Text.RegularExpressions;
using LiteDB;
using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Errors;
using PythOn.Server.Storage;

namespace PythOn.Server.Auth;

/// <summary>Registration, sign-in and token rotation.</summary>
public sealed partial class AccountService(IAccountRepository accounts, IRefreshTokenRepository refreshTokens, JwtIssuer jwt, AuditLog audit, LoginThrottle throttle, PasswordHasher hasher)
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 256;
    public const int MaxEmailLength = 254;

    public async Task<AuthResponse> RegisterAsync(string email, string password, string clientAddress)
    {
        var normalized = ValidateEmail(email);
        ValidatePassword(password);
        if (accounts.FindByEmail(normalized) is not null)
        {
            await audit.RecordAsync(null, "auth.register", "", AuditOutcome.Failure, clientAddress, new Dictionary<string, string> { ["reason"] = "email already registered" });
            throw Problems.Conflict("an account with this email already exists: sign in with POST /api/login.");
        }

        var user = new UserRecord { Email = normalized, PasswordHash = await hasher.HashAsync(password), CreatedAt = Clock.NowMs() };
        var apiKey = OpaqueTokens.New(OpaqueTokens.ApiKeyPrefix);
        if (!accounts.TryCreate(user, new ApiKeyRecord { UserId = user.Id, KeyHash = OpaqueTokens.Hash(apiKey), CreatedAt = user.CreatedAt }))
        {
            // Lost a race with a concurrent registration of the same email.
            throw Problems.Conflict("an account with this email already exists: sign in with POST /api/login.");
        }

        await audit.RecordAsync(user.Id, "auth.register", $"user/{user.Email}", AuditOutcome.Success, clientAddress);
        var response = IssueTokens(user, Guid.NewGuid().ToString("N"));
        response.ApiKey = apiKey;
        return response;
    }

    public async Task<AuthResponse> LoginAsync(string email, string password, string clientAddress)
    {
        if (string.IsNullOrWhiteSpace(email))
            throw Problems.Invalid("email is required: send {\"email\":\"...\",\"password\":\"...\"}.");
        if (string.IsNullOrEmpty(password))
            throw Problems.Invalid("password is required: send {\"email\":\"...\",\"password\":\"...\"}.");
        if (password.Length > MaxPasswordLength)
            throw Problems.Invalid($"password is longer than {MaxPasswordLength} characters, so it cannot be right.");
        var normalized = email.Trim().ToLowerInvariant();
        // Throttled accounts cost no Argon2 at all: a guesser is stopped before the expensive part.
        if (throttle.RetryAfter(normalized) is { } wait)
            throw Problems.TooMany("too many failed sign-ins for this account; try again later.", wait);
        var user = normalized.Length <= MaxEmailLength ? accounts.FindByEmail(normalized) : null;
        var valid = false;
        if (user is null) await hasher.BurnAsync(password);
        else valid = await hasher.VerifyAsync(password, user.PasswordHash);

        if (!valid)
        {
            throttle.Failed(normalized);
            await audit.RecordAsync(user?.Id, "auth.login", user is null ? "" : $"user/{user.Email}", AuditOutcome.Failure, clientAddress,
                new Dictionary<string, string> { ["reason"] = "invalid credentials" });
            Telemetry.ServerTelemetry.AuthFailed("password");
            throw Problems.Unauthenticated("invalid email or password.");
        }

        throttle.Succeeded(normalized);
        await audit.RecordAsync(user!.Id, "auth.login", $"user/{user.Email}", AuditOutcome.Success, clientAddress);
        return IssueTokens(user, Guid.NewGuid().ToString("N"));
    }

    public async Task<AuthResponse> RefreshAsync(string refreshToken, string clientAddress)
    {
        if (string.IsNullOrWhiteSpace(refreshToken))
            throw Problems.Invalid("refreshToken is required: pass the refreshToken from your last login or refresh.");

        // Redeem is atomic: of two concurrent uses of one token, one is Redeemed and the other Reused.
        var redemption = refreshTokens.Redeem(OpaqueTokens.Hash(refreshToken.Trim()), Clock.NowMs());
        switch (redemption.Outcome)
        {
            case RefreshOutcome.NotFound:
                throw Problems.Unauthenticated("refresh token is not valid: sign in again with POST /api/login.");
            case RefreshOutcome.Reused:
                // A second use means the token leaked: its whole family (every session from that sign-in) is now revoked.
                await audit.RecordAsync(redemption.Token!.UserId, "auth.refresh", "", AuditOutcome.Denied, clientAddress,
                    new Dictionary<string, string> { ["reason"] = "refresh token reused; session revoked" });
                throw Problems.Unauthenticated("refresh token was already used: every token from that sign-in is now revoked; sign in again.");
            case RefreshOutcome.Expired:
                throw Problems.Unauthenticated("refresh token has expired: sign in again with POST /api/login.");
        }

        var record = redemption.Token!;
        var user = accounts.FindById(record.UserId)
            ?? throw Problems.Unauthenticated("refresh token is not valid: sign in again with POST /api/login.");
        await audit.RecordAsync(user.Id, "auth.refresh", $"user/{user.Email}", AuditOutcome.Success, clientAddress);
        return IssueTokens(user, record.FamilyId);
    }

    public UserInfo Describe(Caller caller)
    {
        var user = accounts.FindById(caller.UserId)
            ?? throw Problems.Unauthenticated("the account behind these credentials no longer exists.");
        return new UserInfo { Email = user.Email, CreatedAt = Clock.ToTimestamp(user.CreatedAt), AuthMethod = caller.AuthMethod };
    }

    /// <summary>A new API key for the caller; every key it had stops working in the same transaction.</summary>
    public async Task<RotateApiKeyResponse> RotateApiKeyAsync(Caller caller)
    {
        var apiKey = OpaqueTokens.New(OpaqueTokens.ApiKeyPrefix);
        var replaced = accounts.ReplaceApiKeys(caller.UserId,
            new ApiKeyRecord { UserId = caller.UserId, KeyHash = OpaqueTokens.Hash(apiKey), CreatedAt = Clock.NowMs() });
        await audit.RecordAsync(caller.UserId, "auth.key.rotate", $"user/{caller.Email}", AuditOutcome.Success, caller.ClientAddress,
            new Dictionary<string, string> { ["keys_replaced"] = replaced.ToString() });
        return new RotateApiKeyResponse { ApiKey = apiKey };
    }

    /// <summary>Revokes every API key and refresh token of the caller, and every JWT issued before now.</summary>
    public async Task<RevokeAllCredentialsResponse> RevokeAllAsync(Caller caller)
    {
        var now = Clock.NowMs();
        var (keys, refresh) = accounts.RevokeAllCredentials(caller.UserId, now)
            ?? throw Problems.Unauthenticated("the account behind these credentials no longer exists.");
        await audit.RecordAsync(caller.UserId, "auth.revoke_all", $"user/{caller.Email}", AuditOutcome.Success, caller.ClientAddress,
            new Dictionary<string, string> { ["api_keys"] = keys.ToString(), ["refresh_tokens"] = refresh.ToString() });
        return new RevokeAllCredentialsResponse
        {
            ApiKeysRevoked = keys,
            RefreshTokensRevoked = refresh,
            TokensRevokedAt = Clock.ToTimestamp(now),
        };
    }

    /// <summary>Whether a JWT of the user issued at <paramref name="issuedAtMs"/> still counts (not revoked, account exists).</summary>
    public bool JwtStillValid(string userId, long issuedAtMs)
    {
        ObjectId id;
        try
        {
            id = new ObjectId(userId);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return false;
        }
        var user = accounts.FindById(id);
        return user is not null && issuedAtMs >= user.TokensRevokedAt;
    }

    /// <summary>The account an API key belongs to, or null.</summary>
    public UserRecord? FindByApiKey(string apiKey)
    {
        if (!apiKey.StartsWith(OpaqueTokens.ApiKeyPrefix, StringComparison.Ordinal) || apiKey.Length > 128) return null;
        var hash = OpaqueTokens.Hash(apiKey);
        return accounts.FindByApiKeyHash(hash);
    }

    private AuthResponse IssueTokens(UserRecord user, string familyId)
    {
        var (token, expires) = jwt.Issue(user.Id.ToString(), user.Email);
        var refresh = OpaqueTokens.New(OpaqueTokens.RefreshTokenPrefix);
        refreshTokens.Insert(new RefreshTokenRecord
        {
            Id = OpaqueTokens.Hash(refresh),
            UserId = user.Id,
            FamilyId = familyId,
            ExpiresAt = DateTimeOffset.UtcNow.Add(jwt.RefreshLifetime).ToUnixTimeMilliseconds(),
        });
        return new AuthResponse
        {
            Token = token,
            RefreshToken = refresh,
            ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(expires),
            User = new UserInfo { Email = user.Email, CreatedAt = Clock.ToTimestamp(user.CreatedAt) },
        };
    }

    internal static string ValidateEmail(string? email)
    {
        var trimmed = (email ?? "").Trim();
        if (trimmed.Length == 0) throw Problems.Invalid("email is required.");
        if (trimmed.Length > MaxEmailLength) throw Problems.Invalid($"email must be at most {MaxEmailLength} characters.");
        if (!EmailShape().IsMatch(trimmed) || !MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed)
            throw Problems.Invalid($"'{trimmed}' is not a valid email address (expected name@domain.tld).");
        return trimmed.ToLowerInvariant();
    }

    internal static void ValidatePassword(string? password)
    {
        var p = password ?? "";
        if (p.Length < MinPasswordLength || p.Length > MaxPasswordLength)
            throw Problems.Invalid($"password must be {MinPasswordLength} to {MaxPasswordLength} characters long (got {p.Length}).");
        if (!p.Any(char.IsLetter) || p.All(char.IsLetter))
            throw Problems.Invalid("password must contain at least one letter and at least one digit or symbol.");
    }

    [GeneratedRegex(@"^[^@\s""(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")]
    private static partial Regex EmailShape();
}
