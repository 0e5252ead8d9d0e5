using System.Globalization;

namespace PythOn.Server.SystemInfo;

/// <summary>
/// Which language model Generate uses, resolved once from configuration:
/// <list type="bullet">
/// <item><c>PythOn:Model:Provider</c> ("anthropic" or "openai"), <c>PythOn:Model:Name</c>, <c>PythOn:Model:BaseUrl</c>,
/// <c>PythOn:Model:ApiKey</c>, <c>PythOn:Model:TimeoutSeconds</c>;</item>
/// <item>without a provider setting: <c>ANTHROPIC_API_KEY</c> selects Anthropic, else <c>OPENAI_API_KEY</c> or
/// <c>OPENAI_BASE_URL</c> selects an OpenAI-compatible endpoint.</item>
/// </list>
/// The key itself never appears in a message, a log line or a health answer.
/// </summary>
public sealed class ModelSettings
{
    public const string Anthropic = "anthropic";
    public const string OpenAi = "openai";
    public const string DefaultAnthropicModel = "claude-sonnet-5-5";
    public const string DefaultOpenAiModel = "gpt-4o-mini";
    public const string DefaultAnthropicBaseUrl = "https://api.anthropic.com";
    public const string DefaultOpenAiBaseUrl = "https://api.openai.com/v1";
    public const double DefaultTimeoutSeconds = 120;

    /// <summary>How to configure a provider, for error messages and health.</summary>
    public const string HowToConfigure =
        "set ANTHROPIC_API_KEY (Anthropic, default model " + DefaultAnthropicModel + "), or OPENAI_API_KEY (OpenAI, default model "
        + DefaultOpenAiModel + "), or PythOn:Model:Provider=anthropic|openai with PythOn:Model:Name, PythOn:Model:ApiKey and, for "
        + "OpenAI-compatible servers (Azure OpenAI, Ollama, vLLM, llama.cpp), PythOn:Model:BaseUrl";

    public ModelSettings(IConfiguration configuration)
    {
        var section = configuration.GetSection("PythOn:Model");
        string? Setting(string key) => section[key] is { Length: > 0 } value ? value.Trim() : null;
        string? Env(string key) => configuration[key] is { Length: > 0 } value ? value.Trim() : null;

        var provider = Setting("Provider")?.ToLowerInvariant();
        if (provider is null)
        {
            if (Env("ANTHROPIC_API_KEY") is not null) provider = Anthropic;
            else if (Env("OPENAI_API_KEY") is not null || Env("OPENAI_BASE_URL") is not null) provider = OpenAi;
        }

        var timeoutText = Setting("TimeoutSeconds");
        var timeout = DefaultTimeoutSeconds;
        if (timeoutText is not null
            && (!double.TryParse(timeoutText, NumberStyles.Float, CultureInfo.InvariantCulture, out timeout) || !(timeout > 0) || timeout > 3600))
        {
            Problem = $"PythOn:Model:TimeoutSeconds must be a number of seconds above 0 and at most 3600 (got '{timeoutText}')";
            return;
        }
        Timeout = TimeSpan.FromSeconds(timeout);

        switch (provider)
        {
            case null:
                Problem = "no model provider is configured: " + HowToConfigure;
                return;
            case Anthropic:
                ApiKey = Setting("ApiKey") ?? Env("ANTHROPIC_API_KEY");
                BaseUrl = Setting("BaseUrl") ?? Env("ANTHROPIC_BASE_URL") ?? DefaultAnthropicBaseUrl;
                Model = Setting("Name") ?? DefaultAnthropicModel;
                if (ApiKey is null)
                    Problem = "the Anthropic provider needs a key: set ANTHROPIC_API_KEY or PythOn:Model:ApiKey";
                break;
            case OpenAi:
                ApiKey = Setting("ApiKey") ?? Env("OPENAI_API_KEY");
                BaseUrl = Setting("BaseUrl") ?? Env("OPENAI_BASE_URL") ?? DefaultOpenAiBaseUrl;
                var isOpenAi = BaseUrl.TrimEnd('/') == DefaultOpenAiBaseUrl;
                Model = Setting("Name") ?? (isOpenAi ? DefaultOpenAiModel : null);
                if (Model is null)
                    Problem = $"the OpenAI-compatible endpoint {BaseUrl} needs a model name: set PythOn:Model:Name";
                else if (ApiKey is null && isOpenAi)
                    Problem = "the OpenAI provider needs a key: set OPENAI_API_KEY or PythOn:Model:ApiKey (or PythOn:Model:BaseUrl for a local server)";
                break;
            default:
                Problem = $"PythOn:Model:Provider must be 'anthropic' or 'openai' (got '{provider}')";
                return;
        }
        if (Problem is null && !(Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            Problem = $"PythOn:Model:BaseUrl must be an absolute http(s) URL (got '{BaseUrl}')";
        if (Problem is null) Provider = provider;
    }

    /// <summary>"anthropic" or "openai" when a usable provider is configured; null otherwise.</summary>
    public string? Provider { get; }

    /// <summary>The model id requests ask for.</summary>
    public string? Model { get; }

    public string? BaseUrl { get; }

    /// <summary>Null for OpenAI-compatible servers that need none (a local Ollama, say).</summary>
    public string? ApiKey { get; }

    /// <summary>How long one model request may take.</summary>
    public TimeSpan Timeout { get; } = TimeSpan.FromSeconds(DefaultTimeoutSeconds);

    /// <summary>Why no provider is usable (never contains a key); null when one is.</summary>
    public string? Problem { get; }

    public bool IsConfigured => Provider is not null;

    /// <summary>One line for health: "configured: anthropic claude-..." or "not configured: ...".</summary>
    public string Status => IsConfigured ? $"configured: {Provider} {Model}" : $"not configured: {Problem}";
}
