using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Telemetry;

/// <summary>
/// OpenTelemetry end to end: a run through the real server and agent is one trace (server span, run, queue, the call
/// to the agent, the agent's spans down to the slot), the metrics count it on GET /metrics and over OTLP, logs are
/// JSON with the trace id, and nothing exported or logged holds a secret, a credential or the program's text.
/// </summary>
public sealed class TelemetryTests(TelemetryFixture fx) : IClassFixture<TelemetryFixture>
{
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_run_is_one_trace_from_the_server_through_the_agent_down_to_the_slot()
    {
        var user = await Users.RegisterAsync(fx.Rest);
        var (traceId, callerSpan) = (Hex(16), Hex(8));

        var result = await ExecuteTracedAsync(Credentials.ApiKey(user.ApiKey), "print('traced')", traceId, callerSpan);
        Assert.Equal("traced\n", result.Str("output"));

        var spans = await SpansOfRunAsync(traceId);
        ReceivedSpan One(string service, Func<ReceivedSpan, bool> match) =>
            Assert.Single(spans, s => s.Service == service && match(s));
        var request = One("pyth-on-server", s => s.Span.Kind == 2);
        var run = One("pyth-on-server", s => s.Name == "run");
        var serverQueue = One("pyth-on-server", s => s.Name == "queue");
        var call = One("pyth-on-server", s => s.Span.Kind == 3);
        var agentCall = One("pyth-on-agent", s => s.Span.Kind == 2);
        var agentRun = One("pyth-on-agent", s => s.Name == "agent.run");
        var slotQueue = One("pyth-on-agent", s => s.Name == "queue");
        var sandboxStart = One("pyth-on-agent", s => s.Name == "sandbox.start");
        var program = One("pyth-on-agent", s => s.Name == "program");
        var teardown = One("pyth-on-agent", s => s.Name == "teardown");

        var tree = string.Join("\n", spans);
        Assert.True(request.ParentId == callerSpan, tree);
        Assert.True(run.ParentId == request.SpanId, tree);
        Assert.True(serverQueue.ParentId == run.SpanId, tree);
        Assert.True(call.ParentId == run.SpanId, tree);
        Assert.True(agentCall.ParentId == call.SpanId, tree);
        Assert.True(agentRun.ParentId == agentCall.SpanId, tree);
        foreach (var step in new[] { slotQueue, sandboxStart, program, teardown })
            Assert.True(step.ParentId == agentRun.SpanId, $"{step.Name} is not a child of agent.run:\n{tree}");
        // In order: a slot found, the sandbox handed its job, the program ran, the slot went back.
        Assert.True(slotQueue.Span.EndTimeUnixNano <= sandboxStart.Span.StartTimeUnixNano, tree);
        Assert.True(sandboxStart.Span.EndTimeUnixNano <= program.Span.StartTimeUnixNano, tree);
        Assert.True(program.Span.EndTimeUnixNano <= teardown.Span.StartTimeUnixNano, tree);
        Assert.Equal("python", run.Attribute("pyth_on.language"));
        Assert.Equal("ok", run.Attribute("pyth_on.run.outcome"));
        Assert.Equal(run.Attribute("pyth_on.run.id"), agentRun.Attribute("pyth_on.run.id"));
        Assert.Equal("slot", slotQueue.Attribute("pyth_on.queue.for"));
    }

    [Fact]
    public async Task Nothing_exported_or_logged_holds_a_secret_a_credential_or_the_program_text()
    {
        var password = $"Pw-{Hex(12)}-7";
        var user = await Users.RegisterAsync(fx.Rest, password: password);
        var secret = $"secret-value-{Hex(12)}";
        (await fx.Rest.PutAsync("/api/v1/secrets/TELEMETRY_SECRET", new { value = secret }, user.Key)).Expect(HttpStatusCode.OK);
        var code = $"# program-text-{Hex(12)}\nimport os\nprint('the secret is', os.environ['TELEMETRY_SECRET'])";
        var traceId = Hex(16);

        // The JWT on the run, the API key on the ticket, and the ticket in the WebSocket's query string.
        var result = await ExecuteTracedAsync(Credentials.Bearer(user.Token), code, traceId, Hex(8));
        Assert.Equal("the secret is ***\n", result.Str("output"));
        var ticket = (await fx.Rest.PostAsync("/api/v1/execute/interactive/tickets", new { }, user.Key)).Expect(HttpStatusCode.OK).Json.Str("ticket");
        Assert.Contains("the secret is ***", await RunOverWebSocketAsync(ticket, code));

        await SpansOfRunAsync(traceId);
        await Poll.UntilAsync(() => Task.FromResult(fx.Receiver.Spans.Any(s => s.Attribute("url.path") == "/api/v1/execute/interactive")),
            ExportWait, "the WebSocket request's span is exported");
        await Poll.UntilAsync(() => Task.FromResult(ExportedBy("pyth-on-server", "/v1/logs") && ExportedBy("pyth-on-agent", "/v1/logs")
                && ExportedBy("pyth-on-server", "/v1/metrics") && ExportedBy("pyth-on-agent", "/v1/metrics")),
            ExportWait, "both processes export logs and metrics");
        var scrape = await ScrapeAsync();

        var needles = new Dictionary<string, string>
        {
            ["the secret's value"] = secret,
            ["the API key"] = user.ApiKey,
            ["the JWT"] = user.Token,
            ["the JWT's signature"] = user.Token[(user.Token.LastIndexOf('.') + 1)..],
            ["the refresh token"] = user.RefreshToken,
            ["the password"] = password,
            ["the WebSocket ticket"] = ticket,
            ["the program text"] = code,
            ["the program's first line"] = code[..code.IndexOf('\n')],
        };
        var haystacks = fx.Receiver.Requests.Select((r, i) => ($"OTLP {r.Path} #{i}", r.Body))
            .Append(("GET /metrics", Encoding.UTF8.GetBytes(scrape)))
            .Append(("the server's log", Encoding.UTF8.GetBytes(fx.Server.Output)))
            .Append(("the agent's log", Encoding.UTF8.GetBytes(fx.Agent.Log)))
            .ToList();
        Assert.True(haystacks.Count > 6, "too little was exported to mean anything");
        foreach (var (what, needle) in needles)
        foreach (var (where, bytes) in haystacks)
            Assert.False(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0, $"{what} appears in {where}");
    }

    [Fact]
    public async Task The_run_counter_on_the_scrape_endpoint_counts_each_run_by_language_and_outcome()
    {
        var user = await Users.RegisterAsync(fx.Rest);
        var okBefore = RunsCounted(await ScrapeAsync(), "python", "ok");
        var errorBefore = RunsCounted(await ScrapeAsync(), "python", "error");

        await ExecuteTracedAsync(Credentials.ApiKey(user.ApiKey), "print(1)", Hex(16), Hex(8));
        await ExecuteTracedAsync(Credentials.ApiKey(user.ApiKey), "raise SystemExit(3)", Hex(16), Hex(8));

        var last = "";
        await Poll.UntilAsync(async () =>
        {
            last = await ScrapeAsync();
            return RunsCounted(last, "python", "ok") == okBefore + 1 && RunsCounted(last, "python", "error") == errorBefore + 1;
        }, ExportWait, "the scrape counts one more ok and one more error python run", () => last);
        Assert.Contains("pyth_on_run_duration_seconds_bucket", last);
        Assert.Contains("pyth_on_run_queue_duration_seconds_bucket", last);
    }

    [Fact]
    public async Task The_scrape_endpoint_answers_only_with_the_operator_key()
    {
        using var anonymous = await fx.Rest.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("x-operator-key", await anonymous.Content.ReadAsStringAsync());

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Add("x-operator-key", TelemetryFixture.OperatorKey + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Rest.Http.SendAsync(wrong)).StatusCode);

        Assert.Contains("# TYPE", await ScrapeAsync());
    }

    [Fact]
    public async Task Auth_failures_and_rate_limited_runs_are_counted()
    {
        var before = await ScrapeAsync();
        var response = await fx.Rest.GetAsync("/api/v1/secrets", Credentials.ApiKey("pyapi_not-a-real-key"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);

        var last = "";
        await Poll.UntilAsync(async () =>
        {
            last = await ScrapeAsync();
            return Counted(last, "pyth_on_auth_failures_total", "method=\"api_key\"") == Counted(before, "pyth_on_auth_failures_total", "method=\"api_key\"") + 1;
        }, ExportWait, "one more api_key auth failure on the scrape", () => last);
    }

    [Fact]
    public async Task Json_log_entries_of_a_run_carry_its_trace_id_in_both_processes()
    {
        var user = await Users.RegisterAsync(fx.Rest);
        var traceId = Hex(16);
        await ExecuteTracedAsync(Credentials.ApiKey(user.ApiKey), "print('logged')", traceId, Hex(8));

        await Poll.UntilAsync(() => Task.FromResult(JsonEntries(fx.Server.Output).Any(e => TraceIdOf(e) == traceId)
                && JsonEntries(fx.Agent.Log).Any(e => TraceIdOf(e) == traceId && e.GetProperty("Message").GetString()!.StartsWith("Run "))),
            ExportWait, "a JSON log entry with the run's trace id from the server and from the agent", () => fx.Logs);
    }

    [Fact]
    public async Task The_agent_exports_its_run_and_slot_metrics_over_otlp()
    {
        var user = await Users.RegisterAsync(fx.Rest);
        await ExecuteTracedAsync(Credentials.ApiKey(user.ApiKey), "print(2)", Hex(16), Hex(8));

        await Poll.UntilAsync(() => Task.FromResult(fx.Receiver.Bodies("/v1/metrics").Any(b =>
                Has(b, "pyth-on-agent") && Has(b, "pyth_on.agent.runs") && Has(b, "pyth_on.agent.slots") && Has(b, "pyth_on.agent.slot.wait"))),
            ExportWait, "the agent's run, slot and slot-wait metrics reach the OTLP receiver");
    }

    private async Task<JsonElement> ExecuteTracedAsync(Credentials credentials, string code, string traceId, string parentSpanId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/execute")
        {
            Content = JsonContent.Create(new { language = "python", code }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{parentSpanId}-01");
        credentials.Apply(request);
        // A client that never writes trace headers itself: an in-process test server elsewhere in this process listens
        // to HttpClient activities, and the handler would then replace this traceparent with one of its own.
        using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = fx.Rest.Http.BaseAddress };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n{fx.Logs}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Every span of the trace, once both the server's run and the agent's teardown have been exported.</summary>
    private Task<List<ReceivedSpan>> SpansOfRunAsync(string traceId) =>
        Poll.ForAsync(() =>
        {
            var spans = fx.Receiver.Spans.Where(s => s.TraceId == traceId).ToList();
            return Task.FromResult(spans.Any(s => s.Service == "pyth-on-agent" && s.Name == "teardown")
                && spans.Any(s => s.Service == "pyth-on-server" && s.Span.Kind == 2) ? spans : null);
        }, ExportWait, $"the spans of trace {traceId} are exported",
            () => string.Join("\n", fx.Receiver.Spans.Where(s => s.TraceId == traceId)) + "\n" + fx.Logs);

    private async Task<string> RunOverWebSocketAsync(string ticket, string code)
    {
        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(fx.Server.RestAddress) { Scheme = "ws", Path = "/api/v1/execute/interactive", Query = "ticket=" + Uri.EscapeDataString(ticket) }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        var start = JsonSerializer.Serialize(new { start = new { run = new { language = "python", code } } });
        await socket.SendAsync(Encoding.UTF8.GetBytes(start), WebSocketMessageType.Text, true, CancellationToken.None);
        var received = new StringBuilder();
        var buffer = new byte[1 << 16];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var message = await socket.ReceiveAsync(buffer, deadline.Token);
            if (message.MessageType == WebSocketMessageType.Close) return received.ToString();
            received.Append(Encoding.UTF8.GetString(buffer, 0, message.Count));
        }
    }

    private Task<string> ScrapeAsync() => MetricsScrape.ScrapeAsync(fx.Rest.Http, TelemetryFixture.OperatorKey);

    private static double RunsCounted(string scrape, string language, string outcome) =>
        Counted(scrape, "pyth_on_runs_total", $"pyth_on_language=\"{language}\"", $"pyth_on_run_outcome=\"{outcome}\"");

    private static double Counted(string scrape, string metric, params string[] labels) => MetricsScrape.Counted(scrape, metric, labels);

    private bool ExportedBy(string service, string path) => fx.Receiver.Bodies(path).Any(b => Has(b, service));

    private static bool Has(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static IEnumerable<JsonElement> JsonEntries(string log)
    {
        foreach (var line in log.Split('\n'))
        {
            if (!line.StartsWith('{')) continue;
            JsonElement entry;
            try
            {
                entry = JsonDocument.Parse(line).RootElement.Clone();
            }
            catch (JsonException)
            {
                continue;
            }
            yield return entry;
        }
    }

    private static string? TraceIdOf(JsonElement entry) =>
        entry.TryGetProperty("Scopes", out var scopes) && scopes.ValueKind == JsonValueKind.Array
            ? scopes.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("TraceId", out var t) ? t.GetString() : null)
                .FirstOrDefault(t => t is not null)
            : null;

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
