using System.CommandLine;
using PythOn.Api.Languages;
using PythOn.Cli.Output;

namespace PythOn.Cli.Commands;

/// <summary>Glue between System.CommandLine and the commands.</summary>
public static class CommandExtensions
{
    /// <summary>
    /// Sets the command's action: builds the <see cref="CliContext"/>, runs <paramref name="action"/>, and turns any
    /// failure into one "error: ..." line on stderr and its exit code.
    /// </summary>
    public static Command Does(this Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            CliContext? context = null;
            try
            {
                context = CliContext.From(parse);
                return await action(context, parse, cancellationToken);
            }
            catch (Exception e)
            {
                var (message, exitCode) = ErrorMessages.Describe(e, context?.Server ?? "the server");
                Printer.Err.WriteLine("error: " + message);
                return exitCode;
            }
        });
        return command;
    }

    /// <summary>Adds children and returns the command (for building trees inline).</summary>
    public static Command With(this Command command, params Symbol[] children)
    {
        foreach (var child in children)
        {
            switch (child)
            {
                case Command c: command.Subcommands.Add(c); break;
                case Option o: command.Options.Add(o); break;
                case Argument a: command.Arguments.Add(a); break;
            }
        }
        return command;
    }
}

/// <summary>--language options and the file extensions that imply a language, from <see cref="LanguageRegistry"/>.</summary>
public static class LanguageOptions
{
    /// <summary>A --language option (optional): a language name or alias, given to the command as the canonical name.</summary>
    public static Option<string?> Option(string description) =>
        new Option<string?>("--language", "-l")
        {
            Description = description,
            HelpName = LanguageRegistry.Choices,
            CustomParser = result =>
            {
                var given = result.Tokens.Count == 0 ? null : result.Tokens[0].Value;
                if (LanguageRegistry.Find(given) is { } language) return language.Name;
                result.AddError(LanguageRegistry.UnknownLanguageMessage(given));
                return null;
            },
        };

    /// <summary>The explicit language, else the one the file extension implies, else a usage error.</summary>
    public static string Resolve(string? explicitLanguage, string path)
    {
        if (!string.IsNullOrEmpty(explicitLanguage)) return explicitLanguage;
        return LanguageRegistry.FromExtension(Path.GetExtension(path))?.Name
               ?? throw CliException.Usage($"cannot tell the language of '{path}' from its extension: pass --language {LanguageRegistry.Choices}.");
    }

    /// <summary>"python or javascript", for help texts.</summary>
    public static string Names => string.Join(" or ", LanguageRegistry.Names);

    /// <summary>".py, .js, .mjs, .cjs", for help texts.</summary>
    public static string Extensions => string.Join(", ", LanguageRegistry.All.SelectMany(l => l.Extensions));
}

/// <summary>Reads program files, "-" meaning stdin.</summary>
public static class SourceFiles
{
    /// <summary>The text of <paramref name="path"/> or of stdin for "-".</summary>
    public static string Read(string path)
    {
        if (path == "-") return Console.In.ReadToEnd();
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"cannot read '{path}': {e.Message}");
        }
    }
}
