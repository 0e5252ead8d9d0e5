using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Server.Hosting;
using PythOn.Server.OpenApi;
using SystemService = PythOn.Api.V1.System;

namespace PythOn.Server.Tests.OpenApi;

/// <summary>
/// A minimal in-process app: every pythonapi.v1 service mapped as the server maps it (JSON transcoding, anonymous
/// methods from their proto option; stub implementations), an authorization fallback policy that refuses anonymous
/// callers, the server's response fix-ups, and the two OpenAPI extension methods.
/// The document is fetched once and shared by the tests.
/// </summary>
public sealed class ApiDocsHost : IAsyncLifetime
{
    private WebApplication? _app;

    public HttpClient Client { get; private set; } = null!;
    public JsonElement Document { get; private set; }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc().AddJsonTranscoding();
        builder.Services.AddAuthentication(RefuseAll.Scheme).AddScheme<AuthenticationSchemeOptions, RefuseAll>(RefuseAll.Scheme, null);
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        builder.Services.AddPythOnOpenApi();

        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.UseTranscodedResponseFixups();
        _app.MapApiService<AuthStub>();
        _app.MapApiService<ExecuteStub>();
        _app.MapApiService<SecretsStub>();
        _app.MapApiService<AuditStub>();
        _app.MapApiService<SystemStub>();
        _app.MapApiService<GenerateStub>();
        _app.MapApiService<PackagesStub>();
        _app.MapApiService<ZkStub>();
        _app.MapPythOnApiDocs();
        await _app.StartAsync();

        Client = _app.GetTestClient();
        using var response = await Client.GetAsync("/openapi/v1.json");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /openapi/v1.json answered {(int)response.StatusCode}: {body}");
        }
        Document = JsonDocument.Parse(body).RootElement.Clone();
        RawDocument = body;
    }

    public string RawDocument { get; private set; } = "";

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private sealed class AuthStub : PythOn.Api.V1.Auth.AuthBase;
    private sealed class ExecuteStub : PythOn.Api.V1.Execute.ExecuteBase;
    private sealed class SecretsStub : PythOn.Api.V1.Secrets.SecretsBase;
    private sealed class AuditStub : PythOn.Api.V1.Audit.AuditBase;
    /// <summary>Health fails as a call the client abandoned would: the status mapping's test case.</summary>
    private sealed class SystemStub : SystemService.SystemBase
    {
        public override Task<HealthResponse> Health(HealthRequest request, Grpc.Core.ServerCallContext context) =>
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Cancelled, "the caller went away"));
    }
    private sealed class GenerateStub : PythOn.Api.V1.Generate.GenerateBase;
    private sealed class PackagesStub : PythOn.Api.V1.Packages.PackagesBase;
    private sealed class ZkStub : ZK.ZKBase;

    /// <summary>Authenticates nobody: with the fallback policy, only [AllowAnonymous] endpoints answer 2xx.</summary>
    private sealed class RefuseAll(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public new const string Scheme = "RefuseAll";
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}
