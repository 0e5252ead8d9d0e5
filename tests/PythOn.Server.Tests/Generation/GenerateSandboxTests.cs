using System.Net;
using System.Net.Http.Json;

namespace PythOn.Server.Tests.Generation;

/// <summary>
/// Generate end to end: a scripted model over real HTTP, the in-process server, and the real sandbox agent running
/// the programs in Docker. Shows code extracted and run, the repair loop, and that secrets stay out of every request.
/// </summary>
[Collection(SandboxAgentCollection.Name)]
public sealed class GenerateSandboxTests(SandboxAgentFixture agent)
{
    private GenerateServerHost Host(ScriptedModelServer model, params (string Key, string Value)[] extra)
    {
        var settings = GenerateServerHost.ModelSettingsFor(model);
        settings["PythOn:Agents:0"] = agent.Address;
        foreach (var (key, value) in extra) settings[key] = value;
        return new GenerateServerHost(settings);
    }

    private static string Python(string code, string explanation = "It does what was asked.") => $"```python\n{code}\n```\n{explanation}";

    [Fact]
    public async Task The_generated_program_is_extracted_and_run_in_the_sandbox()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.Anthropic);
        model.ReplyText("Here you go:\n```js\nconst n = [1, 2, 3].reduce((a, b) => a + b, 0);\nconsole.log(`sum=${n}`);\n```\nSums the list.");
        using var host = Host(model);
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "sum 1, 2 and 3", language = "javascript" });

        Assert.True(status == HttpStatusCode.OK, $"{body}\nagent log:\n{agent.Log}");
        Assert.True(body.GetProperty("executed").GetBoolean());
        Assert.Equal("sum=6\n", body.GetProperty("output").GetString());
        Assert.False(body.TryGetProperty("exitCode", out var exit) && exit.GetInt32() != 0);
        Assert.Equal(1, body.GetProperty("attempts").GetInt32());
        Assert.Equal("javascript", body.GetProperty("language").GetString());
        Assert.Contains("console.log", body.GetProperty("code").GetString());
        model.AssertComplete();
        Assert.Single(model.Requests);
    }

    [Fact]
    public async Task A_failing_program_goes_back_with_its_stderr_and_the_repaired_one_is_returned()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText(Python("import sys\nprint('partial output')\nraise ValueError('first attempt broke: quokka-7f3a')"))
            .ReplyText(Python("print('fixed')", "Prints fixed."));
        using var host = Host(model);
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print fixed" });

        Assert.True(status == HttpStatusCode.OK, $"{body}\nagent log:\n{agent.Log}");
        Assert.Equal("print('fixed')\n", body.GetProperty("code").GetString());
        Assert.Equal("fixed\n", body.GetProperty("output").GetString());
        Assert.True(body.GetProperty("executed").GetBoolean());
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        Assert.Equal("Prints fixed.", body.GetProperty("explanation").GetString());
        model.AssertComplete();
        Assert.Equal(2, model.Requests.Count);

        var second = model.Requests[1].Messages(ModelProtocol.OpenAi);
        Assert.Equal("assistant", second[^2].Role);
        Assert.Contains("raise ValueError('first attempt broke: quokka-7f3a')", second[^2].Text);
        var repair = second[^1];
        Assert.Equal("user", repair.Role);
        Assert.Contains("exit code 1", repair.Text);
        Assert.Contains("ValueError: first attempt broke: quokka-7f3a", repair.Text);
        Assert.Contains("Traceback", repair.Text);
        Assert.Contains("partial output", repair.Text);
    }

    [Fact]
    public async Task Secrets_reach_the_program_but_never_the_model_not_even_through_stderr()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.Anthropic);
        model.ReplyText(Python("import os, sys\nsys.stderr.write('token is ' + os.environ['API_TOKEN'] + '\\n')\nsys.exit(2)"))
            .ReplyText(Python("import os\nprint(len(os.environ['API_TOKEN']))"));
        using var host = Host(model);
        using var client = await host.UserClientAsync();
        const string token = "tok-e2e-SECRET-91b7c2";
        Assert.True((await client.PutAsJsonAsync("/api/v1/secrets/API_TOKEN", new { value = token })).IsSuccessStatusCode);

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "use the token" });

        Assert.True(status == HttpStatusCode.OK, $"{body}\nagent log:\n{agent.Log}");
        Assert.Equal($"{token.Length}\n", body.GetProperty("output").GetString());
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        model.AssertComplete();
        Assert.Contains("API_TOKEN", model.Requests[0].Body);
        Assert.Contains("token is ***", model.Requests[1].Messages(ModelProtocol.Anthropic)[^1].Text);
        Assert.Contains("exit code 2", model.Requests[1].Messages(ModelProtocol.Anthropic)[^1].Text);
        foreach (var request in model.Requests) Assert.DoesNotContain(token, request.Body);
    }

    [Fact]
    public async Task A_program_that_runs_out_of_time_is_repaired()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText(Python("while True:\n    pass")).ReplyText(Python("print('done')"));
        using var host = Host(model, ("PythOn:Limits:DefaultTimeoutSeconds", "2"));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "finish" });

        Assert.True(status == HttpStatusCode.OK, $"{body}\nagent log:\n{agent.Log}");
        Assert.Equal("done\n", body.GetProperty("output").GetString());
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        model.AssertComplete();
        Assert.Contains("stopped after the 2 second time limit", model.Requests[1].Messages(ModelProtocol.OpenAi)[^1].Text);
        Assert.Contains("killed after 2 seconds", model.Requests[0].Messages(ModelProtocol.OpenAi)[0].Text);
    }

    [Fact]
    public async Task When_every_round_fails_the_last_program_and_its_run_are_returned()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText(Python("import sys\nsys.exit(3)")).ReplyText("No code this time.").ReplyText(Python("import sys\nprint('still bad')\nsys.exit(4)"));
        using var host = Host(model);
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "fail", maxAttempts = 3 });

        Assert.True(status == HttpStatusCode.OK, $"{body}\nagent log:\n{agent.Log}");
        Assert.True(body.GetProperty("executed").GetBoolean());
        Assert.Equal(4, body.GetProperty("exitCode").GetInt32());
        Assert.Equal("still bad\n", body.GetProperty("output").GetString());
        Assert.Equal(3, body.GetProperty("attempts").GetInt32());
        model.AssertComplete();
        Assert.Equal(3, model.Requests.Count);
        Assert.Contains("no program in a fenced code block", model.Requests[2].Messages(ModelProtocol.OpenAi)[^1].Text);

        using var audit = await client.GetAsync("/api/v1/audit");
        var entry = System.Text.Json.JsonDocument.Parse(await audit.Content.ReadAsStringAsync()).RootElement.GetProperty("entries")
            .EnumerateArray().First(e => e.GetProperty("action").GetString() == "generate");
        Assert.Equal("failure", entry.GetProperty("outcome").GetString());
        Assert.Equal("run_failed", entry.GetProperty("details").GetProperty("result").GetString());
        Assert.Equal("3", entry.GetProperty("details").GetProperty("attempts").GetString());
        Assert.Equal("4", entry.GetProperty("details").GetProperty("exit_code").GetString());
    }
}
