using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>What the Execute end-to-end classes share: the server and agent of the collection, the account that runs,
/// the account with a stored secret, and a gRPC stream read whole.</summary>
public abstract class ExecuteEndToEnd(SandboxedServerFixture fixture) : IAsyncLifetime
{
    /// <summary>The shared server, agent and clients of the end-to-end collection.</summary>
    protected SandboxedServerFixture E2e { get; } = fixture;

    protected TestUser _user = null!;

    public async Task InitializeAsync() => _user = await E2e.SharedAsync("execute user", () => Users.RegisterAsync(E2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    private sealed record SecretUser(TestUser User, string Value);

    /// <summary>An account with the secret API_TOKEN stored through PutSecret.</summary>
    protected async Task<(TestUser User, string Value)> SecretUserAsync()
    {
        var shared = await E2e.SharedAsync("secret user", async () =>
        {
            var user = await Users.RegisterAsync(E2e.Rest);
            const string value = "tok-E2E-masked-4f9c1d";
            (await E2e.Rest.PutAsync("/api/v1/secrets/API_TOKEN", new { value }, user.Key)).Expect(HttpStatusCode.OK);
            return new SecretUser(user, value);
        });
        return (shared.User, shared.Value);
    }

    protected async Task<(List<OutputChunk> Chunks, ExecuteResponse Result)> StreamAsync(ExecuteRequest request, TestUser user)
    {
        using var call = E2e.Rpc.Execute.ExecuteStream(request, user.Key.Metadata);
        var events = new List<ExecuteStreamEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        Assert.NotEmpty(events);
        Assert.All(events[..^1], e => Assert.Equal(ExecuteStreamEvent.EventOneofCase.Chunk, e.EventCase));
        Assert.Equal(ExecuteStreamEvent.EventOneofCase.Result, events[^1].EventCase);
        return (events[..^1].Select(e => e.Chunk).ToList(), events[^1].Result);
    }
}
