using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;
using PythOn.TestSupport;
using Xunit.Abstractions;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>Interactive runs end to end: a program driven turn by turn over gRPC (Execute.Interact) and over the
/// WebSocket endpoint, signals, EOF, the idle limit, a dropped caller, and a caller that never reads.</summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class InteractTests(SandboxedServerFixture e2e, ITestOutputHelper output) : IAsyncLifetime
{
    private TestUser _user = null!;

    private const string EchoProgram =
        "import sys\nwhile True:\n    line = sys.stdin.readline()\n    if not line:\n        break\n    print('echo:' + line.strip(), flush=True)\nprint('bye')";

    public async Task InitializeAsync() => _user = await e2e.SharedAsync("interact user", () => Users.RegisterAsync(e2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    private static InteractRequest Start(ExecuteRequest run, double? idle = null)
    {
        var start = new InteractStart { Run = run };
        if (idle is { } seconds) start.IdleTimeout = seconds;
        return new InteractRequest { Start = start };
    }

    /// <summary>Reads events until the stdout text seen so far ends with <paramref name="expected"/>.</summary>
    private static async Task<string> ReadUntilAsync(IAsyncStreamReader<ExecuteStreamEvent> events, string expected)
    {
        var text = new StringBuilder();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!text.ToString().EndsWith(expected, StringComparison.Ordinal))
        {
            Assert.True(await events.MoveNext(deadline.Token), $"the run ended before '{expected}' (got '{text}')");
            Assert.Equal(ExecuteStreamEvent.EventOneofCase.Chunk, events.Current.EventCase);
            if (events.Current.Chunk.Stream == OutputStream.Stdout) text.Append(events.Current.Chunk.Data);
        }
        return text.ToString();
    }

    private static async Task<ExecuteResponse> ResultAsync(IAsyncStreamReader<ExecuteStreamEvent> events)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await events.MoveNext(deadline.Token))
            if (events.Current.EventCase == ExecuteStreamEvent.EventOneofCase.Result)
                return events.Current.Result;
        throw new InvalidOperationException("no result");
    }

    [Fact]
    public async Task A_program_that_reads_a_line_answers_and_reads_again_is_driven_turn_by_turn_over_gRPC()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(Start(Python(EchoProgram)));

        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = "hello\n" });
        Assert.Equal("echo:hello\n", await ReadUntilAsync(call.ResponseStream, "echo:hello\n"));
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = "again\n" });
        Assert.Equal("echo:again\n", await ReadUntilAsync(call.ResponseStream, "echo:again\n"));
        await call.RequestStream.WriteAsync(new InteractRequest { StdinClose = true });

        Assert.Equal("bye\n", await ReadUntilAsync(call.ResponseStream, "bye\n"));
        var result = await ResultAsync(call.ResponseStream);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("echo:hello\necho:again\nbye\n", result.Output);
    }

    [Fact]
    public async Task Stdin_end_finishes_a_for_line_in_stdin_loop()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(Start(Python("import sys\nn = 0\nfor line in sys.stdin:\n    n += 1\nprint('lines', n)")));
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = "a\nb\n" });
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = "c\n" });
        await call.RequestStream.WriteAsync(new InteractRequest { StdinClose = true });

        var result = await ResultAsync(call.ResponseStream);
        Assert.Equal("lines 3\n", result.Output);
    }

    [Fact]
    public async Task An_interrupt_raises_KeyboardInterrupt_in_Python()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(Start(Python(
            "import time\nprint('ready', flush=True)\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    print('interrupted')")));
        await ReadUntilAsync(call.ResponseStream, "ready\n");

        await call.RequestStream.WriteAsync(new InteractRequest { Signal = Signal.Interrupt });

        var result = await ResultAsync(call.ResponseStream);
        Assert.Equal("ready\ninterrupted\n", result.Output);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task An_interrupt_ends_node()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(Start(JavaScript("console.log('ready'); setInterval(() => {}, 1000);")));
        await ReadUntilAsync(call.ResponseStream, "ready\n");

        await call.RequestStream.WriteAsync(new InteractRequest { Signal = Signal.Interrupt });

        Assert.Equal(130, (await ResultAsync(call.ResponseStream)).ExitCode);
    }

    [Fact]
    public async Task A_kill_ends_the_run_and_leaves_no_slot_busy()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(Start(Python("import time\nprint('ready', flush=True)\ntime.sleep(30)")));
        await ReadUntilAsync(call.ResponseStream, "ready\n");

        await call.RequestStream.WriteAsync(new InteractRequest { Signal = Signal.Kill });

        Assert.Equal(137, (await ResultAsync(call.ResponseStream)).ExitCode);
        await Poll.UntilAsync(async () => (await e2e.Agent.StatusAsync()).ActiveRuns == 0, TimeSpan.FromSeconds(10), "no run is active");
    }

    [Fact]
    public async Task A_dropped_connection_kills_the_program_and_frees_its_slot()
    {
        var cancel = new CancellationTokenSource();
        var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata, cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(Start(Python("import time\nprint('ready', flush=True)\ntime.sleep(30)")));
        await ReadUntilAsync(call.ResponseStream, "ready\n");

        cancel.Cancel();
        call.Dispose();

        await Poll.UntilAsync(async () => (await e2e.Agent.StatusAsync()).ActiveRuns == 0, TimeSpan.FromSeconds(15), "the dropped run is gone");
        Assert.Null(await DockerCli.FindRunningPythonProgramAsync(e2e.Agent.InstanceId));
    }

    [Fact]
    public async Task The_idle_limit_ends_a_run_that_neither_reads_nor_writes()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await call.RequestStream.WriteAsync(Start(Python("import time\ntime.sleep(30)"), idle: 1));

        var result = await ResultAsync(call.ResponseStream);

        Assert.True(result.IdleTimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task A_first_message_that_is_not_start_is_INVALID_ARGUMENT()
    {
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        await call.RequestStream.WriteAsync(new InteractRequest { Stdin = "x" });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("start", error.Status.Detail);
    }

    [Fact]
    public async Task A_caller_that_never_reads_is_bounded_in_server_memory()
    {
        static long RssKiB(int pid) =>
            long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        var pid = e2e.Server.ProcessId;
        var before = RssKiB(pid);
        using var call = e2e.Rpc.Execute.Interact(_user.Key.Metadata);
        // Far more output than the cap would let through if nothing pushed back: it only ever waits for the reader.
        var flood = Python("import sys\nchunk = 'z' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        flood.Timeout = 8;
        await call.RequestStream.WriteAsync(Start(flood));
        var peak = before;
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(200); // sampling the server's memory while the caller reads nothing (not synchronisation)
            peak = Math.Max(peak, RssKiB(pid));
        }
        output.WriteLine($"server RSS before {before / 1024.0:0.0} MiB, peak while the caller did not read {peak / 1024.0:0.0} MiB " +
            $"(+{(peak - before) / 1024.0:0.0} MiB)");
        Assert.True(peak - before < 64 * 1024, $"the server grew by {(peak - before) / 1024} MiB for a caller that does not read");
        var result = await ResultAsync(call.ResponseStream);
        Assert.True(result.StoppedAtOutputCap || result.TimedOut);
    }

    private async Task<ClientWebSocket> ConnectAsync(Credentials? credentials, string query = "")
    {
        var socket = new ClientWebSocket();
        if (credentials?.HeaderName is { } name) socket.Options.SetRequestHeader(name, credentials.HeaderValue);
        var uri = new UriBuilder(e2e.Server.RestAddress) { Scheme = "ws", Path = "/api/v1/execute/interactive", Query = query }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, deadline.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
        }
    }

    private static async Task<string> WsReadUntilAsync(ClientWebSocket socket, string expected)
    {
        var text = new StringBuilder();
        while (!text.ToString().EndsWith(expected, StringComparison.Ordinal))
        {
            var message = await ReceiveAsync(socket) ?? throw new InvalidOperationException($"closed before '{expected}'");
            text.Append(message.GetProperty("chunk").GetProperty("data").GetString());
        }
        return text.ToString();
    }

    [Fact]
    public async Task The_same_program_is_driven_turn_by_turn_over_the_WebSocket()
    {
        using var socket = await ConnectAsync(_user.Key);
        await SendAsync(socket, JsonSerializer.Serialize(new { start = new { run = new { language = "python", code = EchoProgram } } }));

        await SendAsync(socket, """{"stdin":"hello\n"}""");
        Assert.Equal("echo:hello\n", await WsReadUntilAsync(socket, "echo:hello\n"));
        await SendAsync(socket, """{"stdin":"again\n"}""");
        Assert.Equal("echo:again\n", await WsReadUntilAsync(socket, "echo:again\n"));
        await SendAsync(socket, """{"stdinClose":true}""");
        await WsReadUntilAsync(socket, "bye\n");

        var last = await ReceiveAsync(socket);
        Assert.Equal(0, last!.Value.GetProperty("result").GetProperty("exitCode").GetInt32());
        Assert.Null(await ReceiveAsync(socket)); // then the server closes
    }

    [Fact]
    public async Task A_browser_without_headers_connects_with_a_single_use_ticket()
    {
        var ticket = (await e2e.Rest.PostAsync("/api/v1/execute/interactive/tickets", new { }, _user.Key)).Expect(System.Net.HttpStatusCode.OK).Json.Str("ticket");
        using var socket = await ConnectAsync(null, "ticket=" + Uri.EscapeDataString(ticket));
        await SendAsync(socket, """{"start":{"run":{"language":"javascript","code":"console.log('via ticket')"}}}""");
        Assert.Equal("via ticket\n", await WsReadUntilAsync(socket, "via ticket\n"));

        var again = new ClientWebSocket();
        var uri = new UriBuilder(e2e.Server.RestAddress) { Scheme = "ws", Path = "/api/v1/execute/interactive", Query = "ticket=" + Uri.EscapeDataString(ticket) }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => again.ConnectAsync(uri, CancellationToken.None)); // 401: used up
    }

    [Fact]
    public async Task The_WebSocket_refuses_a_caller_without_credentials()
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(e2e.Server.RestAddress) { Scheme = "ws", Path = "/api/v1/execute/interactive" }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
    }
}
