using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Unavailable;

/// <summary>
/// Execute, ExecuteStream, Generate and the ZK service are not wired to a sandbox or model yet: they must answer
/// UNAVAILABLE (REST 503 with a google.rpc.Status body), never made-up output.
/// </summary>
public abstract class NotYetAvailableTests(ITestServer server) : IAsyncLifetime
{
    private TestUser _user = null!;

    public async Task InitializeAsync() => _user = await server.SharedAsync("unavailable user", () => Users.RegisterAsync(server.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    private const string Payload = """{"v":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}""";

    public static TheoryData<string, string, string?> Routes => new()
    {
        { "POST", "/api/v1/execute", """{"code":"print('hi')","language":"python"}""" },
        { "POST", "/api/v1/execute/stream", """{"code":"print('hi')","language":"python"}""" },
        { "POST", "/api/v1/generate", """{"prompt":"print hello"}""" },
        { "POST", "/api/v1/zk/encrypt", """{"code":"print('hi')","masterPassword":"MyS3cur3P@ss!"}""" },
        { "PUT", "/api/v1/zk/code/scraper", $$"""{"encryptedPayload":{{Payload}},"language":"python","description":"My encrypted scraper"}""" },
        { "DELETE", "/api/v1/zk/code/scraper", null },
        { "GET", "/api/v1/zk/code", null },
        { "POST", "/api/v1/zk/execute/scraper", """{"masterPassword":"MyS3cur3P@ss!","packages":["requests"]}""" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task The_REST_route_answers_503_with_a_Status_body_and_no_output(string method, string path, string? body)
    {
        var response = await server.Rest.SendAsync(new HttpMethod(method), path, body, _user.Key);

        var json = response.ExpectStatusBody(HttpStatusCode.ServiceUnavailable, 14);
        Assert.Equal(["code", "details", "message"], json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Contains("not available", json.Str("message"));
    }

    public static TheoryData<string> Methods =>
    [
        "Execute.Execute", "Execute.ExecuteStream", "Generate.Generate",
        "ZK.Encrypt", "ZK.StoreCode", "ZK.DeleteCode", "ZK.ListCode", "ZK.ExecuteCode",
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
            "ZK.Encrypt" => async () => await rpc.Zk.EncryptAsync(new EncryptRequest { Code = "print(1)", MasterPassword = "MyS3cur3P@ss!" }, auth),
            "ZK.StoreCode" => async () => await rpc.Zk.StoreCodeAsync(new StoreCodeRequest
            {
                Name = "scraper", Language = "python",
                EncryptedPayload = new ZKPayload { V = 1, Salt = "AAAAAAAAAAAAAAAAAAAAAA==", Nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Ciphertext = "AAAAAAAAAAAAAAAAAAAAAA==" },
            }, auth),
            "ZK.DeleteCode" => async () => await rpc.Zk.DeleteCodeAsync(new DeleteCodeRequest { Name = "scraper" }, auth),
            "ZK.ListCode" => async () => await rpc.Zk.ListCodeAsync(new ListCodeRequest(), auth),
            "ZK.ExecuteCode" => async () => await rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = "scraper", MasterPassword = "MyS3cur3P@ss!" }, auth),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };

        var error = await RpcAssert.FailsWith(StatusCode.Unavailable, call);
        Assert.Contains("not available", error.Status.Detail);
    }
}

public sealed class NotYetAvailableInProcess(InProcessServer server) : NotYetAvailableTests(server), IClassFixture<InProcessServer>;

public sealed class NotYetAvailableOverRealProcess(ProcessServerFixture server) : NotYetAvailableTests(server), IClassFixture<ProcessServerFixture>;
