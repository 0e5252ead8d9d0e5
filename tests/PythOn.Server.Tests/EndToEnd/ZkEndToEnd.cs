using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// What the zero-knowledge end-to-end classes share: the documented password, the account and the REST calls that
/// store and run a program. Programs are decrypted by the real agent's sandboxes.
/// </summary>
public abstract class ZkEndToEnd(SandboxedServerFixture fixture) : IAsyncLifetime
{
    /// <summary>The shared server, agent and clients of the end-to-end collection.</summary>
    protected SandboxedServerFixture E2e { get; } = fixture;

    protected const string DocumentedPassword = "MyS3cur3P@ss!";
    protected TestUser _user = null!;

    public async Task InitializeAsync() => _user = await E2e.SharedAsync("zk user", () => Users.RegisterAsync(E2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    protected static string UniqueName(string hint) => $"{hint}-{Guid.NewGuid().ToString("N")[..8]}";

    protected Task<RestResponse> StoreAsync(string name, string payloadJson, TestUser? user = null, string language = "python", string description = "d") =>
        E2e.Rest.SendAsync(HttpMethod.Put, $"/api/v1/zk/code/{name}",
            $$"""{"encryptedPayload":{{payloadJson}},"language":"{{language}}","description":{{JsonSerializer.Serialize(description)}}}""", (user ?? _user).Key);

    protected Task<RestResponse> ExecuteAsync(string name, string password, TestUser? user = null) =>
        E2e.Rest.PostAsync($"/api/v1/zk/execute/{name}", new { masterPassword = password }, (user ?? _user).Key);
}
