using PythOn.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPythOn();

var app = builder.Build();
app.UsePythOn();
app.Run();

/// <summary>Entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
