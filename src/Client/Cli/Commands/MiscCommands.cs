using System.CommandLine;
using PythOn.Api.V1;
using PythOn.Cli.Output;

namespace PythOn.Cli.Commands;

/// <summary>generate, audit, health, info.</summary>
public static class MiscCommands
{
    /// <summary>`pyth-on generate "prompt"`.</summary>
    public static Command Generate()
    {
        var prompt = new Argument<string>("PROMPT") { Description = "What the program should do" };
        var language = LanguageOptions.Option($"{LanguageOptions.Names} (default: python)");
        var noRun = new Option<bool>("--no-run") { Description = "Only write the program, do not run it" };
        var attempts = new Option<int?>("--max-attempts") { Description = "Generate-and-run rounds at most (1 to 5; default 3)", HelpName = "N" };
        return new Command("generate", "Have the server's model write a program and (by default) run it.")
        {
            prompt, language, noRun, attempts,
        }.Does(async (ctx, parse, ct) =>
        {
            var request = new GenerateRequest { Prompt = parse.GetValue(prompt)!, Language = parse.GetValue(language) ?? "" };
            if (parse.GetValue(noRun)) request.Execute = false;
            if (parse.GetValue(attempts) is { } n) request.MaxAttempts = n;
            using var client = ctx.Authenticated();
            var response = await client.GenerateAsync(request, ct);
            if (ctx.Json)
            {
                Printer.Json(response);
                return ExitCodes.Ok;
            }
            Printer.Err.WriteLine($"# {response.Language} by {response.Model}, {response.Attempts} attempt(s): {response.Explanation}");
            Printer.Out.WriteLine(response.Code.TrimEnd());
            if (response.Executed)
            {
                Printer.Err.WriteLine($"# ran: exit code {response.ExitCode}");
                Printer.Out.Write(response.Output);
                Printer.Err.Write(response.Error);
            }
            return ExitCodes.Ok;
        });
    }

    /// <summary>`pyth-on audit`.</summary>
    public static Command Audit()
    {
        var limit = new Option<int>("--limit", "-n") { Description = "Entries per page, 1 to 200", DefaultValueFactory = _ => 50, HelpName = "N" };
        var pageToken = new Option<string?>("--page-token") { Description = "The token printed after the previous page", HelpName = "TOKEN" };
        return new Command("audit", "Show your audit log, newest first.") { limit, pageToken }.Does(async (ctx, parse, ct) =>
        {
            using var client = ctx.Authenticated();
            var page = await client.GetAuditLogAsync(parse.GetValue(limit), parse.GetValue(pageToken), ct);
            if (ctx.Json)
            {
                Printer.Json(page);
                return ExitCodes.Ok;
            }
            Printer.Table(["TIME", "ACTION", "RESOURCE", "OUTCOME", "ADDRESS", "DETAILS"],
                page.Entries.Select(e => new[]
                {
                    Printer.Time(e.Time), e.Action, e.Resource, e.Outcome, e.ClientAddress,
                    string.Join(" ", e.Details.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}")),
                }), "(no entries)");
            if (page.NextPageToken.Length > 0) Printer.Err.WriteLine($"more: pyth-on audit --limit {parse.GetValue(limit)} --page-token {page.NextPageToken}");
            return ExitCodes.Ok;
        });
    }

    /// <summary>`pyth-on health`.</summary>
    public static Command Health() =>
        new Command("health", "Show the health of the server; signed in, also its sandbox agents, Docker, the slots and the model.").Does(async (ctx, _, ct) =>
        {
            // The details come only with credentials: send them when we have them.
            using var client = ctx.HasCredentials ? ctx.Authenticated() : ctx.Anonymous();
            var health = await client.GetHealthAsync(ct);
            if (ctx.Json)
            {
                Printer.Json(health);
                return ExitCodes.Ok;
            }
            var pairs = new List<(string, string)>
            {
                ("status", health.Status),
                ("server", $"{ctx.Server} (version {health.Version})"),
                ("storage", State(health.Storage)),
                ("docker", State(health.Docker)),
                ("pool", health.Pool.Count == 0 ? "-" : string.Join(", ", health.Pool.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))),
                ("model", State(health.Model)),
            };
            foreach (var agent in health.Agents)
                pairs.Add(("agent", agent.Reachable ? $"{agent.Address}: reachable, docker {State(agent.Docker)}" : $"{agent.Address}: {agent.Message}"));
            Printer.Pairs(pairs);
            return ExitCodes.Ok;
        });

    /// <summary>`pyth-on info`.</summary>
    public static Command Info() =>
        new Command("info", "Show the server's version, languages and limits.").Does(async (ctx, _, ct) =>
        {
            using var client = ctx.Anonymous();
            var info = await client.GetInfoAsync(ct);
            if (ctx.Json)
            {
                Printer.Json(info);
                return ExitCodes.Ok;
            }
            var l = info.Limits ?? new Limits();
            Printer.Pairs(
            [
                ("server", $"{ctx.Server} (version {info.Version})"),
                ("languages", string.Join(", ", info.Languages.Select(x => $"{x.Name} ({string.Join(" ", x.Extensions)}{(x.Version.Length > 0 ? ", " + x.Version : "")})"))),
                ("timeout", $"{l.DefaultTimeoutSeconds} s by default, at most {l.MaxTimeoutSeconds} s"),
                ("code", $"at most {l.MaxCodeBytes} bytes; stdin at most {l.MaxStdinBytes} bytes"),
                ("output", $"at most {l.MaxOutputBytes} bytes per stream"),
                ("memory", $"{l.MemoryMb} MiB per sandbox"),
                ("secrets", $"{l.MaxSecrets} per user, {l.MaxSecretBytes} bytes each"),
                ("packages", $"{l.MaxPackages} per user and language"),
                ("rate limits", $"{l.RequestsPerMinute} requests/min per user, {l.AuthAttemptsPerMinute} sign-ins/min per address"),
                ("model", info.ModelConfigured ? "configured" : "not configured"),
            ]);
            return ExitCodes.Ok;
        });

    private static string State(ComponentHealth? component) =>
        component is null ? "-" : $"{(component.Ok ? "ok" : "NOT OK")}{(component.Message.Length > 0 && component.Message != "ok" ? " (" + component.Message + ")" : "")}";
}
