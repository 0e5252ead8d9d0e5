using Microsoft.Extensions.Options;

namespace PythOn.Hosting;

/// <summary>A setting that cannot work; its message names the setting (e.g. "Agent:ListenTcp ...").</summary>
public sealed class InvalidSettingException(string message) : InvalidOperationException(message);

/// <summary>
/// Starts a host so that a configuration error ends the process before it listens with exit code 2 and one line per
/// problem on stderr, instead of an unhandled-exception abort. Shared by the server and the agent (linked source).
/// </summary>
public static class StartupErrors
{
    public const int ConfigurationErrorExitCode = 2;

    public static int Run(string processName, Action start)
    {
        try
        {
            start();
            return 0;
        }
        catch (Exception e) when (Problems(e) is { Count: > 0 } problems)
        {
            Console.Error.WriteLine($"{processName}: configuration error, not started:");
            foreach (var problem in problems)
                Console.Error.WriteLine($"  {problem}");
            return ConfigurationErrorExitCode;
        }
    }

    private static IReadOnlyList<string> Problems(Exception e) => e switch
    {
        OptionsValidationException validation => validation.Failures.ToList(),
        InvalidSettingException setting => [setting.Message],
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Problems).ToList(),
        { InnerException: { } inner } => Problems(inner),
        _ => [],
    };
}
