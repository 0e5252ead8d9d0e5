using System.CommandLine;
using PythOn.Cli;
using PythOn.Cli.Commands;
using PythOn.Cli.Output;

// pyth-on: the command-line tool for Pyth-On. Exit codes: see ExitCodes (0 ok, 2 usage, 3 auth, 4 unavailable,
// 5 server refused/failed, 130 interrupted); `run` and `zk run` exit with the program's own code.
var root = new RootCommand(
    "pyth-on: run Python and JavaScript in Pyth-On's sandbox, and manage secrets, packages and zero-knowledge code.\n" +
    $"Exit codes: 0 ok, {ExitCodes.Usage} usage, {ExitCodes.Auth} not signed in or refused, {ExitCodes.Unavailable} server unreachable or unavailable, " +
    $"{ExitCodes.Server} request refused or failed by the server; `run` and `zk run` exit with the program's own code.")
{
    CliContext.ServerOption,
    CliContext.JsonOption,
};
root.With(
    AuthCommands.Register(),
    AuthCommands.Login(),
    AuthCommands.Logout(),
    AuthCommands.WhoAmI(),
    RunCommand.Create(),
    SecretsCommands.Create(),
    PackagesCommands.Create(),
    ZkCommands.Create(),
    MiscCommands.Generate(),
    MiscCommands.Audit(),
    MiscCommands.Health(),
    MiscCommands.Info());

// No @response-file expansion: a program argument that starts with @ must stay as it is.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Printer.Err.WriteLine("error: " + error.Message);
    Printer.Err.WriteLine($"Run `pyth-on {string.Join(' ', CommandPath(parse))} --help` for usage.".Replace("  ", " "));
    return ExitCodes.Usage;
}
return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = true, Output = Printer.Out, Error = Printer.Err });

static IEnumerable<string> CommandPath(ParseResult parse)
{
    var names = new List<string>();
    for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        names.Insert(0, result.Command.Name);
    return names;
}
