using System.Globalization;
using System.Text;
using PythOn.Api.Languages;

namespace PythOn.Server.Generation;

/// <summary>What the model is told about the sandbox and the user. Secret names only: values never reach a prompt.</summary>
public sealed record SandboxFacts(
    string Language,
    IReadOnlyList<string> SecretNames,
    IReadOnlyList<string> Packages,
    double TimeoutSeconds,
    int MemoryMb,
    int MaxOutputBytes);

/// <summary>The texts of a generate conversation: system prompt, first request, repair requests.</summary>
public static class Prompts
{
    /// <summary>How much of stderr (its end, where the traceback is) goes back to the model.</summary>
    public const int StderrTailChars = 2000;
    /// <summary>How much of stdout (its end) goes back with a failure.</summary>
    public const int StdoutTailChars = 1000;

    public static string Display(string language) => LanguageOf(language).DisplayName;

    public static string FenceTag(string language) => LanguageOf(language).Name;

    private static Language LanguageOf(string language) => LanguageRegistry.Find(language) ?? LanguageRegistry.Python;

    public static string System(SandboxFacts facts)
    {
        var s = new StringBuilder();
        var lang = Display(facts.Language);
        s.Append("You write complete, runnable ").Append(lang).Append(" programs for Pyth-On, a service that runs them in a sandbox ")
            .Append("and returns what they print.\n\n");
        s.Append("The sandbox:\n");
        var language = LanguageOf(facts.Language);
        s.Append("- The program runs as `").Append(language.Runner).Append(' ').Append(language.MainFile).Append('`')
            .Append(language == LanguageRegistry.JavaScript ? ", a CommonJS script: use require(), not import; no top-level await.\n" : ".\n");
        s.Append("- It has no network access at all: no HTTP requests, no DNS, no package downloads.\n");
        s.Append("- The program is killed after ").Append(Number(facts.TimeoutSeconds)).Append(" seconds.\n");
        s.Append("- Memory is limited to ").Append(facts.MemoryMb).Append(" MB.\n");
        s.Append("- Only stdout, stderr and the exit code come back, stdout up to ").Append(facts.MaxOutputBytes / 1024).Append(" KiB: ")
            .Append("print the results to stdout. There is no display and no user at a keyboard; stdin is empty.\n");
        s.Append("- Files may be written only under the working directory and /tmp; nothing persists after the run.\n");
        s.Append("- A failure should exit non-zero (an uncaught exception does).\n");
        s.Append('\n');
        if (facts.Packages.Count > 0)
            s.Append("Besides the standard library these packages are installed: ").Append(string.Join(", ", facts.Packages)).Append(".\n");
        else
            s.Append("Only the standard library is available: no third-party packages are installed.\n");
        if (facts.SecretNames.Count > 0)
        {
            s.Append("These environment variables are set (the user's secrets; read them from the environment with ")
                .Append(language == LanguageRegistry.JavaScript ? "process.env" : "os.environ")
                .Append(", never print or log their values): ").Append(string.Join(", ", facts.SecretNames)).Append(".\n");
        }
        else
        {
            s.Append("The user has no secrets: no extra environment variables are set.\n");
        }
        s.Append('\n');
        s.Append("Answer with exactly one fenced code block tagged ").Append(FenceTag(facts.Language))
            .Append(" that holds the whole program, followed by one short paragraph explaining what it does. ")
            .Append("No other code blocks, no instructions for running it.");
        return s.ToString();
    }

    public static string Request(string prompt, string language) =>
        $"Write a {Display(language)} program that does the following:\n\n{prompt}";

    public static string RepairNoCode(string language) =>
        "Your reply contained no program in a fenced code block. Reply with the complete " + Display(language)
        + " program in one fenced code block tagged " + FenceTag(language) + ", followed by one short paragraph explaining it.";

    public static string RepairRunFailed(string language, int exitCode, bool timedOut, double timeoutSeconds, string stdout, string stderr)
    {
        var s = new StringBuilder();
        s.Append(timedOut
            ? $"The program was stopped after the {Number(timeoutSeconds)} second time limit"
            : $"The program failed with exit code {exitCode}");
        s.Append(" when run in the sandbox.\n\n");
        s.Append(stderr.Length == 0 ? "stderr was empty.\n\n" : $"The end of stderr:\n~~~\n{Tail(stderr, StderrTailChars)}\n~~~\n\n");
        if (stdout.Length > 0) s.Append($"The end of stdout:\n~~~\n{Tail(stdout, StdoutTailChars)}\n~~~\n\n");
        s.Append("Fix the program. Reply with the complete corrected program in one fenced code block tagged ")
            .Append(FenceTag(language)).Append(", followed by one short paragraph explaining it.");
        return s.ToString();
    }

    /// <summary>The last <paramref name="max"/> characters, marked as cut when longer.</summary>
    public static string Tail(string text, int max)
    {
        text = text.TrimEnd();
        if (text.Length <= max) return text;
        var start = text.Length - max;
        if (char.IsLowSurrogate(text[start])) start++;
        return "[… earlier output cut …]\n" + text[start..];
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
