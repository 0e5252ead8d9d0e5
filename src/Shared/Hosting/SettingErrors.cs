using Microsoft.Extensions.Options;

namespace PythOn.Hosting;

/// <summary>The failures of one settings section, each naming its setting as "Section:Key" the way appsettings.json
/// and the Section__Key environment variables spell it. Shared by the server's and the agent's start-up checks.</summary>
public sealed class SettingErrors(string section)
{
    private readonly List<string> _errors = [];

    /// <summary>Records "<c>Section:setting rule (got value)</c>" unless <paramref name="ok"/>.</summary>
    public void Check(bool ok, string setting, string rule, object? value)
    {
        if (!ok) Add(setting, $"{rule} (got {value ?? "nothing"})");
    }

    /// <summary>Records "<c>Section:setting problem</c>" (for secret settings, whose value is never shown).</summary>
    public void Add(string setting, string problem) => _errors.Add($"{section}:{setting} {problem}");

    public ValidateOptionsResult Result => _errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_errors);
}
