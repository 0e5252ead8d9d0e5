using System.Security.Claims;
using Grpc.Core;
using LiteDB;
using PythOn.Server.Errors;

namespace PythOn.Server.Auth;

/// <summary>The authenticated account behind a call.</summary>
public sealed record Caller(ObjectId UserId, string Email, string AuthMethod, string ClientAddress);

public static class CallerClaims
{
    public const string UserId = "sub";
    public const string Email = "email";
    public const string AuthMethod = "auth_method";

    public static string ClientAddress(this HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "";

    public static string ClientAddress(this ServerCallContext context) => context.GetHttpContext().ClientAddress();

    /// <summary>The caller of an [Authorize]d method; authentication already ran, so a missing user is a server bug.</summary>
    public static Caller Caller(this ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var user = http.User;
        var id = user.FindFirstValue(UserId);
        if (user.Identity?.IsAuthenticated != true || id is null)
            throw Problems.Unauthenticated("authentication required: send x-api-key: pyapi_... or Authorization: Bearer TOKEN");
        return new Caller(new ObjectId(id), user.FindFirstValue(Email) ?? "", user.FindFirstValue(AuthMethod) ?? "", http.ClientAddress());
    }
}
