using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Unavailable;

/// <summary>
/// Test servers point at an agent address where nothing listens and configure no model: every RPC that runs code
/// or asks a model must answer UNAVAILABLE (REST 503 with a google.rpc.Status body) saying why, never made-up output.
/// </summary>
public abstract class NoSandboxOrModelTests(ITestServer server) : IAsyncLifetime
{
    private TestUser _user = null!;

    public async Task InitializeAsync()
    {
        _user = await server.SharedAsync("unavailable user", () => Users.RegisterAsync(server.Rest));
        // A stored program, so ExecuteCode gets as far as the sandbox.
        var stored = await server.Rest.SendAsync(HttpMethod.Put, "/api/v1/zk/code/stored",
            $$"""{"encryptedPayload":{{Payload}},"language":"python","description":"d"}""", _user.Key);
        Assert.Equal(HttpStatusCode.OK, stored.Status);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private const string Payload = """{"v":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}""";

    public static TheoryData<string, string, string?> Routes => new()
    {
        { "POST", "/api/v1/execute", """{"code":"print('hi')","language":"python"}""" },
        { "POST", "/api/v1/execute/stream", """{"code":"print('hi')","language":"python"}""" },
        { "POST", "/api/v1/generate", """{"prompt":"print hello"}""" },
        { "POST", "/api/v1/zk/execute/stored", """{"masterPassword":"MyS3cur3P@ss!"}""" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task The_REST_route_answers_503_with_a_Status_body_and_no_output(string method, string path, string? body)
    {
        var response = await server.Rest.SendAsync(new HttpMethod(method), path, body, _user.Key);

        var json = response.ExpectStatusBody(HttpStatusCode.ServiceUnavailable, 14);
        Assert.Equal(["code", "details", "message"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Matches("no sandbox agent is reachable|no model provider is configured|not configured|not available", json.Str("message"));
    }

    public static TheoryData<string> Methods =>
    [
        "Execute.Execute", "Execute.ExecuteStream", "Generate.Generate", "ZK.ExecuteCode",
    ];

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task The_gRPC_method_answers_UNAVAILABLE(string method)
    {
        var rpc = server.Rpc;
        var auth = _user.Key.Metadata;
        Func<Task> call = method switch
        {
            "Execute.Execute" => async () => await rpc.Execute.ExecuteAsync(new ExecuteRequest { Code = "print(1)", Language = "python" }, auth),
            "Execute.ExecuteStream" => async () =>
            {
                using var stream = rpc.Execute.ExecuteStream(new ExecuteRequest { Code = "print(1)", Language = "python" }, auth);
                var events = new List<ExecuteStreamEvent>();
                while (await stream.ResponseStream.MoveNext(CancellationToken.None)) events.Add(stream.ResponseStream.Current);
                Assert.Fail($"the stream ended normally with {events.Count} events");
            },
            "Generate.Generate" => async () => await rpc.Generate.GenerateAsync(new GenerateRequest { Prompt = "print hello" }, auth),
            "ZK.ExecuteCode" => async () => await rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = "stored", MasterPassword = "MyS3cur3P@ss!" }, auth),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };

        var error = await RpcAssert.FailsWith(StatusCode.Unavailable, call);
        Assert.Matches("no sandbox agent is reachable|no model provider is configured|not configured|not available", error.Status.Detail);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class NoSandboxOrModelInProcess(InProcessServer server) : NoSandboxOrModelTests(server), IClassFixture<InProcessServer>;

public sealed class NoSandboxOrModelOverRealProcess(ProcessServerFixture server) : NoSandboxOrModelTests(server), IClassFixture<ProcessServerFixture>;
