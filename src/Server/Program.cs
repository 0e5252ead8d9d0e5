using PythOn.Server.Hosting;

// Composition and start inside one guard: a bad setting found while composing (telemetry) or starting ends the
// process with exit code 2 and the setting's name.
return PythOn.Hosting.StartupErrors.Run("pyth-on server", () =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddPythOn();
    builder.Build().UsePythOn().Run();
});

/// <summary>Entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
