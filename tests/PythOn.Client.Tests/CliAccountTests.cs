using System.Text.Json;
using PythOn.Client.Tests.Infrastructure;

namespace PythOn.Client.Tests;

/// <summary>register, login, credentials on disk, error messages and exit codes — pyth-on as a real process.</summary>
[Collection(ServerCollection.Name)]
public sealed class CliAccountTests(PythOnServer server)
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Register_then_login_stores_the_credentials_in_a_0600_file()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        var email = $"u{Guid.NewGuid():N}@example.com";
        const string password = "secureP@ss123";

        var register = await cli.RunAsync(["register", "--email", email], password + "\n");
        Assert.True(register.ExitCode == 0, register.ToString());
        Assert.Contains("API key: pyapi_", register.Stdout);

        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(cli.ConfigPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(cli.ConfigPath)!));
        var afterRegister = Credentials(cli);
        var apiKey = afterRegister.GetProperty("apiKey").GetString();
        Assert.StartsWith("pyapi_", apiKey);
        Assert.Contains(apiKey!, register.Stdout);

        var login = await cli.RunAsync(["login", "--email", email], password + "\n");
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(cli.ConfigPath));
        var afterLogin = Credentials(cli);
        Assert.Equal(email, afterLogin.GetProperty("email").GetString());
        Assert.Equal(apiKey, afterLogin.GetProperty("apiKey").GetString());
        Assert.StartsWith("pyrt_", afterLogin.GetProperty("refreshToken").GetString());
        Assert.NotEqual(afterRegister.GetProperty("token").GetString(), afterLogin.GetProperty("token").GetString());
        Assert.DoesNotContain(password, File.ReadAllText(cli.ConfigPath));

        var whoami = await cli.RunAsync("whoami", "--json");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal(email, JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_wrong_password_is_a_clear_error_with_exit_code_3_and_stores_nothing()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        var email = await cli.RegisterAsync();
        var before = File.ReadAllText(cli.ConfigPath);

        var login = await cli.RunAsync(["login", "--email", email], "wrongP@ss999\n");

        Assert.Equal(3, login.ExitCode);
        Assert.Equal($"error: login failed: wrong email or password for {email} on {server.GrpcAddress}.", login.Stderr.Trim());
        Assert.Equal("", login.Stdout);
        Assert.Equal(before, File.ReadAllText(cli.ConfigPath));
    }

    [Fact]
    public async Task Without_credentials_commands_say_to_log_in_and_exit_3()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);

        var ls = await cli.RunAsync("secrets", "ls");

        Assert.Equal(3, ls.ExitCode);
        Assert.Equal($"error: not signed in to {server.GrpcAddress}: run `pyth-on login` (or `pyth-on register`).", ls.Stderr.Trim());
        Assert.False(File.Exists(cli.ConfigPath));
    }

    [Fact]
    public async Task Credentials_the_server_refuses_lead_to_login_with_exit_3()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        File.WriteAllText(cli.ConfigPath, JsonSerializer.Serialize(new
        {
            server = server.GrpcAddress,
            credentials = new Dictionary<string, object> { [server.GrpcAddress] = new { apiKey = "pyapi_" + new string('x', 43) } },
        }));

        var ls = await cli.RunAsync("secrets", "ls");

        Assert.Equal(3, ls.ExitCode);
        Assert.StartsWith("error: not signed in: the server refused the credentials", ls.Stderr);
        Assert.Contains("run `pyth-on login`", ls.Stderr);
    }

    [Fact]
    public async Task An_expired_token_is_refreshed_and_the_rotated_refresh_token_is_saved()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        var email = await cli.RegisterAsync();
        var login = await cli.RunAsync(["login", "--email", email], "secureP@ss123\n");
        Assert.True(login.ExitCode == 0, login.ToString());
        var saved = Credentials(cli);
        var refreshToken = saved.GetProperty("refreshToken").GetString()!;
        // Keep only the token and refresh token, and make the token look expired: the CLI must refresh first.
        File.WriteAllText(cli.ConfigPath, JsonSerializer.Serialize(new
        {
            server = server.GrpcAddress,
            credentials = new Dictionary<string, object>
            {
                [server.GrpcAddress] = new { email, token = saved.GetProperty("token").GetString(), refreshToken, expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) },
            },
        }));

        var ls = await cli.RunAsync("secrets", "ls", "--json");

        Assert.True(ls.ExitCode == 0, ls.ToString());
        var after = Credentials(cli);
        Assert.NotEqual(refreshToken, after.GetProperty("refreshToken").GetString());
        Assert.True(after.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(cli.ConfigPath));

        // The saved refresh token is the live one: another command works without signing in again.
        var again = await cli.RunAsync("whoami");
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public async Task An_unreachable_server_is_a_clear_error_with_exit_code_4()
    {
        var closedPort = LoopbackPort.Free();
        var cli = Cli.ForNewUser($"http://127.0.0.1:{closedPort}");

        var health = await cli.RunAsync("health");

        Assert.Equal(4, health.ExitCode);
        Assert.StartsWith($"error: cannot reach the server at http://127.0.0.1:{closedPort}: is it running?", health.Stderr);
        Assert.Equal("", health.Stdout);
    }

    [Fact]
    public async Task Pointing_at_the_REST_port_says_to_use_the_gRPC_address()
    {
        var cli = Cli.ForNewUser(server.RestAddress);

        var info = await cli.RunAsync("info");

        Assert.Equal(4, info.ExitCode);
        Assert.Contains("does not speak gRPC on that port", info.Stderr);
    }

    [Fact]
    public async Task Usage_errors_exit_with_code_2()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        var noSubcommand = await cli.RunAsync("secrets");
        Assert.Equal(2, noSubcommand.ExitCode);
        Assert.StartsWith("error:", noSubcommand.Stderr);

        var unknownOption = await cli.RunAsync("health", "--frobnicate");
        Assert.Equal(2, unknownOption.ExitCode);

        await cli.RegisterAsync();
        var file = Path.Combine(cli.Home, "notes.txt");
        File.WriteAllText(file, "print(1)");
        var unknownLanguage = await cli.RunAsync("run", file);
        Assert.Equal(2, unknownLanguage.ExitCode);
        Assert.Contains("pass --language python|javascript", unknownLanguage.Stderr);

        var help = await cli.RunAsync("secrets", "set", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("never from the command line", help.Stdout);
    }

    [Fact]
    public async Task Logout_forgets_the_credentials_of_that_server_only()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        Assert.Equal(0, (await cli.RunAsync("whoami")).ExitCode);

        var logout = await cli.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.Equal($"Signed out of {server.GrpcAddress}.", logout.Stdout.Trim());
        var root = JsonDocument.Parse(File.ReadAllText(cli.ConfigPath)).RootElement;
        Assert.False(root.GetProperty("credentials").TryGetProperty(server.GrpcAddress, out _));
        Assert.Equal(3, (await cli.RunAsync("whoami")).ExitCode);
    }

    [Fact]
    public async Task Generate_without_a_model_provider_says_the_server_cannot_and_exits_4()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var generate = await cli.RunAsync("generate", "print the first 10 primes");

        Assert.Equal(4, generate.ExitCode);
        Assert.StartsWith("error: the server is unavailable: ", generate.Stderr);
        Assert.Equal("", generate.Stdout);
    }

    private static JsonElement Credentials(Cli cli)
    {
        var root = JsonDocument.Parse(File.ReadAllText(cli.ConfigPath)).RootElement;
        Assert.Equal(cli.Server, root.GetProperty("server").GetString());
        return root.GetProperty("credentials").GetProperty(cli.Server);
    }
}
