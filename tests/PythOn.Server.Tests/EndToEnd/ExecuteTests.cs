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

/// <summary>
/// Sandbox execution end to end: REST and gRPC calls to the real server process, run by the real agent process in
/// Docker. Output, stdin, args, exit codes, secrets, limits, streaming, audit, validation and cleanup.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ExecuteTests(SandboxedServerFixture e2e) : IAsyncLifetime
{
    private TestUser _user = null!;

    public async Task InitializeAsync() => _user = await e2e.SharedAsync("execute user", () => Users.RegisterAsync(e2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(Transport.Rest, "python", "print('Hello, world!')")]
    [InlineData(Transport.Grpc, "python", "print('Hello, world!')")]
    [InlineData(Transport.Rest, "javascript", "console.log('Hello, world!')")]
    [InlineData(Transport.Grpc, "javascript", "console.log('Hello, world!')")]
    public async Task Hello_world_runs_and_returns_its_output(Transport transport, string language, string code)
    {
        var result = await e2e.ExecuteAsync(transport, new ExecuteRequest { Language = language, Code = code }, _user);

        Assert.Equal("Hello, world!\n", result.Output);
        Assert.Equal("", result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(language, result.Language);
        Assert.False(result.TimedOut);
        Assert.False(result.OutputTruncated);
        Assert.InRange(result.DurationMs, 0, 10_000);
    }

    [Fact]
    public async Task A_REST_execute_answers_the_documented_fields_and_no_zeroKnowledge()
    {
        var response = await e2e.Rest.PostAsync("/api/v1/execute", new { code = "print('plain')", language = "python" }, _user.Key);

        var json = response.Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["durationMs", "error", "exitCode", "language", "output", "outputTruncated", "timedOut"],
            json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal("plain\n", json.Str("output"));
    }

    [Fact]
    public async Task A_gRPC_execute_leaves_zeroKnowledge_unset()
    {
        var result = await e2e.Rpc.Execute.ExecuteAsync(Python("print('plain')"), _user.Key.Metadata);

        Assert.Equal("plain\n", result.Output);
        Assert.False(result.HasZeroKnowledge);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Stdin_reaches_the_program(Transport transport)
    {
        var request = Python("import sys\ndata = sys.stdin.read()\nprint(repr(data))");
        request.Stdin = "line one\nline two\n";

        var result = await e2e.ExecuteAsync(transport, request, _user);

        Assert.Equal("'line one\\nline two\\n'\n", result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest, "python", "import sys\nprint(sys.argv[1:])", "['alpha', 'two words', '']\n")]
    [InlineData(Transport.Grpc, "javascript", "console.log(JSON.stringify(process.argv.slice(2)))", "[\"alpha\",\"two words\",\"\"]\n")]
    public async Task Args_reach_the_program_unsplit(Transport transport, string language, string code, string expected)
    {
        var request = new ExecuteRequest { Language = language, Code = code, Args = { "alpha", "two words", "" } };

        var result = await e2e.ExecuteAsync(transport, request, _user);

        Assert.Equal(expected, result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_non_zero_exit_code_and_stderr_come_back_as_a_normal_response(Transport transport)
    {
        var result = await e2e.ExecuteAsync(transport,
            Python("import sys\nprint('before')\nsys.stderr.write('it broke\\n')\nsys.exit(3)"), _user);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("before\n", result.Output);
        Assert.Equal("it broke\n", result.Error);
        Assert.False(result.TimedOut);
    }

    [Fact]
    public async Task An_uncaught_JavaScript_error_gives_exit_code_1_and_the_error_on_stderr()
    {
        var result = await e2e.ExecuteAsync(Transport.Rest, JavaScript("throw new Error('kaput-js-77')"), _user);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Error: kaput-js-77", result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task A_Python_traceback_shows_the_users_file_not_the_runner()
    {
        var result = await e2e.ExecuteAsync(Transport.Grpc, Python("def f():\n    raise ValueError('bad value 9')\nf()"), _user);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ValueError: bad value 9", result.Error);
        Assert.Contains("main.py", result.Error);
        Assert.DoesNotContain("runner.py", result.Error);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Secrets_are_environment_variables_and_masked_in_the_output(Transport transport)
    {
        var (user, value) = await SecretUserAsync();

        var result = await e2e.ExecuteAsync(transport,
            Python("import os, sys\nprint('token=' + os.environ['API_TOKEN'])\nprint('len', len(os.environ['API_TOKEN']))\nsys.stderr.write('err ' + os.environ['API_TOKEN'] + '\\n')"),
            user);

        Assert.Equal($"token=***\nlen {value.Length}\n", result.Output);
        Assert.Equal("err ***\n", result.Error);
        Assert.DoesNotContain(value, result.Output + result.Error);
    }

    [Fact]
    public async Task Secrets_are_masked_in_streamed_chunks_too()
    {
        var (user, value) = await SecretUserAsync();
        // Written one character at a time, so the value is split over many chunks.
        var request = Python("import os, sys\nfor c in 'v=' + os.environ['API_TOKEN'] + '\\n':\n    sys.stdout.write(c); sys.stdout.flush()");

        var (chunks, result) = await StreamAsync(request, user);

        var streamed = string.Concat(chunks.Select(c => c.Data));
        Assert.Equal("v=***\n", streamed);
        Assert.Equal("v=***\n", result.Output);
        Assert.DoesNotContain(chunks, c => c.Data.Contains(value[..4]));
    }

    [Fact]
    public async Task Request_env_vars_reach_the_program()
    {
        var request = Python("import os\nprint(os.environ['GREETING'])");
        request.Env["GREETING"] = "bonjour";

        var result = await e2e.ExecuteAsync(Transport.Rest, request, _user);

        Assert.Equal("bonjour\n", result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_program_past_its_timeout_is_killed_and_the_call_returns_promptly(Transport transport)
    {
        var request = Python("print('started', flush=True)\nwhile True:\n    pass");
        request.Timeout = 2;
        var clock = Stopwatch.StartNew();

        var result = await e2e.ExecuteAsync(transport, request, _user);

        Assert.True(result.TimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("started\n", result.Output);
        Assert.InRange(result.DurationMs, 1_900, 6_000);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"the call took {clock.Elapsed.TotalSeconds:0.0} s for a 2 s timeout");
    }

    [Fact]
    public async Task A_program_over_the_memory_limit_is_killed_with_137()
    {
        var result = await e2e.ExecuteAsync(Transport.Rest,
            Python("print('allocating', flush=True)\nblocks = [b'x' * (64 << 20) for _ in range(16)]\nprint('survived', len(blocks))"), _user);

        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal("allocating\n", result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task An_output_flood_is_stopped_at_the_cap_and_the_result_says_so(Transport transport)
    {
        var request = Python("import sys\nchunk = 'x' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        request.Timeout = 60;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await e2e.ExecuteAsync(transport, request, _user);

        Assert.True(result.OutputTruncated);
        Assert.True(result.StoppedAtOutputCap);
        Assert.Equal(137, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal(1 << 20, result.Output.Length);
        Assert.Matches("^x+$", result.Output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the flood ran {clock.Elapsed.TotalSeconds:0.0} s of its 60 s timeout");
    }

    [Fact]
    public async Task A_user_past_the_concurrent_run_cap_gets_429_while_another_user_still_runs()
    {
        // Two JavaScript runs hold this user's two places (PythOn:Limits:MaxConcurrentRunsPerUser = 2); a Python run
        // of someone else still gets a slot.
        var hog = await Users.RegisterAsync(e2e.Rest);
        var sleeper = JavaScript("console.log('up'); setTimeout(() => {}, 20000);");
        sleeper.Timeout = 30;
        using var cancel = new CancellationTokenSource();
        var calls = Enumerable.Range(0, 2).Select(_ => e2e.Rpc.Execute.ExecuteStream(sleeper, hog.Key.Metadata, cancellationToken: cancel.Token)).ToList();
        try
        {
            foreach (var call in calls)
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None)); // both are running

            var third = await e2e.Rest.PostAsync("/api/v1/execute", new { language = "python", code = "print(1)" }, hog.Key);

            third.ExpectStatusBody(HttpStatusCode.TooManyRequests, 8);
            Assert.NotNull(third.Headers.RetryAfter?.Delta);
            Assert.Equal("other\n", (await e2e.ExecuteAsync(Transport.Rest, Python("print('other')"), _user)).Output);
        }
        finally
        {
            cancel.Cancel();
            foreach (var call in calls) call.Dispose();
        }
    }

    [Fact]
    public async Task A_streamed_flood_delivers_exactly_the_capped_output_then_the_result()
    {
        var request = Python("import sys\nchunk = 'y' * 65536\nwhile True:\n    sys.stdout.write(chunk)");
        request.Timeout = 60;
        var (chunks, result) = await StreamAsync(request, _user);

        Assert.Equal(1 << 20, chunks.Where(c => c.Stream == OutputStream.Stdout).Sum(c => c.Data.Length));
        Assert.True(result.StoppedAtOutputCap);
        Assert.True(result.OutputTruncated);
        Assert.Equal(1 << 20, result.Output.Length);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_program_that_prints_less_than_the_cap_is_not_stopped(Transport transport)
    {
        var result = await e2e.ExecuteAsync(transport,
            Python("import sys\nsys.stdout.write('x' * 500_000)\nprint('end', file=sys.stderr)"), _user);

        Assert.False(result.OutputTruncated);
        Assert.False(result.HasStoppedAtOutputCap);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(500_000, result.Output.Length);
        Assert.Equal("end\n", result.Error);
    }

    [Fact]
    public async Task Streaming_over_gRPC_delivers_the_first_chunk_while_the_program_still_runs()
    {
        // The program writes one line, then runs until its 4 s timeout kills it: the chunk must arrive seconds before the result.
        var request = Python("import sys, time\nsys.stdout.write('first\\n')\nsys.stdout.flush()\nwhile True:\n    time.sleep(0.01)");
        request.Timeout = 4;
        using var call = e2e.Rpc.Execute.ExecuteStream(request, _user.Key.Metadata);
        var clock = Stopwatch.StartNew();

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var first = call.ResponseStream.Current;
        var firstAt = clock.Elapsed;
        var rest = new List<ExecuteStreamEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) rest.Add(call.ResponseStream.Current);
        var endAt = clock.Elapsed;

        Assert.Equal(ExecuteStreamEvent.EventOneofCase.Chunk, first.EventCase);
        Assert.Equal(new OutputChunk { Stream = OutputStream.Stdout, Data = "first\n" }, first.Chunk);
        var result = Assert.Single(rest).Result;
        Assert.True(result.TimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("first\n", result.Output);
        Assert.True(endAt - firstAt > TimeSpan.FromSeconds(2),
            $"the first chunk came at {firstAt.TotalSeconds:0.00} s and the result at {endAt.TotalSeconds:0.00} s: the chunk was held back");
    }

    [Fact]
    public async Task Cancelling_a_gRPC_stream_kills_the_program_long_before_its_timeout()
    {
        var request = Python("import sys, time\nsys.stdout.write('up\\n')\nsys.stdout.flush()\nwhile True:\n    time.sleep(0.05)");
        request.Timeout = 60;
        using var cancel = new CancellationTokenSource();
        using var call = e2e.Rpc.Execute.ExecuteStream(request, _user.Key.Metadata, cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var container = await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(e2e.Agent.InstanceId), TimeSpan.FromSeconds(30),
            "a container of the agent runs the program");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        cancel.Cancel();

        // The program and its run sandbox are gone; the slot waits for its next run.
        await Poll.UntilAsync(async () => await DockerCli.SupervisorProcessesAsync(container) < DockerCli.PythonSlotBusy,
            TimeSpan.FromSeconds(20), $"the program in slot {container[..12]} is killed");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Streaming_over_gRPC_sends_chunks_of_both_streams_then_exactly_one_result()
    {
        var (chunks, result) = await StreamAsync(Python("import sys\nprint('out1', flush=True)\nsys.stderr.write('err1\\n')\nprint('out2')\nsys.exit(4)"), _user);

        Assert.Equal("out1\nout2\n", string.Concat(chunks.Where(c => c.Stream == OutputStream.Stdout).Select(c => c.Data)));
        Assert.Equal("err1\n", string.Concat(chunks.Where(c => c.Stream == OutputStream.Stderr).Select(c => c.Data)));
        Assert.Equal(4, result.ExitCode);
        Assert.Equal("out1\nout2\n", result.Output);
        Assert.Equal("err1\n", result.Error);
    }

    [Fact]
    public async Task Streaming_over_REST_is_newline_delimited_JSON_chunks_then_one_result()
    {
        var response = await e2e.Rest.PostAsync("/api/v1/execute/stream",
            new { code = "import sys\nprint('a', flush=True)\nsys.stderr.write('b\\n')\nsys.stderr.flush()\nprint('c')", language = "python" }, _user.Key);

        response.Expect(HttpStatusCode.OK);
        Assert.Equal("application/x-ndjson", response.ContentHeaders.ContentType?.MediaType);
        var lines = response.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = lines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        Assert.All(events, e => Assert.Single(e.PropertyNames()));
        Assert.Equal("result", events[^1].PropertyNames()[0]);
        Assert.All(events[..^1], e => Assert.Equal("chunk", e.PropertyNames()[0]));
        Assert.True(events.Count >= 2, $"expected chunks before the result: {response.Body}");
        var chunks = events[..^1].Select(e => e.Prop("chunk")).ToList();
        Assert.Equal("a\nc\n", string.Concat(chunks.Where(c => c.Str("stream") == "OUTPUT_STREAM_STDOUT").Select(c => c.Str("data"))));
        Assert.Equal("b\n", string.Concat(chunks.Where(c => c.Str("stream") == "OUTPUT_STREAM_STDERR").Select(c => c.Str("data"))));
        var result = events[^1].Prop("result");
        Assert.Equal("a\nc\n", result.Str("output"));
        Assert.Equal(0, result.Prop("exitCode").GetInt32());
    }

    [Fact]
    public async Task Streaming_over_REST_delivers_the_first_line_while_the_program_still_runs()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/execute/stream")
        {
            Content = new StringContent(
                Json(new ExecuteRequest { Language = "python", Timeout = 4, Code = "import sys, time\nsys.stdout.write('first\\n')\nsys.stdout.flush()\nwhile True:\n    time.sleep(0.01)" }),
                Encoding.UTF8, "application/json"),
        };
        _user.Key.Apply(request);
        var clock = Stopwatch.StartNew();
        using var response = await e2e.Rest.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var firstLine = await reader.ReadLineAsync();
        var firstAt = clock.Elapsed;
        var rest = await reader.ReadToEndAsync();
        var endAt = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("first\n", JsonDocument.Parse(firstLine!).RootElement.Prop("chunk").Str("data"));
        var result = JsonDocument.Parse(rest.Trim()).RootElement.Prop("result");
        Assert.True(result.Prop("timedOut").GetBoolean());
        Assert.True(endAt - firstAt > TimeSpan.FromSeconds(2),
            $"the first line came at {firstAt.TotalSeconds:0.00} s and the end at {endAt.TotalSeconds:0.00} s: the line was held back");
    }

    [Fact]
    public async Task Each_run_is_audited_with_language_duration_exit_code_and_code_hash_but_never_the_code()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var marker = $"audit-marker-{Guid.NewGuid():N}";
        var code = $"import sys\n# {marker}\nprint('x')\nsys.exit(5)";

        var result = await e2e.ExecuteAsync(Transport.Grpc, Python(code), user);
        Assert.Equal(5, result.ExitCode);

        var audit = await e2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key);
        audit.Expect(HttpStatusCode.OK);
        Assert.DoesNotContain(marker, audit.Body);
        var run = Assert.Single(audit.Json.Items("entries"), e => e.Str("action") == "execute.run");
        Assert.Equal("failure", run.Str("outcome"));
        var details = run.Prop("details");
        Assert.Equal("python", details.Str("language"));
        Assert.Equal("5", details.Str("exit_code"));
        Assert.Equal(result.DurationMs.ToString(), details.Str("duration_ms"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code))), details.Str("code_sha256"));
    }

    [Fact]
    public async Task A_streamed_run_is_audited_too()
    {
        var user = await Users.RegisterAsync(e2e.Rest);

        await StreamAsync(JavaScript("console.log('streamed')"), user);

        var audit = (await e2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key)).Expect(HttpStatusCode.OK).Json;
        var run = Assert.Single(audit.Items("entries"), e => e.Str("action") == "execute.stream");
        Assert.Equal("javascript", run.Prop("details").Str("language"));
        Assert.Equal("0", run.Prop("details").Str("exit_code"));
        Assert.Equal("success", run.Str("outcome"));
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Code_over_the_size_limit_is_refused_with_400(Transport transport)
    {
        var code = "x = 1\n" + new string('#', 256 * 1024);

        var message = await e2e.ExecuteFailsAsync(transport, Python(code), _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("code is", message);
        Assert.Contains("limit", message);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task Stdin_over_the_size_limit_is_refused_with_400(Transport transport)
    {
        var request = Python("print(1)");
        request.Stdin = new string('s', 1024 * 1024 + 1);

        var message = await e2e.ExecuteFailsAsync(transport, request, _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("stdin is", message);
    }

    [Theory]
    [InlineData(Transport.Rest, "cobol")]
    [InlineData(Transport.Grpc, "ruby")]
    [InlineData(Transport.Rest, "")]
    public async Task An_unknown_language_is_refused_with_400(Transport transport, string language)
    {
        var message = await e2e.ExecuteFailsAsync(transport, new ExecuteRequest { Language = language, Code = "print(1)" }, _user,
            HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("language must be 'python' or 'javascript'", message);
    }

    [Theory]
    [InlineData(Transport.Rest, 0)]
    [InlineData(Transport.Grpc, -1)]
    [InlineData(Transport.Rest, 61)]
    [InlineData(Transport.Grpc, double.NaN)]
    public async Task A_timeout_outside_the_allowed_range_is_refused_with_400(Transport transport, double timeout)
    {
        var request = Python("print(1)");
        request.Timeout = timeout;

        var message = await e2e.ExecuteFailsAsync(transport, request, _user, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

        Assert.Contains("timeout must be", message);
    }

    [Fact]
    public async Task Health_shows_the_agent_reachable_docker_ok_and_the_warm_pool()
    {
        JsonElement health = default;
        // The pool refills in the background after earlier runs: poll until it reports ready containers.
        await Poll.UntilAsync(async () =>
        {
            health = (await e2e.Rest.GetAsync("/api/v1/health", _user.Key)).Expect(HttpStatusCode.OK).Json;
            return health.TryGetProperty("pool", out var pool) && pool.TryGetProperty("python", out var p) && p.GetInt32() >= 1
                && pool.TryGetProperty("javascript", out var j) && j.GetInt32() >= 1;
        }, TimeSpan.FromSeconds(60), "health reports warm containers for both languages", () => health.ToString());

        Assert.Equal("ok", health.Str("status"));
        Assert.True(health.Prop("docker").Prop("ok").GetBoolean());
        var agent = Assert.Single(health.Items("agents"));
        Assert.Equal(e2e.Agent.Address, agent.Str("address"));
        Assert.True(agent.Prop("reachable").GetBoolean());
        Assert.True(agent.Prop("docker").Prop("ok").GetBoolean());
        Assert.InRange(agent.Prop("poolReady").Prop("python").GetInt32(), 1, e2e.Agent.PythonPool);
    }

    [Fact]
    public async Task A_run_happens_in_a_slot_of_the_agent_and_ends_with_its_timeout()
    {
        var request = Python("import time\nwhile True:\n    time.sleep(0.05)");
        request.Timeout = 4;
        var run = e2e.ExecuteAsync(Transport.Rest, request, _user);

        var container = await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(e2e.Agent.InstanceId), TimeSpan.FromSeconds(30),
            "a container of the agent runs the program");
        var labels = await DockerCli.LabelsAsync(container);
        Assert.Equal(e2e.Agent.InstanceId, labels["pyth-on.agent"]);
        Assert.True((await run).TimedOut);

        await Poll.UntilAsync(async () => await DockerCli.SupervisorProcessesAsync(container) < DockerCli.PythonSlotBusy,
            TimeSpan.FromSeconds(30), $"the program in slot {container[..12]} is gone");
    }

    [Fact]
    public async Task After_runs_only_the_slots_are_left_in_Docker_all_idle()
    {
        await e2e.ExecuteAsync(Transport.Rest, Python("print(1)"), _user);
        await e2e.ExecuteAsync(Transport.Grpc, Python("import sys; sys.exit(9)"), _user);
        await e2e.ExecuteAsync(Transport.Rest, JavaScript("process.exit(2)"), _user);
        await e2e.ExecuteAsync(Transport.Grpc, JavaScript("console.log(1)"), _user);
        var timeout = Python("while True: pass");
        timeout.Timeout = 1;
        await e2e.ExecuteAsync(Transport.Grpc, timeout, _user);
        var target = e2e.Agent.PythonPool + e2e.Agent.JavaScriptPool;

        IReadOnlyList<(string Id, string State)> containers = [];
        await Poll.UntilAsync(async () =>
        {
            containers = await DockerCli.ContainersOfAgentAsync(e2e.Agent.InstanceId);
            return containers.Count == target && containers.All(c => c.State == "running")
                && await DockerCli.FindRunningPythonProgramAsync(e2e.Agent.InstanceId) is null;
        }, TimeSpan.FromSeconds(60), $"exactly the {target} slots are left, all waiting for a job",
            () => string.Join(", ", containers.Select(c => $"{c.Id[..12]} {c.State}")));
    }

    private sealed record SecretUser(TestUser User, string Value);

    /// <summary>An account with the secret API_TOKEN stored through PutSecret.</summary>
    private async Task<(TestUser User, string Value)> SecretUserAsync()
    {
        var shared = await e2e.SharedAsync("secret user", async () =>
        {
            var user = await Users.RegisterAsync(e2e.Rest);
            const string value = "tok-E2E-masked-4f9c1d";
            (await e2e.Rest.PutAsync("/api/v1/secrets/API_TOKEN", new { value }, user.Key)).Expect(HttpStatusCode.OK);
            return new SecretUser(user, value);
        });
        return (shared.User, shared.Value);
    }

    private async Task<(List<OutputChunk> Chunks, ExecuteResponse Result)> StreamAsync(ExecuteRequest request, TestUser user)
    {
        using var call = e2e.Rpc.Execute.ExecuteStream(request, user.Key.Metadata);
        var events = new List<ExecuteStreamEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) events.Add(call.ResponseStream.Current);
        Assert.NotEmpty(events);
        Assert.All(events[..^1], e => Assert.Equal(ExecuteStreamEvent.EventOneofCase.Chunk, e.EventCase));
        Assert.Equal(ExecuteStreamEvent.EventOneofCase.Result, events[^1].EventCase);
        return (events[..^1].Select(e => e.Chunk).ToList(), events[^1].Result);
    }
}
