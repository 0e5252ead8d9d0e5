using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;

namespace PythOn.Server.Auth;

/// <summary>gRPC adapter over <see cref="AccountService"/>. Which methods are anonymous is their proto option
/// (<c>anonymous: true</c>), applied by <see cref="Hosting.ApiServiceEndpoints.MapApiService{TService}"/>.</summary>
[Authorize]
public sealed class AuthService(AccountService accounts) : PythOn.Api.V1.Auth.AuthBase
{
    [Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(RateLimiting.RateLimits.AuthPolicy)]
    public override Task<AuthResponse> Register(AuthRequest request, ServerCallContext context) =>
        accounts.RegisterAsync(request.Email, request.Password, context.ClientAddress());

    [Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(RateLimiting.RateLimits.AuthPolicy)]
    public override Task<AuthResponse> Login(AuthRequest request, ServerCallContext context) =>
        accounts.LoginAsync(request.Email, request.Password, context.ClientAddress());

    [Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(RateLimiting.RateLimits.AuthPolicy)]
    public override Task<AuthResponse> RefreshToken(RefreshTokenRequest request, ServerCallContext context) =>
        accounts.RefreshAsync(request.RefreshToken, context.ClientAddress());

    public override Task<UserInfo> VerifyToken(VerifyTokenRequest request, ServerCallContext context) =>
        Task.FromResult(accounts.Describe(context.Caller()));

    public override Task<RotateApiKeyResponse> RotateApiKey(RotateApiKeyRequest request, ServerCallContext context) =>
        accounts.RotateApiKeyAsync(context.Caller());

    public override Task<RevokeAllCredentialsResponse> RevokeAllCredentials(RevokeAllCredentialsRequest request, ServerCallContext context) =>
        accounts.RevokeAllAsync(context.Caller());
}
