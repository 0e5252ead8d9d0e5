using System.CommandLine;
using System.Text.Json;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Cli.Output;

namespace PythOn.Cli.Commands;

/// <summary>`pyth-on packages ls|add|rm|set`.</summary>
public static class PackagesCommands
{
    /// <summary>Builds the command group.</summary>
    public static Command Create()
    {
        var lsLanguage = LanguageOptions.Option("Only this language (default: both)");
        var ls = new Command("ls", "List your packages and their install status.") { lsLanguage }.Does(async (ctx, parse, ct) =>
        {
            using var client = ctx.Authenticated();
            Print(ctx, await client.ListPackagesAsync(parse.GetValue(lsLanguage), ct));
            return ExitCodes.Ok;
        });

        var addLanguage = LanguageOptions.Option("The language (default: python)");
        var addRequirements = Requirements("One or more requirements, e.g. requests>=2.31 or lodash@^4", ArgumentArity.OneOrMore);
        var add = new Command("add", "Add packages (or change the requirement of one already listed).") { addRequirements, addLanguage }
            .Does(async (ctx, parse, ct) =>
            {
                using var client = ctx.Authenticated();
                var added = new List<PackageInfo>();
                foreach (var requirement in parse.GetValue(addRequirements)!)
                    added.Add(await client.AddPackageAsync(parse.GetValue(addLanguage) ?? LanguageRegistry.Python.Name, requirement, ct));
                Print(ctx, added);
                return ExitCodes.Ok;
            });

        var rmLanguage = LanguageOptions.Option("The language (default: python)");
        var rmNames = Requirements("One or more package names, without versions", ArgumentArity.OneOrMore);
        var rm = new Command("rm", "Remove packages from your list.") { rmNames, rmLanguage }.Does(async (ctx, parse, ct) =>
        {
            using var client = ctx.Authenticated();
            var language = parse.GetValue(rmLanguage) ?? LanguageRegistry.Python.Name;
            var names = parse.GetValue(rmNames)!;
            foreach (var name in names) await client.RemovePackageAsync(name, language, ct);
            if (ctx.Json) Printer.JsonText(JsonSerializer.Serialize(new { language, removed = names }));
            else Printer.Out.WriteLine($"Removed {string.Join(", ", names)} ({language}).");
            return ExitCodes.Ok;
        });

        var setLanguage = LanguageOptions.Option("The language (default: python)");
        var setRequirements = Requirements("The complete new list; none clears it", ArgumentArity.ZeroOrMore);
        var set = new Command("set", "Replace your whole list for one language.") { setRequirements, setLanguage }.Does(async (ctx, parse, ct) =>
        {
            using var client = ctx.Authenticated();
            Print(ctx, await client.SetPackagesAsync(parse.GetValue(setLanguage) ?? LanguageRegistry.Python.Name, parse.GetValue(setRequirements) ?? [], ct));
            return ExitCodes.Ok;
        });

        return new Command("packages", "Manage your package list (made importable in every run).").With(ls, add, rm, set);
    }

    private static Argument<string[]> Requirements(string description, ArgumentArity arity) =>
        new("PACKAGES") { Description = description, Arity = arity };

    private static void Print(CliContext ctx, IReadOnlyList<PackageInfo> packages)
    {
        if (ctx.Json)
        {
            Printer.Json(new ListPackagesResponse { Packages = { packages } });
            return;
        }
        Printer.Table(["LANGUAGE", "NAME", "REQUIREMENT", "STATUS", "MESSAGE"],
            packages.Select(p => new[] { p.Language, p.Name, p.Requirement, Status(p.Status), p.Message }), "(no packages)");
    }

    private static string Status(PackageStatus status) => status switch
    {
        PackageStatus.Pending => "pending",
        PackageStatus.Installing => "installing",
        PackageStatus.Ready => "ready",
        PackageStatus.Failed => "failed",
        _ => "unknown",
    };
}
