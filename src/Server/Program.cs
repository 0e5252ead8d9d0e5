using PythOn.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPythOn();

var app = builder.Build();
return PythOn.Hosting.StartupErrors.Run("pyth-on server", () => app.UsePythOn().Run());

/// <summary>Entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
