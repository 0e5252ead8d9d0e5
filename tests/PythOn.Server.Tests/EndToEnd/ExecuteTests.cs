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
/// Docker. Output, stdin, args, exit codes, errors, secrets and environment.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ExecuteTests(SandboxedServerFixture fixture) : ExecuteEndToEnd(fixture)
{
    [Theory]
    [InlineData(Transport.Rest, "python", "print('Hello, world!')")]
    [InlineData(Transport.Grpc, "python", "print('Hello, world!')")]
    [InlineData(Transport.Rest, "javascript", "console.log('Hello, world!')")]
    [InlineData(Transport.Grpc, "javascript", "console.log('Hello, world!')")]
    public async Task Hello_world_runs_and_returns_its_output(Transport transport, string language, string code)
    {
        var result = await E2e.ExecuteAsync(transport, new ExecuteRequest { Language = language, Code = code }, _user);

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
        var response = await E2e.Rest.PostAsync("/api/v1/execute", new { code = "print('plain')", language = "python" }, _user.Key);

        var json = response.Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["durationMs", "error", "exitCode", "language", "output", "outputTruncated", "timedOut"],
            json.PropertyNames().Order(StringComparer.Ordinal));
        Assert.Equal("plain\n", json.Str("output"));
    }

    [Fact]
    public async Task A_gRPC_execute_leaves_zeroKnowledge_unset()
    {
        var result = await E2e.Rpc.Execute.ExecuteAsync(Python("print('plain')"), _user.Key.Metadata);

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

        var result = await E2e.ExecuteAsync(transport, request, _user);

        Assert.Equal("'line one\\nline two\\n'\n", result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest, "python", "import sys\nprint(sys.argv[1:])", "['alpha', 'two words', '']\n")]
    [InlineData(Transport.Grpc, "javascript", "console.log(JSON.stringify(process.argv.slice(2)))", "[\"alpha\",\"two words\",\"\"]\n")]
    public async Task Args_reach_the_program_unsplit(Transport transport, string language, string code, string expected)
    {
        var request = new ExecuteRequest { Language = language, Code = code, Args = { "alpha", "two words", "" } };

        var result = await E2e.ExecuteAsync(transport, request, _user);

        Assert.Equal(expected, result.Output);
    }

    [Theory]
    [InlineData(Transport.Rest)]
    [InlineData(Transport.Grpc)]
    public async Task A_non_zero_exit_code_and_stderr_come_back_as_a_normal_response(Transport transport)
    {
        var result = await E2e.ExecuteAsync(transport,
            Python("import sys\nprint('before')\nsys.stderr.write('it broke\\n')\nsys.exit(3)"), _user);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("before\n", result.Output);
        Assert.Equal("it broke\n", result.Error);
        Assert.False(result.TimedOut);
    }

    [Fact]
    public async Task An_uncaught_JavaScript_error_gives_exit_code_1_and_the_error_on_stderr()
    {
        var result = await E2e.ExecuteAsync(Transport.Rest, JavaScript("throw new Error('kaput-js-77')"), _user);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Error: kaput-js-77", result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task A_Python_traceback_shows_the_users_file_not_the_runner()
    {
        var result = await E2e.ExecuteAsync(Transport.Grpc, Python("def f():\n    raise ValueError('bad value 9')\nf()"), _user);

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

        var result = await E2e.ExecuteAsync(transport,
            Python("import os, sys\nprint('token=' + os.environ['API_TOKEN'])\nprint('len', len(os.environ['API_TOKEN']))\nsys.stderr.write('err ' + os.environ['API_TOKEN'] + '\\n')"),
            user);

        Assert.Equal($"token=***\nlen {value.Length}\n", result.Output);
        Assert.Equal("err ***\n", result.Error);
        Assert.DoesNotContain(value, result.Output + result.Error);
    }

    [Fact]
    public async Task Request_env_vars_reach_the_program()
    {
        var request = Python("import os\nprint(os.environ['GREETING'])");
        request.Env["GREETING"] = "bonjour";

        var result = await E2e.ExecuteAsync(Transport.Rest, request, _user);

        Assert.Equal("bonjour\n", result.Output);
    }
}
