using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;

namespace PythOn.Server.RateLimiting;

/// <summary>
/// Fixed one-minute windows: register/login/refresh per client address (the "auth" policy), and a global
/// limit per user for authenticated calls (per address for anonymous ones). Rejections are 429 with
/// Retry-After on REST and RESOURCE_EXHAUSTED on gRPC. Counted in the process: with N replicas a client spread over
/// them gets up to N× each limit (README, "Several replicas and agents", says why that is kept).
/// </summary>
public static class RateLimits
{
    public const string AuthPolicy = "auth";
    /// <summary>The ZK encrypt helper costs 64 MiB and about a second of CPU per call.</summary>
    public const string ZkEncryptPolicy = "zk-encrypt";
    /// <summary>Generate calls a paid model (several times with repairs) and runs the result.</summary>
    public const string GeneratePolicy = "generate";

    public static IServiceCollection AddPythOnRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<PythOnOptions>>((o, settings) =>
        {
            var limits = settings.Value.RateLimits;
            o.AddPolicy(AuthPolicy, context =>
                RateLimitPartition.GetFixedWindowLimiter("auth:" + context.RateLimitKey(), _ => PerMinute(limits.AuthPerMinute)));

            o.AddPolicy(ZkEncryptPolicy, context =>
                RateLimitPartition.GetFixedWindowLimiter("zk-encrypt:" + (context.User.FindFirst(CallerClaims.UserId)?.Value ?? context.RateLimitKey()),
                    _ => PerMinute(limits.ZkEncryptPerMinute)));

            o.AddPolicy(GeneratePolicy, context =>
                RateLimitPartition.GetFixedWindowLimiter("generate:" + (context.User.FindFirst(CallerClaims.UserId)?.Value ?? context.RateLimitKey()),
                    _ => PerMinute(limits.GeneratePerMinute)));

            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var userId = context.User.FindFirst(CallerClaims.UserId)?.Value;
                return userId is not null
                    ? RateLimitPartition.GetFixedWindowLimiter("user:" + userId, _ => PerMinute(limits.UserPerMinute))
                    : RateLimitPartition.GetFixedWindowLimiter("anon:" + context.RateLimitKey(), _ => PerMinute(limits.AnonymousPerMinute));
            });

            o.OnRejected = async (context, _) =>
            {
                Telemetry.ServerTelemetry.RateLimited(context.HttpContext.GetEndpoint()?.Metadata
                    .GetMetadata<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>()?.PolicyName ?? "global");
                TimeSpan? retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
                var seconds = retryAfter is { } r ? Math.Max(1, (int)Math.Ceiling(r.TotalSeconds)) : 60;
                await ErrorResponses.WriteAsync(context.HttpContext, StatusCode.ResourceExhausted,
                    $"too many requests: rate limit reached; retry after {seconds} s.", TimeSpan.FromSeconds(seconds));
            };
        });
        services.AddRateLimiter(_ => { });
        return services;
    }

    private static FixedWindowRateLimiterOptions PerMinute(int permits) => new()
    {
        PermitLimit = Math.Max(1, permits),
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
