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

    /// <summary>The key per-address rate limits count under: the IPv4 address, or the /64 of an IPv6 address (one
    /// subscriber usually holds a whole /64, so per-address limits would be no limit at all).</summary>
    public static string RateLimitKey(this HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null) return "";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes) + "/64";
    }

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
