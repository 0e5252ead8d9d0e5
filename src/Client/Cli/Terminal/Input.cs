using System.Text;

namespace PythOn.Cli.Terminal;

/// <summary>Reads passwords and secret values without echo, from a terminal or from redirected stdin.</summary>
public static class Input
{
    /// <summary>True when stdin is a terminal a person can type into.</summary>
    public static bool Interactive => !Console.IsInputRedirected;

    /// <summary>Reads a line without echo on a terminal (prompt on stderr), or the first line of redirected stdin.</summary>
    /// <param name="prompt">Shown on stderr when interactive.</param>
    /// <param name="what">Named in the error when stdin is empty.</param>
    public static string ReadSecretLine(string prompt, string what)
    {
        if (!Interactive)
        {
            var line = Console.In.ReadLine();
            if (string.IsNullOrEmpty(line)) throw CliException.Usage($"expected the {what} on standard input, got nothing.");
            return line;
        }
        return ReadHidden(prompt);
    }

    /// <summary>Reads all of redirected stdin (one trailing newline dropped), or one hidden line on a terminal.</summary>
    /// <param name="prompt">Shown on stderr when interactive.</param>
    /// <param name="what">Named in the error when nothing was given.</param>
    public static string ReadSecretValue(string prompt, string what)
    {
        string value;
        if (!Interactive)
        {
            value = Console.In.ReadToEnd();
            if (value.EndsWith("\r\n", StringComparison.Ordinal)) value = value[..^2];
            else if (value.EndsWith('\n')) value = value[..^1];
        }
        else
        {
            value = ReadHidden(prompt);
        }
        if (value.Length == 0) throw CliException.Usage($"the {what} is empty.");
        return value;
    }

    /// <summary>Reads a visible line from a terminal (prompt on stderr).</summary>
    public static string ReadVisibleLine(string prompt)
    {
        Console.Error.Write(prompt);
        return Console.In.ReadLine()?.Trim() ?? "";
    }

    /// <summary>One line typed without echo; the prompt goes to stderr so stdout stays clean.</summary>
    public static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
                continue;
            }
            if (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control))
            {
                Console.Error.WriteLine();
                throw new CliException("interrupted.", ExitCodes.Interrupted);
            }
            if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
