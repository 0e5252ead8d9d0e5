using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.SystemApi;

/// <summary>System.Health and System.Info, the standard gRPC health service and server reflection.</summary>
public abstract class SystemApiTests(ITestServer server)
{
    [Fact]
    public async Task Health_over_REST_reports_storage_ok_and_the_missing_agent_as_degraded()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var json = (await server.Rest.GetAsync("/api/v1/health", user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["agents", "docker", "model", "pool", "status", "storage", "version"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal("degraded", json.Str("status"));
        Assert.True(json.Prop("storage").Prop("ok").GetBoolean());
        Assert.False(json.Prop("docker").Prop("ok").GetBoolean());
        var agent = Assert.Single(json.Items("agents"));
        Assert.False(agent.Prop("reachable").GetBoolean());
        Assert.NotEqual("", agent.Str("message"));
    }

    [Fact]
    public async Task Health_over_gRPC_answers_without_credentials_with_the_status_only()
    {
        var health = await server.Rpc.System.HealthAsync(new HealthRequest());
        Assert.Equal("degraded", health.Status);
        Assert.Null(health.Storage);
        Assert.Null(health.Docker);
        Assert.Empty(health.Agents);
        Assert.Equal("", health.Version);
    }

    [Fact]
    public async Task Anonymous_health_over_REST_shows_no_agent_address_docker_detail_or_error_text()
    {
        var body = (await server.Rest.GetAsync("/api/v1/health")).Expect(HttpStatusCode.OK).Body;
        Assert.Contains("degraded", body);
        Assert.DoesNotContain("unix:", body);
        Assert.DoesNotContain("reachable", body);
        Assert.DoesNotContain("Docker", body);
        Assert.DoesNotContain("storage", body);
    }

    [Fact]
    public async Task Health_over_gRPC_with_credentials_has_the_details()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var health = await server.Rpc.System.HealthAsync(new HealthRequest(), user.Key.Metadata);
        Assert.True(health.Storage.Ok);
        Assert.Single(health.Agents);
        Assert.Matches(@"^\d+\.\d+\.\d+", health.Version);
    }

    [Fact]
    public async Task Info_over_REST_reports_version_languages_and_limits()
    {
        var json = (await server.Rest.GetAsync("/api/v1/info")).Expect(HttpStatusCode.OK).Json;

        Assert.Matches(@"^\d+\.\d+\.\d+", json.Str("version"));
        Assert.Equal(["python", "javascript"], json.Items("languages").Select(l => l.Str("name")));
        var limits = json.Prop("limits");
        Assert.Equal(
            ["authAttemptsPerMinute", "defaultTimeoutSeconds", "maxCodeBytes", "maxOutputBytes", "maxPackages", "maxSecretBytes",
             "maxSecrets", "maxStdinBytes", "maxTimeoutSeconds", "memoryMb", "requestsPerMinute"],
            limits.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal("65536", limits.Prop("maxSecretBytes").ToString());
        Assert.False(json.Prop("modelConfigured").GetBoolean());
    }

    [Fact]
    public async Task Info_over_gRPC_reports_the_limits_in_force()
    {
        var info = await server.Rpc.System.InfoAsync(new InfoRequest());
        Assert.Equal(64 * 1024, info.Limits.MaxSecretBytes);
        Assert.Equal(100, info.Limits.MaxSecrets);
        Assert.Equal(100000, info.Limits.AuthAttemptsPerMinute); // the suite's setting, not the default
        Assert.Equal([".py"], info.Languages.Single(l => l.Name == "python").Extensions);
    }

    [Fact]
    public async Task The_standard_gRPC_health_check_answers_SERVING()
    {
        var response = await server.Rpc.Health.CheckAsync(new HealthCheckRequest { Service = "" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task gRPC_server_reflection_lists_every_pythonapi_v1_service()
    {
        using var call = server.Rpc.Reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        foreach (var expected in new[]
                 {
                     "pythonapi.v1.Auth", "pythonapi.v1.Secrets", "pythonapi.v1.Packages", "pythonapi.v1.Audit", "pythonapi.v1.System",
                     "pythonapi.v1.Execute", "pythonapi.v1.Generate", "pythonapi.v1.ZK", "grpc.health.v1.Health",
                 })
            Assert.Contains(expected, services);
    }

    [Fact]
    public async Task gRPC_server_reflection_describes_a_pythonapi_v1_file()
    {
        using var call = server.Rpc.Reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "pythonapi.v1.Secrets" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(bytes)).ToList();
        Assert.Contains(files, f => f.Name == "pythonapi/v1/secrets.proto" && f.Service.Any(s => s.Name == "Secrets"));
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class SystemApiInProcess(InProcessServer server) : SystemApiTests(server), IClassFixture<InProcessServer>;

public sealed class SystemApiOverRealProcess(ProcessServerFixture server) : SystemApiTests(server), IClassFixture<ProcessServerFixture>;
