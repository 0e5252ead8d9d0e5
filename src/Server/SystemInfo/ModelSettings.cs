namespace PythOn.Server.SystemInfo;

/// <summary>Whether a model provider for Generate is configured (ANTHROPIC_API_KEY or PythOn:Model:Provider).</summary>
public sealed class ModelSettings(IConfiguration configuration)
{
    public string? Provider =>
        configuration["PythOn:Model:Provider"] is { Length: > 0 } provider ? provider
        : configuration["ANTHROPIC_API_KEY"] is { Length: > 0 } ? "anthropic"
        : null;
}
