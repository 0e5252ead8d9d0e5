using System.CommandLine;
using System.Text.Json;
using Grpc.Core;
using PythOn.Cli.Config;
using PythOn.Cli.Output;
using PythOn.Cli.Terminal;

namespace PythOn.Cli.Commands;

/// <summary>register, login, logout, whoami.</summary>
public static class AuthCommands
{
    /// <summary>Environment variable a script may use for the account password (it is never taken from argv).</summary>
    public const string PasswordVariable = "PYTH_ON_PASSWORD";

    /// <summary>`pyth-on register`.</summary>
    public static Command Register()
    {
        var email = EmailOption();
        var command = new Command("register",
            $"Create an account and save its API key and tokens. The password is read from ${PasswordVariable}, the first line of stdin, or a prompt.")
        {
            email,
        };
        return command.Does(async (ctx, parse, ct) =>
        {
            var address = ResolveEmail(parse.GetValue(email), ctx);
            var password = ReadPassword(confirm: true);
            using var client = ctx.Anonymous();
            Api.V1.AuthResponse response;
            try
            {
                response = await client.RegisterAsync(address, password, ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                throw new CliException($"an account for {address} already exists on {ctx.Server}: run `pyth-on login`.", ExitCodes.Server);
            }
            ctx.SaveCredentials(new ServerCredentials
            {
                Email = response.User?.Email ?? address,
                ApiKey = response.HasApiKey ? response.ApiKey : null,
                Token = response.Token,
                RefreshToken = response.RefreshToken,
                ExpiresAt = response.ExpiresAt?.ToDateTimeOffset(),
            });
            if (ctx.Json)
            {
                Printer.JsonText(JsonSerializer.Serialize(new
                {
                    email = response.User?.Email ?? address,
                    server = ctx.Server,
                    apiKey = response.HasApiKey ? response.ApiKey : null,
                    config = ctx.Store.Path,
                }));
            }
            else
            {
                Printer.Out.WriteLine($"Registered {response.User?.Email ?? address} on {ctx.Server}.");
                if (response.HasApiKey) Printer.Out.WriteLine($"API key: {response.ApiKey}  (shown only once by the server)");
                Printer.Out.WriteLine($"Credentials saved in {ctx.Store.Path}.");
            }
            return ExitCodes.Ok;
        });
    }

    /// <summary>`pyth-on login`.</summary>
    public static Command Login()
    {
        var email = EmailOption();
        var command = new Command("login",
            $"Sign in and save a token and refresh token. The password is read from ${PasswordVariable}, the first line of stdin, or a prompt.")
        {
            email,
        };
        return command.Does(async (ctx, parse, ct) =>
        {
            var address = ResolveEmail(parse.GetValue(email), ctx);
            var password = ReadPassword(confirm: false);
            using var client = ctx.Anonymous();
            Api.V1.AuthResponse response;
            try
            {
                response = await client.LoginAsync(address, password, ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                throw new CliException($"login failed: wrong email or password for {address} on {ctx.Server}.", ExitCodes.Auth);
            }
            var signedIn = response.User?.Email ?? address;
            var previous = ctx.Config.Credentials.GetValueOrDefault(ctx.Server);
            ctx.SaveCredentials(new ServerCredentials
            {
                Email = signedIn,
                // The API key (shown only at register) stays when it belongs to the same account.
                ApiKey = string.Equals(previous?.Email, signedIn, StringComparison.OrdinalIgnoreCase) ? previous?.ApiKey : null,
                Token = response.Token,
                RefreshToken = response.RefreshToken,
                ExpiresAt = response.ExpiresAt?.ToDateTimeOffset(),
            });
            if (ctx.Json)
                Printer.JsonText(JsonSerializer.Serialize(new { email = signedIn, server = ctx.Server, config = ctx.Store.Path }));
            else
                Printer.Out.WriteLine($"Signed in to {ctx.Server} as {signedIn}; credentials saved in {ctx.Store.Path}.");
            return ExitCodes.Ok;
        });
    }

    /// <summary>`pyth-on logout`.</summary>
    public static Command Logout() =>
        new Command("logout", "Forget the saved credentials for the server.").Does((ctx, _, _) =>
        {
            var removed = ctx.Config.Credentials.Remove(ctx.Server);
            if (removed) ctx.Store.Save(ctx.Config);
            if (ctx.Json) Printer.JsonText(JsonSerializer.Serialize(new { server = ctx.Server, removed }));
            else Printer.Out.WriteLine(removed ? $"Signed out of {ctx.Server}." : $"No saved credentials for {ctx.Server}.");
            return Task.FromResult(ExitCodes.Ok);
        });

    /// <summary>`pyth-on whoami`.</summary>
    public static Command WhoAmI() =>
        new Command("whoami", "Show the account the saved credentials belong to.").Does(async (ctx, _, ct) =>
        {
            using var client = ctx.Authenticated();
            var user = await client.VerifyTokenAsync(ct);
            if (ctx.Json) Printer.Json(user);
            else Printer.Pairs([("email", user.Email), ("created", Printer.Time(user.CreatedAt)), ("auth", user.HasAuthMethod ? user.AuthMethod : "-"), ("server", ctx.Server)]);
            return ExitCodes.Ok;
        });

    private static Option<string?> EmailOption() => new("--email", "-e") { Description = "The account's email address", HelpName = "EMAIL" };

    private static string ResolveEmail(string? given, CliContext ctx)
    {
        if (!string.IsNullOrWhiteSpace(given)) return given.Trim();
        if (ctx.Config.Credentials.GetValueOrDefault(ctx.Server)?.Email is { Length: > 0 } saved) return saved;
        if (Input.Interactive)
        {
            var typed = Input.ReadVisibleLine("Email: ");
            if (typed.Length > 0) return typed;
        }
        throw CliException.Usage("an email is required: pass --email EMAIL.");
    }

    private static string ReadPassword(bool confirm)
    {
        var fromEnv = Environment.GetEnvironmentVariable(PasswordVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var password = Input.ReadSecretLine("Password: ", "password");
        if (confirm && Input.Interactive && Input.ReadHidden("Repeat password: ") != password)
            throw CliException.Usage("the two passwords differ.");
        return password;
    }
}
