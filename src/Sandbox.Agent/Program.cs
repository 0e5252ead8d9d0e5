// The sandbox agent: owns Docker and runs code in long-lived hardened containers (slots), each run in a fresh run sandbox.
using PythOn.Sandbox.Agent;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Grpc;
using PythOn.Sandbox.Agent.Hosting;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Slots;
using PythOn.Sandbox.Agent.Runs;
using PythOn.Sandbox.Agent.Status;
using PythOn.Sandbox.Agent.Telemetry;

// Composition and start inside one guard: a bad setting found while composing (Kestrel's listeners are configured
// when the host is built) or starting ends the process with exit code 2 and the setting's name, not an abort.
return PythOn.Hosting.StartupErrors.Run("pyth-on agent", () =>
{
    var builder = WebApplication.CreateBuilder(args);
    var agent = builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();
    builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
    builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AgentOptions>, AgentOptionsValidation>();
    // SIGTERM: Kestrel waits up to ShutdownGraceSeconds for the calls in flight, then aborts them; the slots are removed
    // after that in any case (their removal does not stop at the host's deadline).
    builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, agent.ShutdownGraceSeconds)));
    builder.WebHost.ConfigureKestrel(k => Listeners.Configure(k, agent));
    builder.AddPythOnTelemetry();

    builder.Services.AddGrpc(o =>
    {
        // A job (code + stdin + env) may be up to Limits.MaxJobBytes; leave room for framing.
        o.MaxReceiveMessageSize = agent.Limits.MaxJobBytes + (1 << 20);
        o.Interceptors.Add<CallerAuthentication>();
    });
    builder.Services.AddSingleton<DockerHost>();
    builder.Services.AddSingleton<SeccompProfile>();
    builder.Services.AddSingleton<SlotSpec>();
    builder.Services.AddSingleton<UidAllocator>();
    builder.Services.AddSingleton<SlotFactory>();
    builder.Services.AddSingleton<SlotPool>();
    builder.Services.AddSingleton<RunExecutor>();
    builder.Services.AddSingleton<PackageStore>();
    builder.Services.AddSingleton<StoreCollector>();
    builder.Services.AddSingleton<PythOn.Sandbox.Agent.Egress.EgressPolicy>();
    builder.Services.AddSingleton<PythOn.Sandbox.Agent.Egress.EgressProxy>();
    builder.Services.AddSingleton<InstallContainerSpec>();
    builder.Services.AddSingleton<PackageInstaller>();
    builder.Services.AddSingleton<StatusReporter>();
    builder.Services.AddSingleton<ShutdownDrain>();
    builder.Services.AddGrpcHealthChecks().AddCheck<AgentHealthCheck>("sandbox");
    // Order matters: lifecycle starts first (files, checks) and stops last (removes every sandbox).
    builder.Services.AddHostedService<AgentLifecycle>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<SlotPool>());
    builder.Services.AddHostedService(sp => sp.GetRequiredService<PythOn.Sandbox.Agent.Egress.EgressProxy>());
    // Last, so it stops first: runs in flight finish before the slots are removed.
    builder.Services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());

    var app = builder.Build();
    app.UsePythOnTelemetry();
    app.MapGrpcService<SandboxAgentService>();
    app.MapGrpcHealthChecksService(); // unauthenticated (CallerAuthentication lets grpc.health.v1 through) for probes
    app.Lifetime.ApplicationStarted.Register(() =>
    {
        if (!string.IsNullOrWhiteSpace(agent.SocketPath))
            Listeners.RestrictSocket(agent.SocketPath);
    });
    app.Run();
});
