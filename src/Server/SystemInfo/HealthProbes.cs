using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PythOn.Server.SystemInfo;

/// <summary>
/// Probes for orchestrators. REST: GET /health/live (200 while the process answers) and GET /health/ready (200, or 503
/// when stopping, storage is not writable or no agent can take runs); the body names the failing part, never an
/// address or an error text. gRPC: grpc.health.v1 for "" (everything) and per public service, each needing only what
/// it uses: storage for Auth, Secrets, Audit; storage and an agent for Execute, Packages, Generate, ZK; nothing for System.
/// </summary>
public static class HealthProbes
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string StorageTag = "storage";
    private const string AgentsTag = "agents";
    private const string LifecycleTag = "lifecycle";

    public static IServiceCollection AddPythOnHealthProbes(this IServiceCollection services)
    {
        services.AddSingleton<Readiness>();
        services.AddGrpcHealthChecks(o =>
            {
                string[] storage = [LifecycleTag, StorageTag];
                string[] storageAndAgents = [LifecycleTag, StorageTag, AgentsTag];
                Map(o, Api.V1.Auth.Descriptor.FullName, storage);
                Map(o, Api.V1.Secrets.Descriptor.FullName, storage);
                Map(o, Api.V1.Audit.Descriptor.FullName, storage);
                Map(o, Api.V1.Execute.Descriptor.FullName, storageAndAgents);
                Map(o, Api.V1.Packages.Descriptor.FullName, storageAndAgents);
                Map(o, Api.V1.Generate.Descriptor.FullName, storageAndAgents);
                Map(o, Api.V1.ZK.Descriptor.FullName, storageAndAgents);
                Map(o, Api.V1.System.Descriptor.FullName, [LifecycleTag]);
            })
            .AddCheck<LifecycleHealthCheck>("lifecycle", tags: [LifecycleTag])
            .AddCheck<StorageHealthCheck>("storage", tags: [StorageTag])
            .AddCheck<AgentsHealthCheck>("agents", tags: [AgentsTag]);
        return services;
    }

    private static void Map(GrpcHealthChecksOptions o, string service, string[] tags) =>
        o.Services.Map(service, check => check.Tags.Any(tags.Contains));

    public static IEndpointRouteBuilder MapPythOnHealthProbes(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(LivePath, () => Results.Json(new { status = "live" })).AllowAnonymous().ExcludeFromDescription();
        endpoints.MapGet(ReadyPath, async (Readiness readiness, CancellationToken cancellationToken) =>
        {
            var report = await readiness.CheckAsync(cancellationToken);
            var body = new
            {
                status = report.Ready ? "ready" : "not ready",
                stopping = report.Stopping,
                storage = report.StorageWritable ? "ok" : "not writable",
                agents = report.AgentAvailable ? "ok" : "none with capacity",
            };
            return Results.Json(body, statusCode: report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).AllowAnonymous().ExcludeFromDescription();
        endpoints.MapGrpcHealthChecksService().AllowAnonymous();
        return endpoints;
    }
}
