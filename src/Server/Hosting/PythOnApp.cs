using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PythOn.Server.Agents;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Execution;
using PythOn.Server.Generation;
using PythOn.Server.OpenApi;
using PythOn.Server.Packages;
using PythOn.Server.RateLimiting;
using PythOn.Server.Secrets;
using PythOn.Server.Storage;
using PythOn.Server.SystemInfo;
using PythOn.Server.Telemetry;
using PythOn.Server.ZeroKnowledge;

namespace PythOn.Server.Hosting;

/// <summary>Composition of the server: services, middleware order and endpoints.</summary>
public static class PythOnApp
{
    public static WebApplicationBuilder AddPythOn(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PythOnOptions>().Bind(builder.Configuration.GetSection(PythOnOptions.Section)).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<PythOnOptions>, PythOnOptionsValidation>();
        var configured = builder.Configuration.GetSection(PythOnOptions.Section).Get<PythOnOptions>() ?? new PythOnOptions();
        var limits = configured.Limits;
        // SIGTERM: Kestrel stops taking connections and requests in flight (runs) get the grace to finish.
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, configured.ShutdownGraceSeconds)));

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = limits.MaxRequestBytes);

        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = limits.MaxRequestBytes;
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<Errors.RetryAfterInterceptor>();
        }).AddJsonTranscoding();
        services.AddGrpcReflection();
        services.AddPythOnHealthProbes();

        services.AddPythOnStorage(builder.Configuration);
        services.AddSingleton<AuditLog>();
        services.AddSingleton<SecretStore>();
        services.AddSingleton<PackageList>();
        services.AddSingleton<AgentInstalls>();
        services.AddSingleton<RunPackages>();
        services.AddSingleton<PackageInstallQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<PackageInstallQueue>());
        services.AddSingleton<AgentFleet>();
        services.AddSingleton<AgentMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentMonitor>());
        services.AddSingleton<SandboxRunner>();
        services.AddSingleton<UserRunGate>();
        services.AddSingleton<InteractiveSession>();
        services.AddSingleton<ExecutePlans>();
        services.AddSingleton<Auth.LoginThrottle>();
        services.AddSingleton<ModelSettings>();
        services.AddPythOnGeneration();
        services.AddSingleton<ZkCodeStore>();
        services.AddSingleton<ZkFailureLimiter>();
        // Coordination within one process; a shared-database storage provider registers its own before these.
        services.TryAddSingleton<IRunPlaces, LocalRunPlaces>();
        services.TryAddSingleton<IZkAttemptLedger, LocalZkAttemptLedger>();
        services.TryAddSingleton<IInstallLocks, LocalInstallLocks>();
        services.TryAddSingleton<IInteractiveTickets, LocalInteractiveTickets>();

        services.AddPythOnOpenApi();
        services.AddPythOnAuthentication();
        services.AddPythOnRateLimits();
        builder.AddPythOnTelemetry();
        return builder;
    }

    public static WebApplication UsePythOn(this WebApplication app)
    {
        // Open the store and the keys now, so a bad data directory fails the start, not the first request.
        app.Services.GetRequiredService<IStorageHealth>();
        app.Services.GetRequiredService<SecretStore>();
        app.Services.GetRequiredService<JwtIssuer>();
        // And the agent addresses: a malformed or cleartext non-loopback address stops the start with its reason.
        app.Services.GetRequiredService<AgentFleet>();

        app.UsePythOnTelemetry();
        app.UseWebSockets();
        app.UseRouting();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseTranscodedResponseFixups();

        app.MapApiService<AuthService>();
        app.MapApiService<SecretsService>();
        app.MapApiService<PackagesService>();
        app.MapApiService<AuditService>();
        app.MapApiService<SystemService>();
        app.MapApiService<ExecuteService>();
        app.MapApiService<GenerateService>();
        app.MapApiService<ZkService>();
        app.MapPythOnHealthProbes();
        app.MapGrpcReflectionService().AllowAnonymous();
        app.MapPythOnApiDocs();
        app.MapInteractiveWebSocket();
        return app;
    }
}
