using System.Net;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Audit;

/// <summary>One account can neither see nor change another's secrets, packages or audit log.</summary>
public abstract class TenantIsolationTests(ITestServer server) : IAsyncLifetime
{
    private TestUser _alice = null!;
    private TestUser _bob = null!;

    /// <summary>
    /// Alice with a secret, two packages and a multi-page audit log, and Bob with nothing: shared by the tests, in
    /// which Bob's attempts on Alice's data must fail (so nothing changes).
    /// </summary>
    public async Task InitializeAsync() => (_alice, _bob) = await server.SharedAsync("isolation: alice and bob", async () =>
    {
        var alice = await Users.RegisterAsync(server.Rest);
        var bob = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PutAsync("/api/v1/secrets/ALICE_ONLY", new { value = "alice-secret-value" }, alice.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, alice.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "@scope/pkg" }, alice.Key)).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 3; i++)
            (await server.Rest.PutAsync($"/api/v1/secrets/ALICE_{i}", new { value = $"alice-{i}-value" }, alice.Key)).Expect(HttpStatusCode.OK);
        return Tuple.Create(alice, bob);
    });

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<IReadOnlyList<string>> AliceSecretNames() =>
        (await server.Rest.GetAsync("/api/v1/secrets", _alice.Key)).Json.Items("secrets").Select(s => s.Str("name")).ToList();

    [Fact]
    public async Task Deleting_another_users_secret_is_404_and_leaves_it_in_place()
    {
        (await server.Rest.DeleteAsync("/api/v1/secrets/ALICE_ONLY", _bob.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
        Assert.Contains("ALICE_ONLY", await AliceSecretNames());
    }

    [Fact]
    public async Task Deleting_another_users_secret_over_gRPC_is_NOT_FOUND()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound,
            server.Rpc.Secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = "ALICE_ONLY" }, _bob.Jwt.Metadata));
        Assert.Contains("ALICE_ONLY", await AliceSecretNames());
    }

    [Fact]
    public async Task Another_users_secrets_are_not_listed()
    {
        var bobs = (await server.Rest.GetAsync("/api/v1/secrets", _bob.Key)).Expect(HttpStatusCode.OK).Json.Items("secrets");
        Assert.DoesNotContain(bobs, s => s.Str("name").StartsWith("ALICE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removing_another_users_package_is_404_and_leaves_it_in_place()
    {
        (await server.Rest.DeleteAsync("/api/v1/packages/requests", _bob.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
        (await server.Rest.DeleteAsync("/api/v1/packages/@scope/pkg?language=javascript", _bob.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
        await RpcAssert.FailsWith(StatusCode.NotFound,
            server.Rpc.Packages.RemovePackageAsync(new RemovePackageRequest { Name = "requests" }, _bob.Key.Metadata));

        var alices = (await server.Rest.GetAsync("/api/v1/packages", _alice.Key)).Json.Items("packages").Select(p => p.Str("name"));
        Assert.Equal(["@scope/pkg", "requests"], alices);
        Assert.Empty((await server.Rest.GetAsync("/api/v1/packages", _bob.Key)).Json.Items("packages"));
    }

    [Fact]
    public async Task Another_users_audit_entries_never_appear_in_the_callers_log()
    {
        var alicesIds = (await server.Rest.GetAsync("/api/v1/audit?pageSize=200", _alice.Key)).Json.Items("entries").Select(e => e.Str("id")).ToHashSet();
        Assert.NotEmpty(alicesIds);

        var bobs = (await server.Rest.GetAsync("/api/v1/audit?pageSize=200", _bob.Key)).Expect(HttpStatusCode.OK);
        var bobsEntries = bobs.Json.Items("entries");

        Assert.Equal(["auth.register"], bobsEntries.Select(e => e.Str("action")));
        Assert.DoesNotContain(bobsEntries, e => alicesIds.Contains(e.Str("id")));
        Assert.DoesNotContain(_alice.Email, bobs.Body);
        Assert.DoesNotContain("ALICE", bobs.Body);
    }

    [Fact]
    public async Task A_page_token_issued_to_one_user_is_refused_for_another_with_400()
    {
        var token = (await server.Rest.GetAsync("/api/v1/audit?pageSize=1", _alice.Key)).Json.Str("nextPageToken");
        Assert.NotEqual("", token);

        (await server.Rest.GetAsync("/api/v1/audit?pageSize=1&pageToken=" + Uri.EscapeDataString(token), _bob.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        await RpcAssert.FailsWith(StatusCode.InvalidArgument,
            server.Rpc.Audit.GetAuditLogAsync(new GetAuditLogRequest { PageSize = 1, PageToken = token }, _bob.Key.Metadata));
        // The same token still works for its owner.
        (await server.Rest.GetAsync("/api/v1/audit?pageSize=1&pageToken=" + Uri.EscapeDataString(token), _alice.Key)).Expect(HttpStatusCode.OK);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class TenantIsolationInProcess(InProcessServer server) : TenantIsolationTests(server), IClassFixture<InProcessServer>;

public sealed class TenantIsolationOverRealProcess(ProcessServerFixture server) : TenantIsolationTests(server), IClassFixture<ProcessServerFixture>;
