using System.CommandLine;
using System.Text.Json;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Cli.Output;
using PythOn.Cli.Terminal;

namespace PythOn.Cli.Commands;

/// <summary>`pyth-on zk push|run|ls|rm`: programs stored only encrypted, encrypted here.</summary>
public static class ZkCommands
{
    /// <summary>Environment variable holding the master password (for scripts; otherwise a no-echo prompt).</summary>
    public const string MasterPasswordVariable = "PYTH_ON_MASTER_PASSWORD";

    /// <summary>Builds the command group.</summary>
    public static Command Create()
    {
        var pushName = NameArgument();
        var pushFile = new Argument<string>("FILE") { Description = "The program file, or - for stdin" };
        var pushLanguage = LanguageOptions.Option($"{LanguageOptions.Names} (default: from the extension)");
        var description = new Option<string?>("--description", "-d") { Description = "A description stored in clear next to the ciphertext", HelpName = "TEXT" };
        var push = new Command("push",
            $"Encrypt a program on this machine and store only the ciphertext. The master password comes from ${MasterPasswordVariable} or a no-echo prompt.")
        {
            pushName, pushFile, pushLanguage, description,
        }.Does(async (ctx, parse, ct) =>
        {
            var name = parse.GetValue(pushName)!;
            var path = parse.GetValue(pushFile)!;
            var language = path == "-"
                ? parse.GetValue(pushLanguage) ?? throw CliException.Usage($"reading the program from stdin needs --language {LanguageRegistry.Choices}.")
                : LanguageOptions.Resolve(parse.GetValue(pushLanguage), path);
            var code = SourceFiles.Read(path);
            using var client = ctx.Authenticated();
            var password = MasterPassword(confirm: true);
            var stored = await client.StoreEncryptedCodeAsync(name, code, password, language, parse.GetValue(description), ct);
            if (ctx.Json) Printer.Json(stored);
            else Printer.Out.WriteLine($"Stored {stored.Name} ({stored.Language}), encrypted on this machine.");
            return ExitCodes.Ok;
        });

        var runName = NameArgument();
        var timeout = RunCommand.TimeoutOption();
        var args = RunCommand.ArgOption();
        var noStdin = new Option<bool>("--no-stdin") { Description = "Do not pass this process's stdin to the program" };
        var run = new Command("run",
            $"Run a stored program; it is decrypted inside the sandbox. The master password comes from ${MasterPasswordVariable} or a no-echo prompt. " +
            "pyth-on exits with the program's exit code.")
        {
            runName, timeout, args, noStdin,
        }.Does(async (ctx, parse, ct) =>
        {
            using var client = ctx.Authenticated();
            var request = new ExecuteCodeRequest { Name = parse.GetValue(runName)!, MasterPassword = MasterPassword(confirm: false) };
            request.Args.AddRange(parse.GetValue(args) ?? []);
            if (parse.GetValue(timeout) is { } seconds) request.Timeout = seconds;
            if (!parse.GetValue(noStdin) && Console.IsInputRedirected) request.Stdin = Console.In.ReadToEnd();
            var result = await client.ExecuteCodeAsync(request, ct);
            if (!ctx.Json)
            {
                Printer.Out.Write(result.Output);
                Printer.Err.Write(result.Error);
            }
            return RunCommand.Finish(ctx, result);
        });

        var ls = new Command("ls", "List your stored programs (the server knows names, languages, descriptions and sizes only).").Does(async (ctx, _, ct) =>
        {
            using var client = ctx.Authenticated();
            var code = await client.ListCodeAsync(ct);
            if (ctx.Json) Printer.Json(new ListCodeResponse { Code = { code } });
            else Printer.Table(["NAME", "LANGUAGE", "SIZE", "UPDATED", "DESCRIPTION"],
                code.Select(c => new[] { c.Name, c.Language, c.Size.ToString(), Printer.Time(c.UpdatedAt), c.Description }), "(no stored programs)");
            return ExitCodes.Ok;
        });

        var rmName = NameArgument();
        var rm = new Command("rm", "Delete a stored program.") { rmName }.Does(async (ctx, parse, ct) =>
        {
            var name = parse.GetValue(rmName)!;
            using var client = ctx.Authenticated();
            await client.DeleteCodeAsync(name, ct);
            if (ctx.Json) Printer.JsonText(JsonSerializer.Serialize(new { name, deleted = true }));
            else Printer.Out.WriteLine($"Deleted {name}.");
            return ExitCodes.Ok;
        });

        return new Command("zk", "Zero-knowledge code: encrypted here, stored as ciphertext, decrypted only in the sandbox.").With(push, run, ls, rm);
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The stored program's name ([A-Za-z0-9._-], at most 64)" };

    // Stdin belongs to the program (zk run) or may hold it (zk push -), so the password comes from the
    // environment or the terminal, never from stdin or argv.
    private static string MasterPassword(bool confirm)
    {
        var fromEnv = Environment.GetEnvironmentVariable(MasterPasswordVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        if (!Input.Interactive)
            throw CliException.Usage($"a master password is needed: set {MasterPasswordVariable} or run in a terminal to be prompted.");
        var password = Input.ReadHidden("Master password: ");
        if (password.Length == 0) throw CliException.Usage("the master password is empty.");
        if (confirm && Input.ReadHidden("Repeat master password: ") != password) throw CliException.Usage("the two passwords differ.");
        return password;
    }
}
