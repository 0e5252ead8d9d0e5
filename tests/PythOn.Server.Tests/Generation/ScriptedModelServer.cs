using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PythOn.Server.Tests.Generation;

public enum ModelProtocol
{
    /// <summary>POST /v1/chat/completions, Authorization: Bearer KEY.</summary>
    OpenAi,
    /// <summary>POST /v1/messages, x-api-key: KEY (or Authorization: Bearer KEY), anthropic-version.</summary>
    Anthropic,
}

/// <summary>A request the scripted server received.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>Every text the request carries to the model, system prompt included, in order.</summary>
    public IReadOnlyList<(string Role, string Text)> Messages(ModelProtocol protocol)
    {
        var json = Json;
        var list = new List<(string, string)>();
        if (protocol == ModelProtocol.Anthropic && json["system"] is { } system)
            list.Add(("system", TextOf(system)));
        foreach (var message in json["messages"]!.AsArray())
            list.Add((message!["role"]!.GetValue<string>(), TextOf(message["content"]!)));
        return list;
    }

    private static string TextOf(JsonNode content) => content switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p!["text"]?.GetValue<string>() ?? "")),
        _ => content.ToJsonString(),
    };
}

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks one model provider's protocol and answers from a script: each test
/// enqueues the replies it expects to be asked for, in order. A request that finds the script empty, or that does
/// not look like the protocol (path, method, credentials), is answered 599 and recorded as unexpected;
/// <see cref="AssertComplete"/> fails the test for those and for replies never asked for.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<string> _unexpected = new();
    private readonly WebApplication _app;

    private ScriptedModelServer(ModelProtocol protocol, string apiKey, string model, WebApplication app)
    {
        Protocol = protocol;
        ApiKey = apiKey;
        Model = model;
        _app = app;
    }

    public ModelProtocol Protocol { get; }
    public string ApiKey { get; }

    /// <summary>The model id the server reports in its replies.</summary>
    public string Model { get; }

    /// <summary>The base URL a client is configured with: http://127.0.0.1:PORT (Anthropic) or .../v1 (OpenAI).</summary>
    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToList();

    public static async Task<ScriptedModelServer> StartAsync(ModelProtocol protocol, string apiKey = "test-model-key-0123456789", string? model = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        // No appsettings.json (the server's, copied next to the tests, names fixed ports): only an ephemeral loopback port.
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedModelServer(protocol, apiKey,
            model ?? (protocol == ModelProtocol.Anthropic ? "claude-scripted-1" : "gpt-scripted-1"), app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = protocol == ModelProtocol.Anthropic ? address : address + "/v1";
        return server;
    }

    /// <summary>A successful completion whose text is <paramref name="text"/>.</summary>
    public ScriptedModelServer ReplyText(string text)
    {
        _script.Enqueue(context => WriteJsonAsync(context, 200, Protocol == ModelProtocol.Anthropic ? AnthropicMessage(text) : OpenAiCompletion(text)));
        return this;
    }

    /// <summary>An error answer in the provider's error format.</summary>
    public ScriptedModelServer ReplyError(int status, string type = "api_error", string message = "scripted failure")
    {
        _script.Enqueue(context =>
        {
            if (status == 429) context.Response.Headers.RetryAfter = "0";
            var body = Protocol == ModelProtocol.Anthropic
                ? new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }
                : new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = type } };
            return WriteJsonAsync(context, status, body);
        });
        return this;
    }

    /// <summary>Never answers: holds the request open until the client gives up on it.</summary>
    public ScriptedModelServer ReplyNever()
    {
        _script.Enqueue(async context =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        return this;
    }

    public void AssertComplete()
    {
        Assert.True(_unexpected.IsEmpty, "unexpected requests to the model server:\n" + string.Join("\n", _unexpected));
        Assert.True(_script.IsEmpty, $"{_script.Count} scripted model replies were never asked for");
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync();
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", headers, body);
        _requests.Enqueue(recorded);

        var problem = Check(recorded);
        Func<HttpContext, Task>? reply = null;
        if (problem is null && !_script.TryDequeue(out reply)) problem = "no scripted reply left";
        if (problem is not null)
        {
            _unexpected.Enqueue($"{recorded.Method} {recorded.Path}: {problem}");
            await WriteJsonAsync(context, 599, new JsonObject { ["error"] = new JsonObject { ["message"] = "unscripted request: " + problem } });
            return;
        }
        await reply!(context);
    }

    private string? Check(RecordedRequest r)
    {
        if (r.Method != "POST") return "method is not POST";
        if (Protocol == ModelProtocol.Anthropic)
        {
            if (r.Path != "/v1/messages") return "path is not /v1/messages";
            // The classic x-api-key header, or Authorization: Bearer, which the official SDK sends since 13.x.
            if (r.Headers.GetValueOrDefault("x-api-key") != ApiKey && r.Headers.GetValueOrDefault("authorization") != "Bearer " + ApiKey)
                return "neither x-api-key nor Authorization: Bearer carries the key";
            if (!r.Headers.ContainsKey("anthropic-version")) return "anthropic-version header missing";
        }
        else
        {
            if (r.Path != "/v1/chat/completions") return "path is not /v1/chat/completions";
            if (r.Headers.GetValueOrDefault("authorization") != "Bearer " + ApiKey) return "Authorization: Bearer missing or wrong";
        }
        try
        {
            if (JsonNode.Parse(r.Body)?["messages"] is not JsonArray) return "body has no messages array";
        }
        catch (JsonException e)
        {
            return "body is not JSON: " + e.Message;
        }
        return null;
    }

    private JsonObject AnthropicMessage(string text) => new()
    {
        ["id"] = "msg_" + Guid.NewGuid().ToString("N"),
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = Model,
        ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
        ["stop_reason"] = "end_turn",
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = 100, ["output_tokens"] = 50 },
    };

    private JsonObject OpenAiCompletion(string text) => new()
    {
        ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
        ["object"] = "chat.completion",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = Model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text, ["refusal"] = null },
            ["logprobs"] = null,
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 50, ["total_tokens"] = 150 },
    };

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
