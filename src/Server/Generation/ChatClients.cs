using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Anthropic.Core;
using Microsoft.Extensions.AI;
using OpenAI;
using PythOn.Server.SystemInfo;

namespace PythOn.Server.Generation;

/// <summary>
/// The configured provider as a Microsoft.Extensions.AI <see cref="IChatClient"/>, built once. SDK retries are off:
/// a rate-limited or failing provider is reported to the caller at once instead of being hammered.
/// </summary>
public sealed class ChatClients(ModelSettings settings) : IDisposable
{
    /// <summary>Largest reply asked for; Anthropic requires a bound.</summary>
    public const int MaxOutputTokens = 8192;

    // Our own deadline (ModelSettings.Timeout) cancels the request first; the SDKs' clocks are only a backstop.
    private static readonly TimeSpan SdkTimeoutSlack = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private IChatClient? _client;

    /// <summary>The chat client, or null when no provider is configured (see <see cref="ModelSettings.Problem"/>).</summary>
    public IChatClient? Client
    {
        get
        {
            if (!settings.IsConfigured) return null;
            lock (_lock) return _client ??= Create(settings);
        }
    }

    private static IChatClient Create(ModelSettings settings)
    {
        var sdkTimeout = settings.Timeout + SdkTimeoutSlack;
        switch (settings.Provider)
        {
            case ModelSettings.Anthropic:
            {
                var client = new AnthropicClient(new ClientOptions
                {
                    ApiKey = settings.ApiKey,
                    BaseUrl = settings.BaseUrl!,
                    MaxRetries = 0,
                    Timeout = sdkTimeout,
                });
                return client.AsIChatClient(settings.Model!, MaxOutputTokens);
            }
            case ModelSettings.OpenAi:
            {
                var options = new OpenAIClientOptions
                {
                    Endpoint = new Uri(settings.BaseUrl!),
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = sdkTimeout,
                };
                // Local OpenAI-compatible servers (Ollama, llama.cpp) need no key, but the SDK insists on one.
                var client = new OpenAIClient(new ApiKeyCredential(settings.ApiKey ?? "no-key"), options);
                return client.GetChatClient(settings.Model!).AsIChatClient();
            }
            default:
                throw new InvalidOperationException($"unknown model provider '{settings.Provider}'");
        }
    }

    public void Dispose()
    {
        lock (_lock) _client?.Dispose();
    }
}
