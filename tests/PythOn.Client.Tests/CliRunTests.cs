using System.Text.Json;
using PythOn.Client.Tests.Infrastructure;

namespace PythOn.Client.Tests;

/// <summary>`run` and `zk` through the real CLI, server and sandbox agent (Docker).</summary>
[Collection(ServerCollection.Name)]
public sealed class CliRunTests(PythOnServer server)
{
    private const string MasterPassword = "MyS3cur3P@ss!";

    [Fact]
    public async Task Run_streams_output_live_and_exits_with_the_programs_exit_code()
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        var program = Path.Combine(cli.Home, "slow.py");
        File.WriteAllText(program, """
            import sys, time
            print("first", flush=True)
            time.sleep(3)
            print("second", flush=True)
            print("oops", file=sys.stderr, flush=True)
            sys.exit(3)
            """);

        using var process = cli.Start(["run", program]);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var firstLine = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        // "first" arrived while the program was still sleeping: the CLI printed it as it was produced.
        Assert.Equal("first", firstLine);
        Assert.False(process.HasExited, "pyth-on had already exited when the first line arrived: output was not streamed");
        var rest = process.StandardOutput.ReadToEndAsync();
        await Cli.WaitAsync(process, TimeSpan.FromSeconds(60), rest, stderr);

        Assert.Equal(3, process.ExitCode);
        Assert.Equal("second\n", await rest);
        Assert.Equal("oops\n", await stderr);
    }

    [Fact]
    public async Task Run_interactive_connects_this_stdin_to_the_running_program_turn_by_turn()
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        var program = Path.Combine(cli.Home, "echo.py");
        File.WriteAllText(program, """
            import sys
            while True:
                line = sys.stdin.readline()
                if not line:
                    break
                print("echo:" + line.strip(), flush=True)
            print("bye")
            """);

        using var process = cli.Start(["run", "-i", program]);
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteLineAsync("hello");
        await process.StandardInput.FlushAsync();
        Assert.Equal("echo:hello", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        // The answer came before the next line was typed: the program is still running, waiting for it.
        Assert.False(process.HasExited);
        await process.StandardInput.WriteLineAsync("again");
        await process.StandardInput.FlushAsync();
        Assert.Equal("echo:again", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        process.StandardInput.Close(); // end of input closes the program's stdin

        var rest = process.StandardOutput.ReadToEndAsync();
        await Cli.WaitAsync(process, TimeSpan.FromSeconds(60), rest, stderr);
        Assert.Equal("bye\n", await rest);
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Run_passes_stdin_args_env_and_secrets_through()
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        Assert.Equal(0, (await cli.RunAsync(["secrets", "set", "API_TOKEN"], "s3cr3t-value\n")).ExitCode);
        var program = Path.Combine(cli.Home, "echo.js");
        File.WriteAllText(program, """
            const input = require("fs").readFileSync(0, "utf8");
            console.log(JSON.stringify({ input, args: process.argv.slice(2), mode: process.env.MODE, secretLength: process.env.API_TOKEN.length }));
            """);

        var run = await cli.RunAsync(["run", program, "--arg", "a b", "--arg", "c", "--env", "MODE=test", "--", "d"], "line1\nline2\n");

        Assert.True(run.ExitCode == 0, run.ToString());
        var echoed = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("line1\nline2\n", echoed.GetProperty("input").GetString());
        Assert.Equal(["a b", "c", "d"], echoed.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray());
        Assert.Equal("test", echoed.GetProperty("mode").GetString());
        // The value came from stdin without its trailing newline.
        Assert.Equal("s3cr3t-value".Length, echoed.GetProperty("secretLength").GetInt32());
    }

    [Fact]
    public async Task Run_json_prints_the_result_and_keeps_the_exit_code()
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var run = await cli.RunAsync(["run", "-", "--language", "python", "--json"], "print('hi')\nraise SystemExit(7)\n");

        Assert.Equal(7, run.ExitCode);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("hi\n", result.GetProperty("output").GetString());
        Assert.Equal(7, result.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task Zk_push_then_ls_shows_only_metadata_of_the_locally_encrypted_program()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        var code = "print('Hello from zero-knowledge!')\n";
        var file = Path.Combine(cli.Home, "hello.py");
        File.WriteAllText(file, code);
        var env = new Dictionary<string, string> { ["PYTH_ON_MASTER_PASSWORD"] = MasterPassword };

        var push = await cli.RunAsync(["zk", "push", "hello", file, "--description", "greeter"], "", env);
        Assert.True(push.ExitCode == 0, push.ToString());

        var ls = await cli.RunAsync("zk", "ls", "--json");
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var stored = JsonDocument.Parse(ls.Stdout).RootElement.GetProperty("code").EnumerateArray().Single();
        Assert.DoesNotContain("zero-knowledge", ls.Stdout);
        Assert.Equal("hello", stored.GetProperty("name").GetString());
        Assert.Equal("python", stored.GetProperty("language").GetString());
        Assert.Equal("greeter", stored.GetProperty("description").GetString());
        // Ciphertext = UTF-8 plaintext + 16-byte tag: what was stored is the client's XChaCha20-Poly1305 output.
        var size = System.Text.Encoding.UTF8.GetByteCount(code) + 16;
        Assert.Equal(size.ToString(), stored.GetProperty("size").ToString().Trim('"'));

        var table = await cli.RunAsync("zk", "ls");
        Assert.Matches($@"(?m)^hello\s+python\s+{size}\s+\d{{4}}-\d\d-\d\d [\d:]+Z\s+greeter$", table.Stdout);

        // Without a description the listing shows an empty column.
        var bare = await cli.RunAsync(["zk", "push", "bare", file], "", env);
        Assert.True(bare.ExitCode == 0, bare.ToString());
        Assert.Matches($@"(?m)^bare\s+python\s+{size}\s+\d{{4}}-\d\d-\d\d [\d:]+Z$", (await cli.RunAsync("zk", "ls")).Stdout);

        var noPassword = await cli.RunAsync(["zk", "push", "other", file], "");
        Assert.Equal(2, noPassword.ExitCode);
        Assert.Contains("PYTH_ON_MASTER_PASSWORD", noPassword.Stderr);
    }

    [Fact]
    public async Task Zk_run_decrypts_in_the_sandbox_and_a_wrong_password_is_refused()
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        var file = Path.Combine(cli.Home, "hello.py");
        File.WriteAllText(file, "import sys\nprint('Hello from zero-knowledge!', sys.stdin.read().strip())\nsys.exit(4)\n");
        var env = new Dictionary<string, string> { ["PYTH_ON_MASTER_PASSWORD"] = MasterPassword };
        Assert.Equal(0, (await cli.RunAsync(["zk", "push", "hello", file], "", env)).ExitCode);

        var run = await cli.RunAsync(["zk", "run", "hello"], "friend\n", env);
        Assert.Equal(4, run.ExitCode);
        Assert.Equal("Hello from zero-knowledge! friend\n", run.Stdout);

        var wrong = await cli.RunAsync(["zk", "run", "hello"], "", new Dictionary<string, string> { ["PYTH_ON_MASTER_PASSWORD"] = "not-it" });
        Assert.Equal(3, wrong.ExitCode);
        Assert.StartsWith("error: permission denied: decryption failed", wrong.Stderr);

        var rm = await cli.RunAsync("zk", "rm", "hello");
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var missing = await cli.RunAsync(["zk", "run", "hello"], "", env);
        Assert.Equal(5, missing.ExitCode);
        Assert.StartsWith("error: not found:", missing.Stderr);
    }

    [Theory]
    [InlineData("py", "print(6 * 7)")]
    [InlineData("node", "console.log(6 * 7)")]
    public async Task Run_accepts_a_language_alias_as_the_server_does(string alias, string code)
    {
        await server.EnsureAgentAsync();
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var run = await cli.RunAsync(["run", "-", "--language", alias], code);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("42\n", run.Stdout);
    }
}
