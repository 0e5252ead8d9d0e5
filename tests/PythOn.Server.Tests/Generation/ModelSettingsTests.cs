using Microsoft.Extensions.Configuration;
using PythOn.Server.Generation;
using PythOn.Server.SystemInfo;

namespace PythOn.Server.Tests.Generation;

[Trait(Tier.Name, Tier.Fast)]
public sealed class ModelSettingsTests
{
    private static ModelSettings Resolve(params (string Key, string Value)[] values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    [Fact]
    public void Nothing_configured_means_no_provider_and_says_how_to_configure_one()
    {
        var settings = Resolve();
        Assert.False(settings.IsConfigured);
        Assert.Null(settings.Provider);
        Assert.StartsWith("not configured: no model provider is configured: set ANTHROPIC_API_KEY", settings.Status);
        Assert.Contains("PythOn:Model:BaseUrl", settings.Status);
    }

    [Fact]
    public void Anthropic_key_alone_selects_anthropic_with_the_default_model()
    {
        var settings = Resolve(("ANTHROPIC_API_KEY", "sk-ant-secret"));
        Assert.Equal(ModelSettings.Anthropic, settings.Provider);
        Assert.Equal(ModelSettings.DefaultAnthropicModel, settings.Model);
        Assert.Equal(ModelSettings.DefaultAnthropicBaseUrl, settings.BaseUrl);
        Assert.Equal("sk-ant-secret", settings.ApiKey);
        Assert.Equal(TimeSpan.FromSeconds(ModelSettings.DefaultTimeoutSeconds), settings.Timeout);
        Assert.Equal($"configured: anthropic {ModelSettings.DefaultAnthropicModel}", settings.Status);
    }

    [Fact]
    public void Anthropic_wins_when_both_keys_are_set_and_settings_override_the_environment()
    {
        Assert.Equal(ModelSettings.Anthropic, Resolve(("ANTHROPIC_API_KEY", "a"), ("OPENAI_API_KEY", "o")).Provider);
        var settings = Resolve(("ANTHROPIC_API_KEY", "a"), ("OPENAI_API_KEY", "o"), ("PythOn:Model:Provider", "OpenAI"), ("PythOn:Model:Name", "gpt-x"));
        Assert.Equal(ModelSettings.OpenAi, settings.Provider);
        Assert.Equal("o", settings.ApiKey);
        Assert.Equal("gpt-x", settings.Model);
    }

    [Fact]
    public void Openai_key_alone_selects_openai_with_the_default_model()
    {
        var settings = Resolve(("OPENAI_API_KEY", "sk-secret"));
        Assert.Equal(ModelSettings.OpenAi, settings.Provider);
        Assert.Equal(ModelSettings.DefaultOpenAiModel, settings.Model);
        Assert.Equal(ModelSettings.DefaultOpenAiBaseUrl, settings.BaseUrl);
    }

    [Fact]
    public void A_compatible_endpoint_needs_a_model_name_but_no_key()
    {
        var missingName = Resolve(("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"));
        Assert.False(missingName.IsConfigured);
        Assert.Contains("PythOn:Model:Name", missingName.Problem);

        var ollama = Resolve(("PythOn:Model:Provider", "openai"), ("PythOn:Model:BaseUrl", "http://127.0.0.1:11434/v1"), ("PythOn:Model:Name", "qwen2.5-coder"));
        Assert.True(ollama.IsConfigured);
        Assert.Null(ollama.ApiKey);
        Assert.Equal("qwen2.5-coder", ollama.Model);
    }

    [Theory]
    [InlineData("PythOn:Model:Provider", "gemini", "must be 'anthropic' or 'openai'")]
    [InlineData("PythOn:Model:TimeoutSeconds", "0", "TimeoutSeconds")]
    [InlineData("PythOn:Model:TimeoutSeconds", "soon", "TimeoutSeconds")]
    [InlineData("PythOn:Model:BaseUrl", "ftp://example", "absolute http(s) URL")]
    public void Bad_settings_are_reported_without_the_key(string key, string value, string expected)
    {
        var settings = Resolve(("ANTHROPIC_API_KEY", "sk-ant-do-not-show"), (key, value));
        Assert.False(settings.IsConfigured);
        Assert.Contains(expected, settings.Problem);
        Assert.DoesNotContain("sk-ant-do-not-show", settings.Status);
    }

    [Fact]
    public void Anthropic_provider_without_a_key_is_not_configured()
    {
        var settings = Resolve(("PythOn:Model:Provider", "anthropic"));
        Assert.False(settings.IsConfigured);
        Assert.Contains("ANTHROPIC_API_KEY", settings.Problem);
    }

    [Fact]
    public void Stderr_tail_keeps_the_end_and_is_bounded()
    {
        var stderr = new string('a', 5000) + "Traceback: the real error";
        var tail = Prompts.Tail(stderr, Prompts.StderrTailChars);
        Assert.EndsWith("Traceback: the real error", tail);
        Assert.True(tail.Length <= Prompts.StderrTailChars + 40);
        Assert.Equal("short", Prompts.Tail("short\n", Prompts.StderrTailChars));
    }
}
