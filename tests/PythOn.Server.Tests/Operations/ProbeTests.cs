using System.Net;
using Grpc.Health.V1;
using PythOn.Server.Tests.Infrastructure;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace PythOn.Server.Tests.Operations;

/// <summary>Its own agent and server: these tests kill the agent and take the data directory away.</summary>
public sealed class ProbesFixture : SandboxedServerFixture
{
    protected override string Purpose => "probes";
}

/// <summary>
/// Liveness (the process answers) and readiness (storage writable, an agent with capacity) as separate REST endpoints
/// with status codes that mean something, and grpc.health.v1 per public service.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ProbeTests(ProbesFixture e2e) : IClassFixture<ProbesFixture>, IAsyncLifetime
{
    private static readonly TimeSpan FlipDeadline = TimeSpan.FromSeconds(30);

    public async Task InitializeAsync()
    {
        if (e2e.Agent.HasExited) await e2e.Agent.RestartAsync();
        await ReadinessBecomesAsync(HttpStatusCode.OK);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<RestResponse> ReadinessBecomesAsync(HttpStatusCode expected)
    {
        RestResponse? last = null;
        string? refused = null;
        await Poll.UntilAsync(async () =>
        {
            try
            {
                last = await e2e.Rest.GetAsync("/health/ready");
                return last.Status == expected;
            }
            catch (HttpRequestException e) // the server is gone: say so with its exit code and output, not just "refused"
            {
                refused = $"{e.Message}; " + (e2e.Server.HasExited ? $"the server exited with code {e2e.Server.ExitCode}" : "the server is still running");
                return false;
            }
        }, FlipDeadline, $"GET /health/ready answers {(int)expected}", () => $"{refused ?? $"{last?.Status} {last?.Body}"}\n{e2e.Logs}");
        return last!;
    }

    private Task<HealthCheckResponse> GrpcHealthAsync(string service) =>
        new Health.HealthClient(e2e.Server.Grpc).CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;

    [Fact]
    public async Task With_storage_and_an_agent_both_probes_answer_200()
    {
        var live = await e2e.Rest.GetAsync("/health/live");
        var ready = await e2e.Rest.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.Status);
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("ready", ready.Json.Str("status"));
    }

    [Fact]
    public async Task Readiness_answers_503_while_every_agent_is_gone_and_200_when_one_is_back_while_liveness_stays_200()
    {
        e2e.Agent.Kill();

        var down = await ReadinessBecomesAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("none with capacity", down.Json.Str("agents"));
        Assert.DoesNotContain(e2e.Agent.SocketPath, down.Body); // anonymous: no addresses, no error texts
        Assert.Equal(HttpStatusCode.OK, (await e2e.Rest.GetAsync("/health/live")).Status);

        await e2e.Agent.RestartAsync();
        await ReadinessBecomesAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readiness_answers_503_while_the_storage_directory_cannot_be_written()
    {
        var moved = e2e.DataDirectory + ".away";
        Directory.Move(e2e.DataDirectory, moved);
        try
        {
            var down = await ReadinessBecomesAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("not writable", down.Json.Str("storage"));
            Assert.Equal(HttpStatusCode.OK, (await e2e.Rest.GetAsync("/health/live")).Status);
        }
        finally
        {
            Directory.Move(moved, e2e.DataDirectory);
        }
        await ReadinessBecomesAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Grpc_health_reports_each_service_by_what_it_needs_while_the_agent_is_down()
    {
        e2e.Agent.Kill();
        await ReadinessBecomesAsync(HttpStatusCode.ServiceUnavailable);

        Assert.Equal(ServingStatus.NotServing, (await GrpcHealthAsync("")).Status);
        Assert.Equal(ServingStatus.NotServing, (await GrpcHealthAsync("pythonapi.v1.Execute")).Status);
        Assert.Equal(ServingStatus.Serving, (await GrpcHealthAsync("pythonapi.v1.Auth")).Status);
        Assert.Equal(ServingStatus.Serving, (await GrpcHealthAsync("pythonapi.v1.System")).Status);

        await e2e.Agent.RestartAsync();
        await ReadinessBecomesAsync(HttpStatusCode.OK);
        Assert.Equal(ServingStatus.Serving, (await GrpcHealthAsync("pythonapi.v1.Execute")).Status);
    }
}
