using System.CommandLine;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Cli.Output;

namespace PythOn.Cli.Commands;

/// <summary>`pyth-on run FILE|-`: streams the program's output live and exits with its exit code.</summary>
public static class RunCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The program file, or - to read the program from stdin" };
        var trailing = new Argument<string[]>("ARGS") { Description = "Arguments for the program (after --)", Arity = ArgumentArity.ZeroOrMore };
        var language = LanguageOptions.Option($"{LanguageOptions.Names} (default: from the extension: {LanguageOptions.Extensions})");
        var timeout = TimeoutOption();
        var args = ArgOption();
        var env = new Option<string[]>("--env", "-e")
        {
            Description = "An environment variable NAME=VALUE for the program (repeatable; your secrets win on a clash)",
            HelpName = "NAME=VALUE",
        };
        var noStdin = new Option<bool>("--no-stdin") { Description = "Do not pass this process's stdin to the program" };
        var interactive = new Option<bool>("--interactive", "-i")
        {
            Description = "Connect this terminal to the running program: what you type goes to its stdin as you type it, " +
                "Ctrl-C interrupts it, end of input (Ctrl-D) closes its stdin",
        };

        var command = new Command("run",
            "Run a program in the sandbox. Its stdout and stderr stream here as they are produced, stdin is passed through, " +
            "and pyth-on exits with the program's exit code.")
        {
            file, trailing, language, timeout, args, env, noStdin, interactive,
        };
        return command.Does(async (ctx, parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var lang = path == "-"
                ? parse.GetValue(language) ?? throw CliException.Usage($"reading the program from stdin needs --language {LanguageRegistry.Choices}.")
                : LanguageOptions.Resolve(parse.GetValue(language), path);
            var request = new ExecuteRequest { Code = SourceFiles.Read(path), Language = lang };
            var live = parse.GetValue(interactive);
            if (live && path == "-") throw CliException.Usage("--interactive needs the program in a FILE: stdin is the program's.");
            if (!live && path != "-" && !parse.GetValue(noStdin) && Console.IsInputRedirected) request.Stdin = Console.In.ReadToEnd();
            request.Args.AddRange(parse.GetValue(args) ?? []);
            request.Args.AddRange(parse.GetValue(trailing) ?? []);
            if (parse.GetValue(timeout) is { } seconds) request.Timeout = seconds;
            foreach (var pair in parse.GetValue(env) ?? [])
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) throw CliException.Usage($"--env takes NAME=VALUE (got '{pair}').");
                request.Env[pair[..eq]] = pair[(eq + 1)..];
            }

            using var client = ctx.Authenticated();
            if (live) return await InteractAsync(ctx, client, request, ct);
            ExecuteResponse? result = null;
            await foreach (var ev in client.ExecuteStreamAsync(request, ct))
            {
                if (ev.EventCase == ExecuteStreamEvent.EventOneofCase.Result)
                {
                    result = ev.Result;
                    break;
                }
                if (ev.EventCase == ExecuteStreamEvent.EventOneofCase.Chunk && !ctx.Json)
                    (ev.Chunk.Stream == OutputStream.Stderr ? Printer.Err : Printer.Out).Write(ev.Chunk.Data);
            }
            if (result is null) throw new CliException("the server ended the run without a result; try again.", ExitCodes.Server);
            return Finish(ctx, result);
        });
    }

    /// <summary>`run -i`: this process's stdin goes to the program line by line as it is read, Ctrl-C is sent as an
    /// interrupt, end of input closes the program's stdin; output is printed as it comes.</summary>
    private static async Task<int> InteractAsync(CliContext ctx, Client.PythOnClient client, ExecuteRequest request, CancellationToken ct)
    {
        await using var run = await client.InteractAsync(request, cancellationToken: ct);
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            e.Cancel = true; // the program decides what an interrupt means
            _ = run.SignalAsync(Signal.Interrupt);
        };
        Console.CancelKeyPress += onCtrlC;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var input = Task.Run(async () =>
        {
            try
            {
                var buffer = new char[4096];
                int n;
                while ((n = await Console.In.ReadAsync(buffer.AsMemory(), stop.Token)) > 0)
                    await run.WriteAsync(new string(buffer, 0, n), stop.Token);
                await run.CloseStdinAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException or InvalidOperationException)
            {
                // the run ended first
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var ev in run.Events(ct))
            {
                if (ev.EventCase == ExecuteStreamEvent.EventOneofCase.Result)
                    return Finish(ctx, ev.Result);
                if (!ctx.Json)
                {
                    var writer = ev.Chunk.Stream == OutputStream.Stderr ? Printer.Err : Printer.Out;
                    writer.Write(ev.Chunk.Data);
                    writer.Flush();
                }
            }
            throw new CliException("the server ended the run without a result; try again.", ExitCodes.Server);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
            stop.Cancel(); // a read of the terminal still pending is abandoned with the process
        }
    }

    /// <summary>Prints the end of a run (JSON result, or notes about timeout/truncation) and returns the program's exit code.</summary>
    public static int Finish(CliContext ctx, ExecuteResponse result)
    {
        if (ctx.Json)
        {
            Printer.Json(result);
        }
        else
        {
            if (result.TimedOut) Printer.Err.WriteLine("pyth-on: the program was stopped: it exceeded its timeout (exit code 137).");
            if (result.OutputTruncated) Printer.Err.WriteLine(result.StoppedAtOutputCap
                ? "pyth-on: the program was stopped at the server's output cap (exit code 137)."
                : "pyth-on: output was cut at the server's output cap.");
            if (result.IdleTimedOut) Printer.Err.WriteLine("pyth-on: the program was stopped: no input or output for too long (exit code 137).");
        }
        return result.ExitCode;
    }

    /// <summary>--timeout SECONDS.</summary>
    public static Option<double?> TimeoutOption() =>
        new("--timeout", "-t") { Description = "Wall-clock limit in seconds (default 10; the maximum is in `pyth-on info`)", HelpName = "SECONDS" };

    /// <summary>--arg VALUE (repeatable).</summary>
    public static Option<string[]> ArgOption() =>
        new("--arg", "-a") { Description = "A command-line argument for the program (repeatable)", HelpName = "VALUE" };
}
