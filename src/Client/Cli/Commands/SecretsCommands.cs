using System.CommandLine;
using System.Text.Json;
using PythOn.Api.V1;
using PythOn.Cli.Output;
using PythOn.Cli.Terminal;

namespace PythOn.Cli.Commands;

/// <summary>`pyth-on secrets set|ls|rm`.</summary>
public static class SecretsCommands
{
    /// <summary>Builds the command group.</summary>
    public static Command Create()
    {
        var setName = NameArgument();
        var set = new Command("set", "Create or replace a secret. The value is read from stdin, or typed at a prompt without echo; never from the command line.")
        {
            setName,
        }.Does(async (ctx, parse, ct) =>
        {
            var name = parse.GetValue(setName)!;
            using var client = ctx.Authenticated();
            var value = Input.ReadSecretValue($"Value for {name}: ", "secret value");
            var stored = await client.PutSecretAsync(name, value, ct);
            if (ctx.Json) Printer.Json(stored);
            else Printer.Out.WriteLine($"Secret {stored.Name} saved.");
            return ExitCodes.Ok;
        });

        var ls = new Command("ls", "List your secrets (names and dates, never values).").Does(async (ctx, _, ct) =>
        {
            using var client = ctx.Authenticated();
            var secrets = await client.ListSecretsAsync(ct);
            if (ctx.Json) Printer.Json(new ListSecretsResponse { Secrets = { secrets } });
            else Printer.Table(["NAME", "CREATED", "UPDATED"], secrets.Select(s => new[] { s.Name, Printer.Time(s.CreatedAt), Printer.Time(s.UpdatedAt) }), "(no secrets)");
            return ExitCodes.Ok;
        });

        var rmName = NameArgument();
        var rm = new Command("rm", "Delete a secret.") { rmName }.Does(async (ctx, parse, ct) =>
        {
            var name = parse.GetValue(rmName)!;
            using var client = ctx.Authenticated();
            await client.DeleteSecretAsync(name, ct);
            if (ctx.Json) Printer.JsonText(JsonSerializer.Serialize(new { name, deleted = true }));
            else Printer.Out.WriteLine($"Secret {name} deleted.");
            return ExitCodes.Ok;
        });

        return new Command("secrets", "Manage secrets, injected into every run as environment variables.").With(set, ls, rm);
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The environment variable name, e.g. API_TOKEN" };
}
