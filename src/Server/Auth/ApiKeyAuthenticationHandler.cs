using System.Security.Claims;
using System.Text.Encodings.Web;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PythOn.Server.Errors;

namespace PythOn.Server.Auth;

/// <summary>Authenticates `x-api-key: pyapi_...` (HTTP header or gRPC metadata: the same thing on the wire).</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccountService accounts)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "x-api-key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || string.IsNullOrWhiteSpace(values.ToString()))
            return Task.FromResult(AuthenticateResult.NoResult());

        var user = accounts.FindByApiKey(values.ToString().Trim());
        if (user is null) return Task.FromResult(AuthenticateResult.Fail("invalid API key"));

        var identity = new ClaimsIdentity([
            new Claim(CallerClaims.UserId, user.Id.ToString()),
            new Claim(CallerClaims.Email, user.Email),
            new Claim(CallerClaims.AuthMethod, "api_key"),
        ], SchemeName, CallerClaims.Email, null);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is not null) Telemetry.ServerTelemetry.AuthFailed("api_key");
        var message = result.Failure is not null
            ? "invalid API key: check the x-api-key header (keys look like pyapi_...)."
            : AuthenticationSetup.MissingCredentialsMessage;
        await ErrorResponses.WriteAsync(Context, StatusCode.Unauthenticated, message);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ErrorResponses.WriteAsync(Context, StatusCode.PermissionDenied, "these credentials may not call this method.");
}
