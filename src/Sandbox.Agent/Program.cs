// The sandbox agent: owns Docker and runs code in single-use hardened containers (Sandbox issue).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGrpc();
var app = builder.Build();
app.Run();
