using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PythOn.Server.Tests.Generation;

/// <summary>
/// Generate through the REST API of the in-process server, against scripted model servers speaking the OpenAI and
/// Anthropic protocols over real HTTP. Nothing here runs a program: execute=false, errors and prompts.
/// </summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class GenerateApiTests
{
    public static TheoryData<ModelProtocol> Protocols => new() { ModelProtocol.OpenAi, ModelProtocol.Anthropic };

    private const string HelloReply = "Here is the program:\n\n```python\nprint(\"hello\")\n```\n\nIt prints hello.";

    [Fact]
    public async Task Without_a_provider_generate_is_503_saying_how_to_configure_one_and_health_says_not_configured()
    {
        using var host = new GenerateServerHost();
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print hello" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(14, body.GetProperty("code").GetInt32());
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains("ANTHROPIC_API_KEY", message);
        Assert.Contains("OPENAI_API_KEY", message);
        Assert.Contains("PythOn:Model:Provider", message);
        Assert.Contains("PythOn:Model:BaseUrl", message);

        var health = await GenerateServerHost.GetJsonAsync(client, "/api/v1/health");
        Assert.False(health.GetProperty("model").TryGetProperty("ok", out var ok) && ok.GetBoolean());
        Assert.StartsWith("not configured", health.GetProperty("model").GetProperty("message").GetString());
        var info = await GenerateServerHost.GetJsonAsync(client, "/api/v1/info");
        Assert.False(info.TryGetProperty("modelConfigured", out var configured) && configured.GetBoolean());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Execute_false_returns_the_extracted_code_explanation_and_model_without_running(ModelProtocol protocol)
    {
        await using var model = await ScriptedModelServer.StartAsync(protocol);
        model.ReplyText(HelloReply);
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print hello", execute = false });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("print(\"hello\")\n", body.GetProperty("code").GetString());
        Assert.Equal("python", body.GetProperty("language").GetString());
        Assert.Equal("Here is the program:\n\nIt prints hello.", body.GetProperty("explanation").GetString());
        Assert.False(body.TryGetProperty("executed", out var executed) && executed.GetBoolean());
        Assert.Equal(1, body.GetProperty("attempts").GetInt32());
        Assert.Equal(model.Model, body.GetProperty("model").GetString());
        model.AssertComplete();

        var request = Assert.Single(model.Requests);
        Assert.Equal(model.Model, request.Json["model"]!.GetValue<string>());
        var messages = request.Messages(protocol);
        Assert.Equal("system", messages[0].Role);
        Assert.Equal(("user", "Write a Python 3 program that does the following:\n\nprint hello"), messages[^1]);
        if (protocol == ModelProtocol.Anthropic)
        {
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", request.Headers["anthropic-version"]);
            Assert.True(request.Json["max_tokens"]!.GetValue<int>() > 0);
        }
    }

    [Fact]
    public async Task The_system_prompt_carries_language_sandbox_rules_packages_and_secret_names_but_no_secret_value_reaches_the_model()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.Anthropic);
        model.ReplyText("I would need more details.").ReplyText("```javascript\nconsole.log(process.env.API_TOKEN ? 'set' : 'unset')\n```\nChecks the token.");
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();
        const string tokenValue = "tok-VERY-secret-4f1c9a";
        const string dbValue = "postgres://user:hunter2-secret@db/x";
        Assert.True((await client.PutAsJsonAsync("/api/v1/secrets/API_TOKEN", new { value = tokenValue })).IsSuccessStatusCode);
        Assert.True((await client.PutAsJsonAsync("/api/v1/secrets/DB_URL", new { value = dbValue })).IsSuccessStatusCode);
        // The list is stored even where the answer still fails on LiteDB's empty-string handling (fixed on the
        // servertests branch); the prompt below is what shows it arrived.
        (await client.PutAsJsonAsync("/api/v1/packages", new { language = "javascript", packages = new[] { "lodash@4.17.21" } })).Dispose();

        var (status, body) = await GenerateServerHost.GenerateAsync(client,
            new { prompt = "check whether the token is set", language = "js", execute = false });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("javascript", body.GetProperty("language").GetString());
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        model.AssertComplete();
        Assert.Equal(2, model.Requests.Count);

        var system = model.Requests[0].Messages(ModelProtocol.Anthropic)[0];
        Assert.Equal("system", system.Role);
        Assert.Contains("JavaScript (Node.js)", system.Text);
        Assert.Contains("no network access", system.Text);
        Assert.Contains("killed after 10 seconds", system.Text);
        Assert.Contains("256 MB", system.Text);
        Assert.Contains("stdout", system.Text);
        Assert.Contains("lodash@4.17.21", system.Text);
        Assert.Contains("API_TOKEN, DB_URL", system.Text);
        Assert.Contains("environment variables", system.Text);
        Assert.Contains("process.env", system.Text);
        Assert.Contains("one fenced code block", system.Text);
        foreach (var request in model.Requests)
        {
            Assert.DoesNotContain(tokenValue, request.Body);
            Assert.DoesNotContain(dbValue, request.Body);
            Assert.DoesNotContain("hunter2", request.Body);
            Assert.DoesNotContain(tokenValue, string.Concat(request.Headers.Values));
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_reply_without_code_triggers_a_repair_round_in_the_same_conversation(ModelProtocol protocol)
    {
        await using var model = await ScriptedModelServer.StartAsync(protocol);
        model.ReplyText("Sure! What should it print?").ReplyText("~~~py\r\nprint(42)\r\n~~~\r\nPrints 42.");
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print the answer", execute = false, maxAttempts = 2 });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("print(42)\n", body.GetProperty("code").GetString());
        Assert.Equal("Prints 42.", body.GetProperty("explanation").GetString());
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        model.AssertComplete();
        var second = model.Requests[1].Messages(protocol);
        Assert.Equal(("assistant", "Sure! What should it print?"), second[^2]);
        Assert.Equal("user", second[^1].Role);
        Assert.Contains("contained no program in a fenced code block", second[^1].Text);
        Assert.Contains("print the answer", string.Concat(second.Select(m => m.Text)));
    }

    [Fact]
    public async Task Without_a_reachable_sandbox_agent_execute_is_503_after_one_model_request()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText(HelloReply);
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print hello" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("no sandbox agent is reachable", body.GetProperty("message").GetString());
        model.AssertComplete();
        Assert.Single(model.Requests);
    }

    [Fact]
    public async Task When_no_round_yields_code_the_answer_says_so_after_max_attempts()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText("I cannot do that.").ReplyText("Still no.");
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "x", maxAttempts = 2 });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("", body.TryGetProperty("code", out var code) ? code.GetString() : "");
        Assert.Equal(2, body.GetProperty("attempts").GetInt32());
        Assert.Contains("no program", body.GetProperty("error").GetString());
        Assert.Equal("Still no.", body.GetProperty("explanation").GetString());
        model.AssertComplete();
        Assert.Equal(2, model.Requests.Count);
    }

    public static TheoryData<ModelProtocol, int, string, string> ProviderFailures => new()
    {
        { ModelProtocol.OpenAi, 429, "rate_limit_exceeded", "rate-limiting/overloaded" },
        { ModelProtocol.Anthropic, 429, "rate_limit_error", "rate-limiting/overloaded" },
        { ModelProtocol.Anthropic, 529, "overloaded_error", "rate-limiting/overloaded" },
        { ModelProtocol.OpenAi, 500, "server_error", "HTTP 500" },
        { ModelProtocol.Anthropic, 500, "api_error", "HTTP 500" },
        { ModelProtocol.OpenAi, 503, "server_error", "HTTP 503" },
        { ModelProtocol.OpenAi, 401, "invalid_api_key", "credentials were rejected" },
        { ModelProtocol.Anthropic, 401, "authentication_error", "credentials were rejected" },
        { ModelProtocol.Anthropic, 403, "permission_error", "credentials were rejected" },
    };

    [Theory]
    [MemberData(nameof(ProviderFailures))]
    public async Task Provider_failures_are_503_with_a_plain_message_and_are_not_retried(ModelProtocol protocol, int providerStatus, string type, string expected)
    {
        await using var model = await ScriptedModelServer.StartAsync(protocol);
        model.ReplyError(providerStatus, type, $"Incorrect API key provided: {model.ApiKey}");
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print hello" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(14, body.GetProperty("code").GetInt32());
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains(expected, message);
        Assert.DoesNotContain(model.ApiKey, message);
        model.AssertComplete();
        Assert.Single(model.Requests);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_provider_that_does_not_answer_in_time_is_504_and_is_not_retried(ModelProtocol protocol)
    {
        await using var model = await ScriptedModelServer.StartAsync(protocol);
        model.ReplyNever();
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model, timeoutSeconds: 1));
        using var client = await host.UserClientAsync();

        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "print hello" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal(4, body.GetProperty("code").GetInt32());
        Assert.Contains("did not answer within 1 s", body.GetProperty("message").GetString());
        model.AssertComplete();
        Assert.Single(model.Requests);
    }

    [Fact]
    public async Task Bad_requests_are_400_before_the_model_is_asked()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();

        foreach (var request in new object[]
                 {
                     new { prompt = "" },
                     new { prompt = "   " },
                     new { prompt = new string('x', 8001) },
                     new { prompt = "x", maxAttempts = 0 },
                     new { prompt = "x", maxAttempts = 6 },
                     new { prompt = "x", maxAttempts = -1 },
                     new { prompt = "x", language = "cobol" },
                 })
        {
            var (status, body) = await GenerateServerHost.GenerateAsync(client, request);
            Assert.True(status == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(request)} → {(int)status} {body}");
            Assert.Equal(3, body.GetProperty("code").GetInt32());
        }
        model.AssertComplete();
        Assert.Empty(model.Requests);
    }

    [Fact]
    public async Task Audit_records_outcome_attempts_prompt_size_and_language_but_not_the_prompt()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        model.ReplyText(HelloReply).ReplyError(429, "rate_limit_exceeded");
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = await host.UserClientAsync();
        const string prompt = "print a very particular greeting zebra-quartz";

        Assert.Equal(HttpStatusCode.OK, (await GenerateServerHost.GenerateAsync(client, new { prompt, execute = false })).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GenerateServerHost.GenerateAsync(client, new { prompt, language = "javascript" })).Status);

        using var audit = await client.GetAsync("/api/v1/audit");
        var text = await audit.Content.ReadAsStringAsync();
        Assert.DoesNotContain("zebra-quartz", text);
        var entries = JsonDocument.Parse(text).RootElement.GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "generate").ToList();
        Assert.Equal(2, entries.Count);

        var failed = entries[0];
        Assert.Equal("failure", failed.GetProperty("outcome").GetString());
        Assert.Equal("generate/javascript", failed.GetProperty("resource").GetString());
        var failedDetails = failed.GetProperty("details");
        Assert.Equal("javascript", failedDetails.GetProperty("language").GetString());
        Assert.Equal("1", failedDetails.GetProperty("attempts").GetString());
        Assert.Equal("Unavailable", failedDetails.GetProperty("status").GetString());

        var ok = entries[1];
        Assert.Equal("success", ok.GetProperty("outcome").GetString());
        var details = ok.GetProperty("details");
        Assert.Equal("python", details.GetProperty("language").GetString());
        Assert.Equal("1", details.GetProperty("attempts").GetString());
        Assert.Equal(prompt.Length.ToString(), details.GetProperty("prompt_chars").GetString());
        Assert.Equal("success", details.GetProperty("result").GetString());
        Assert.Equal(model.Model, details.GetProperty("model").GetString());
        model.AssertComplete();
    }

    [Fact]
    public async Task Generate_has_its_own_per_user_rate_limit()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.OpenAi);
        var settings = GenerateServerHost.ModelSettingsFor(model);
        settings["PythOn:RateLimits:GeneratePerMinute"] = "2";
        using var host = new GenerateServerHost(settings);
        using var client = await host.UserClientAsync();
        using var other = await host.UserClientAsync();

        // Invalid requests are enough: the limiter counts calls before the method looks at them.
        Assert.Equal(HttpStatusCode.BadRequest, (await GenerateServerHost.GenerateAsync(client, new { prompt = "" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await GenerateServerHost.GenerateAsync(client, new { prompt = "" })).Status);
        var (status, body) = await GenerateServerHost.GenerateAsync(client, new { prompt = "" });
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(8, body.GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await GenerateServerHost.GenerateAsync(other, new { prompt = "" })).Status);
        // Other calls of the same user are not affected.
        using var secrets = await client.GetAsync("/api/v1/secrets");
        Assert.Equal(HttpStatusCode.OK, secrets.StatusCode);
        Assert.Empty(model.Requests);
    }

    [Fact]
    public async Task Health_and_info_report_a_configured_model()
    {
        await using var model = await ScriptedModelServer.StartAsync(ModelProtocol.Anthropic);
        using var host = new GenerateServerHost(GenerateServerHost.ModelSettingsFor(model));
        using var client = host.CreateClient();

        var health = await GenerateServerHost.GetJsonAsync(client, "/api/v1/health");
        Assert.True(health.GetProperty("model").GetProperty("ok").GetBoolean());
        Assert.Equal($"configured: anthropic {model.Model}", health.GetProperty("model").GetProperty("message").GetString());
        Assert.DoesNotContain(model.ApiKey, health.ToString());
        var info = await GenerateServerHost.GetJsonAsync(client, "/api/v1/info");
        Assert.True(info.GetProperty("modelConfigured").GetBoolean());
        Assert.Empty(model.Requests);
    }
}
