using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Audit;

/// <summary>GetAuditLog: newest first, paged with pageSize/pageToken, on both protocols.</summary>
public abstract class AuditLogApiTests(ITestServer server) : IAsyncLifetime
{
    private const int SecretsPut = 5;
    private TestUser _user = null!;

    /// <summary>One account with a known history, shared by the read-only tests: register, then five secret puts (six entries).</summary>
    public async Task InitializeAsync() => _user = await server.SharedAsync("audit user", async () =>
    {
        var user = await Users.RegisterAsync(server.Rest);
        for (var i = 0; i < SecretsPut; i++)
            (await server.Rest.PutAsync($"/api/v1/secrets/AUDITED_{i}", new { value = $"audited-value-{i}" }, user.Key)).Expect(HttpStatusCode.OK);
        return user;
    });

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_audit_log_lists_the_callers_events_newest_first_with_the_documented_fields()
    {
        var json = (await server.Rest.GetAsync("/api/v1/audit", _user.Key)).Expect(HttpStatusCode.OK).Json;

        var entries = json.Items("entries");
        Assert.Equal(
            ["secret.put", "secret.put", "secret.put", "secret.put", "secret.put", "auth.register"],
            entries.Select(e => e.Str("action")));
        Assert.Equal(["secret/AUDITED_4", "secret/AUDITED_3"], entries.Take(2).Select(e => e.Str("resource")));
        Assert.All(entries, e =>
        {
            Assert.Equal(["action", "clientAddress", "details", "id", "outcome", "resource", "time"], e.PropertyNames().Order(StringComparer.Ordinal));
            Assert.Equal("success", e.Str("outcome"));
            Assert.Equal("127.0.0.1", e.Str("clientAddress"));
        });
        Assert.Equal("", json.Str("nextPageToken"));
    }

    [Fact]
    public async Task Paging_over_REST_with_pageSize_and_pageToken_visits_every_entry_once_in_order()
    {
        var everything = (await server.Rest.GetAsync("/api/v1/audit?pageSize=200", _user.Key)).Json.Items("entries").Select(e => e.Str("id")).ToList();
        Assert.Equal(SecretsPut + 1, everything.Count);

        var paged = new List<string>();
        var pages = 0;
        string token = "";
        do
        {
            var path = "/api/v1/audit?pageSize=2" + (token == "" ? "" : "&pageToken=" + Uri.EscapeDataString(token));
            var page = (await server.Rest.GetAsync(path, _user.Key)).Expect(HttpStatusCode.OK).Json;
            var ids = page.Items("entries").Select(e => e.Str("id")).ToList();
            Assert.InRange(ids.Count, 1, 2);
            paged.AddRange(ids);
            token = page.Str("nextPageToken");
            pages++;
        } while (token != "" && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(everything, paged);
    }

    [Fact]
    public async Task Paging_over_gRPC_visits_every_entry_once_in_order()
    {
        var auth = _user.Jwt.Metadata;
        var everything = (await server.Rpc.Audit.GetAuditLogAsync(new GetAuditLogRequest { PageSize = 200 }, auth)).Entries.Select(e => e.Id).ToList();

        var paged = new List<string>();
        var request = new GetAuditLogRequest { PageSize = 4 };
        var first = await server.Rpc.Audit.GetAuditLogAsync(request, auth);
        paged.AddRange(first.Entries.Select(e => e.Id));
        Assert.NotEqual("", first.NextPageToken);
        var second = await server.Rpc.Audit.GetAuditLogAsync(new GetAuditLogRequest { PageSize = 4, PageToken = first.NextPageToken }, auth);
        paged.AddRange(second.Entries.Select(e => e.Id));

        Assert.Equal(4, first.Entries.Count);
        Assert.Equal(2, second.Entries.Count);
        Assert.Equal("", second.NextPageToken);
        Assert.Equal(everything, paged);
        Assert.True(everything.Select(long.Parse).SequenceEqual(everything.Select(long.Parse).OrderDescending()), "entries are not newest first");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(201)]
    public async Task A_page_size_outside_1_to_200_is_400(int pageSize) =>
        (await server.Rest.GetAsync($"/api/v1/audit?pageSize={pageSize}", _user.Key)).ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Theory]
    [InlineData("garbage")]
    [InlineData("MTIz")] // base64 of "123": no owner part
    public async Task A_page_token_the_API_did_not_issue_is_400(string token) =>
        (await server.Rest.GetAsync($"/api/v1/audit?pageToken={token}", _user.Key)).ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task Audit_entries_hold_no_secret_value_password_or_token()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PutAsync("/api/v1/secrets/AUDIT_PROBE", new { value = "do-not-log-this-value" }, user.Key)).Expect(HttpStatusCode.OK);
        var login = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Expect(HttpStatusCode.OK).Json;
        (await server.Rest.PostAsync("/api/login", new { email = user.Email, password = "a-Wrong-password-9" })).Expect(HttpStatusCode.Unauthorized);
        var refreshed = (await server.Rest.PostAsync("/api/refresh", new { refreshToken = login.Str("refreshToken") })).Expect(HttpStatusCode.OK).Json;
        (await server.Rest.PostAsync("/api/refresh", new { refreshToken = login.Str("refreshToken") })).Expect(HttpStatusCode.Unauthorized);

        var body = (await server.Rest.GetAsync("/api/v1/audit", user.Key)).Expect(HttpStatusCode.OK).Body;

        var actions = JsonDocument.Parse(body).RootElement.Items("entries").Select(e => e.Str("action")).ToList();
        Assert.Contains("auth.refresh", actions);
        Assert.Contains("secret.put", actions);
        foreach (var sensitive in new[]
                 {
                     "do-not-log-this-value", user.Password, "a-Wrong-password-9", user.ApiKey, user.Token, user.RefreshToken,
                     login.Str("token"), login.Str("refreshToken"), refreshed.Str("token"), refreshed.Str("refreshToken"),
                 })
            Assert.DoesNotContain(sensitive, body);
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class AuditLogApiInProcess(InProcessServer server) : AuditLogApiTests(server), IClassFixture<InProcessServer>;

public sealed class AuditLogApiOverRealProcess(ProcessServerFixture server) : AuditLogApiTests(server), IClassFixture<ProcessServerFixture>;
