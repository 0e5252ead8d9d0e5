using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.EndToEnd;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Replicas;

/// <summary>Two replicas on one PostgreSQL behave as one service: what one does, the other sees and enforces.</summary>
[Collection(ReplicaCollection.Name)]
public sealed class ReplicaTests(ReplicaFixture fx)
{
    [Fact]
    public async Task An_account_registered_on_one_replica_signs_in_and_uses_its_key_on_the_other()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);

        (await fx.B.Rest.PostAsync("/api/login", new { email = user.Email, password = user.Password })).Expect(HttpStatusCode.OK);
        (await fx.B.Rest.GetAsync("/api/v1/secrets", user.Key)).Expect(HttpStatusCode.OK);
        (await fx.B.Rest.GetAsync("/api/v1/secrets", user.Jwt)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_refresh_token_reused_on_another_replica_revokes_its_whole_family()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        var second = (await fx.A.Rest.PostAsync("/api/refresh", new { refreshToken = user.RefreshToken })).Expect(HttpStatusCode.OK).Json.Str("refreshToken");

        var reuse = await fx.B.Rest.PostAsync("/api/refresh", new { refreshToken = user.RefreshToken });
        var descendant = await fx.A.Rest.PostAsync("/api/refresh", new { refreshToken = second });

        Assert.Contains("already used", reuse.ExpectStatusBody(HttpStatusCode.Unauthorized, (int)StatusCode.Unauthenticated).Str("message"));
        descendant.ExpectStatusBody(HttpStatusCode.Unauthorized, (int)StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task A_secret_stored_on_one_replica_reaches_a_run_served_by_the_other()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        (await fx.A.Rest.PutAsync("/api/v1/secrets/REPLICATED_SECRET", new { value = "shared-across-replicas-42" }, user.Key)).Expect(HttpStatusCode.OK);

        var run = (await fx.B.Rest.PostAsync("/api/v1/execute", new
        {
            language = "python",
            code = "import os\nprint(os.environ['REPLICATED_SECRET'] == 'shared-across-replicas-42')",
        }, user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("True\n", run.Str("output"));
    }

    [Fact]
    public async Task The_per_user_run_cap_counts_the_runs_on_every_replica()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        using var cancel = new CancellationTokenSource();
        var running = new List<AsyncServerStreamingCall<ExecuteStreamEvent>>();
        try
        {
            // One run on each replica, each known to be running once its first output arrives.
            foreach (var replica in new[] { fx.A, fx.B }.Take(ReplicaFixture.RunCap))
            {
                var call = replica.Rpc.Execute.ExecuteStream(new ExecuteRequest
                {
                    Language = "python",
                    Code = "import time\nprint('running', flush=True)\ntime.sleep(60)",
                    Timeout = 60,
                }, user.Key.Metadata, cancellationToken: cancel.Token);
                running.Add(call);
                Assert.True(await call.ResponseStream.MoveNext(cancel.Token), fx.Logs);
                Assert.StartsWith("running", call.ResponseStream.Current.Chunk.Data);
            }

            var third = await fx.A.Rest.PostAsync("/api/v1/execute", new { language = "python", code = "print(1)" }, user.Key);

            var message = third.ExpectStatusBody(HttpStatusCode.TooManyRequests, (int)StatusCode.ResourceExhausted).Str("message");
            Assert.Contains($"you already have {ReplicaFixture.RunCap} runs in progress", message);
        }
        finally
        {
            await cancel.CancelAsync();
            foreach (var call in running) call.Dispose();
        }
    }

    [Fact]
    public async Task The_ZK_failure_budget_counts_the_failures_on_every_replica()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        var name = $"guessed-{Guid.NewGuid():N}"[..16];
        (await fx.A.Rest.SendAsync(HttpMethod.Put, $"/api/v1/zk/code/{name}",
            $$"""{"encryptedPayload":{{ZkVectors.PayloadJson("ok-0")}},"language":"python","description":"d"}""", user.Key)).Expect(HttpStatusCode.OK);

        // Five failures in all, split over the replicas: the budget of one program.
        for (var i = 0; i < 5; i++)
            (await (i % 2 == 0 ? fx.A : fx.B).Rest.PostAsync($"/api/v1/zk/execute/{name}", new { masterPassword = $"guess-{i}" }, user.Key))
                .ExpectStatusBody(HttpStatusCode.Forbidden, (int)StatusCode.PermissionDenied);

        var right = await fx.B.Rest.PostAsync($"/api/v1/zk/execute/{name}", new { masterPassword = "MyS3cur3P@ss!" }, user.Key);

        Assert.Contains("too many failed decryption attempts",
            right.ExpectStatusBody(HttpStatusCode.TooManyRequests, (int)StatusCode.ResourceExhausted).Str("message"));
    }

    [Fact]
    public async Task A_package_list_changed_on_one_replica_is_installed_once_and_both_replicas_see_it_ready()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        var before = await InstallsAsync();

        (await fx.A.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "pyth-on-replicated==1.0" }, user.Key)).Expect(HttpStatusCode.OK);

        // B sweeps for unfinished lists every second (RetrySeconds 1) while A installs: only the lock keeps it out.
        await Poll.UntilAsync(async () => (await fx.B.Rest.GetAsync("/api/v1/packages?language=python", user.Key)).Expect(HttpStatusCode.OK).Json
            .Items("packages").Any(p => p.Str("status") == "PACKAGE_STATUS_READY"), TimeSpan.FromSeconds(180), "B sees the package ready", () => fx.Logs);
        // Counted before the run: a run asks an agent for its set's store too (a cached answer, counted as well).
        var installs = await InstallsAsync() - before;
        var run = (await fx.B.Rest.PostAsync("/api/v1/execute", new { language = "python", code = "import pyth_on_replicated\nprint(pyth_on_replicated.VALUE)" }, user.Key))
            .Expect(HttpStatusCode.OK).Json;

        Assert.Equal("pyth-on-replicated 1.0\n", run.Str("output"));
        Assert.True(installs == 1, $"{installs} installs:\n{await InstallLinesAsync()}\n{fx.Logs}");
    }

    [Fact]
    public async Task The_audit_log_holds_what_either_replica_did_in_one_log()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        (await fx.B.Rest.PutAsync("/api/v1/secrets/AUDITED_ON_B", new { value = "audited-value-123" }, user.Key)).Expect(HttpStatusCode.OK);

        var fromA = (await fx.A.Rest.GetAsync("/api/v1/audit?pageSize=50", user.Key)).Expect(HttpStatusCode.OK).Json.Items("entries").Select(e => e.Str("action")).ToList();
        var fromB = (await fx.B.Rest.GetAsync("/api/v1/audit?pageSize=50", user.Key)).Expect(HttpStatusCode.OK).Json.Items("entries").Select(e => e.Str("action")).ToList();

        Assert.Equal(fromA, fromB);
        Assert.Contains("auth.register", fromA);
        Assert.Contains("secret.put", fromA);
    }

    [Fact]
    public async Task A_WebSocket_ticket_issued_by_one_replica_opens_an_interactive_run_on_the_other_once()
    {
        var user = await Users.RegisterAsync(fx.A.Rest);
        var ticket = (await fx.A.Rest.PostAsync("/api/v1/execute/interactive/tickets", new { }, user.Key)).Expect(HttpStatusCode.OK).Json.Str("ticket");
        var uri = new UriBuilder(fx.B.RestAddress) { Scheme = "ws", Path = "/api/v1/execute/interactive", Query = "ticket=" + Uri.EscapeDataString(ticket) }.Uri;

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"start":{"run":{"language":"python","code":"print('ran on B via', input())"}}}"""),
            WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync("""{"stdin":"a ticket from A\n"}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var result = await WsResultAsync(socket);

        Assert.True(result.GetProperty("exitCode").GetInt32() == 0, $"{result}\n{fx.Logs}");
        Assert.Equal("ran on B via a ticket from A\n", result.GetProperty("output").GetString());
        using var again = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => again.ConnectAsync(uri, CancellationToken.None)); // 401: used up
    }

    /// <summary>Reads the socket's messages until the run's result, within a deadline.</summary>
    private static async Task<JsonElement> WsResultAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 16];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer, deadline.Token);
                if (received.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("closed before the result");
                message.Write(buffer, 0, received.Count);
            } while (!received.EndOfMessage);
            var json = JsonDocument.Parse(message.ToArray()).RootElement;
            if (json.TryGetProperty("error", out var error)) throw new InvalidOperationException($"the run failed: {error}");
            if (json.TryGetProperty("result", out var result)) return result.Clone();
        }
    }

    private async Task<string> InstallLinesAsync() => string.Join("\n",
        (await MetricsScrape.ScrapeAsync(fx.A.Rest.Http, ReplicaFixture.OperatorKey)).Split('\n').Where(l => l.StartsWith("pyth_on_package_installs")).Select(l => "A " + l)
        .Concat((await MetricsScrape.ScrapeAsync(fx.B.Rest.Http, ReplicaFixture.OperatorKey)).Split('\n').Where(l => l.StartsWith("pyth_on_package_installs")).Select(l => "B " + l)));

    /// <summary>Install calls both replicas made to agents, whatever their outcome.</summary>
    private async Task<double> InstallsAsync()
    {
        var a = await MetricsScrape.ScrapeAsync(fx.A.Rest.Http, ReplicaFixture.OperatorKey);
        var b = await MetricsScrape.ScrapeAsync(fx.B.Rest.Http, ReplicaFixture.OperatorKey);
        return MetricsScrape.Counted(a, "pyth_on_package_installs_total") + MetricsScrape.Counted(b, "pyth_on_package_installs_total");
    }
}
