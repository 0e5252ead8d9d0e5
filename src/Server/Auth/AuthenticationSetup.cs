using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using PythOn.Server.Errors;

namespace PythOn.Server.Auth;

public static class AuthenticationSetup
{
    public const string MissingCredentialsMessage =
        "authentication required: send the header x-api-key: pyapi_... or Authorization: Bearer TOKEN (a JWT from POST /api/login).";

    private const string SelectorScheme = "ApiKeyOrBearer";

    /// <summary>
    /// `Authorization: Bearer` goes to JwtBearer, anything else to the API-key handler. Every endpoint needs an
    /// authenticated user unless it is marked anonymous (the fallback policy; RPCs are opened only by their proto option,
    /// see Hosting.ApiServiceEndpoints), so a new RPC is never open by accident.
    /// </summary>
    public static IServiceCollection AddPythOnAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<JwtIssuer>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<PasswordHasher>();

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "x-api-key or Bearer JWT", o =>
                o.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? JwtBearerDefaults.AuthenticationScheme
                        : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddJwtBearer();

        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<JwtIssuer>((o, issuer) =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = issuer.ValidationParameters;
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        // A valid signature is not enough: RevokeAllCredentials (or a deleted account) ends older tokens.
                        var principal = context.Principal;
                        var issuedAtMs = long.TryParse(principal?.FindFirst(JwtIssuer.IssuedAtMsClaim)?.Value, out var ms) ? ms : 0;
                        var accounts = context.HttpContext.RequestServices.GetRequiredService<AccountService>();
                        if (!accounts.JwtStillValid(principal?.FindFirst(CallerClaims.UserId)?.Value ?? "", issuedAtMs))
                        {
                            context.Fail("the token was revoked");
                            return Task.CompletedTask;
                        }
                        (principal?.Identity as ClaimsIdentity)?.AddClaim(new Claim(CallerClaims.AuthMethod, "jwt"));
                        return Task.CompletedTask;
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        if (context.AuthenticateFailure is not null) Telemetry.ServerTelemetry.AuthFailed("jwt");
                        var message = context.AuthenticateFailure is not null
                            ? "invalid or expired bearer token: sign in again or use POST /api/refresh."
                            : MissingCredentialsMessage;
                        await ErrorResponses.WriteAsync(context.HttpContext, StatusCode.Unauthenticated, message);
                    },
                    OnForbidden = context =>
                        ErrorResponses.WriteAsync(context.HttpContext, StatusCode.PermissionDenied, "these credentials may not call this method."),
                };
            });

        services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return services;
    }
}
