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
/// Streaming runs end to end over gRPC and REST: chunks as produced, masking, cancellation, exactly one result.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ExecuteStreamingTests(SandboxedServerFixture fixture) : ExecuteEndToEnd(fixture)
{
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
    public async Task Streaming_over_gRPC_delivers_the_first_chunk_while_the_program_still_runs()
    {
        // The program writes one line, then runs until its 4 s timeout kills it: the chunk must arrive seconds before the result.
        var request = Python("import sys, time\nsys.stdout.write('first\\n')\nsys.stdout.flush()\nwhile True:\n    time.sleep(0.01)");
        request.Timeout = 4;
        using var call = E2e.Rpc.Execute.ExecuteStream(request, _user.Key.Metadata);
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
        using var call = E2e.Rpc.Execute.ExecuteStream(request, _user.Key.Metadata, cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var container = await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(E2e.Agent.InstanceId), TimeSpan.FromSeconds(30),
            "a container of the agent runs the program");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        cancel.Cancel();

        // The program and its run sandbox are gone; the slot waits for its next run.
        await Poll.UntilAsync(async () => await DockerCli.RunningPythonProgramsAsync(container) == 0,
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
        var response = await E2e.Rest.PostAsync("/api/v1/execute/stream",
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
        using var response = await E2e.Rest.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
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
}
