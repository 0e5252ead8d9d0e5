using System.Text.Json;
using PythOn.Client.Tests.Infrastructure;

namespace PythOn.Client.Tests;

/// <summary>secrets, packages, audit, health and info through the real CLI, tables and --json.</summary>
[Collection(ServerCollection.Name)]
public sealed class CliSecretsAndSystemTests(PythOnServer server)
{
    [Fact]
    public async Task Secrets_set_from_stdin_then_ls_shows_the_name_not_the_value_then_rm()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        var value = "v-" + Guid.NewGuid().ToString("N");

        var set = await cli.RunAsync(["secrets", "set", "API_TOKEN"], value + "\n");
        Assert.True(set.ExitCode == 0, set.ToString());

        var table = await cli.RunAsync("secrets", "ls");
        Assert.True(table.ExitCode == 0, table.ToString());
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NAME", lines[0]);
        Assert.StartsWith("API_TOKEN ", lines[1]);

        var json = await cli.RunAsync("secrets", "ls", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var names = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("secrets").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Equal(["API_TOKEN"], names);
        foreach (var output in new[] { set, table, json }) Assert.DoesNotContain(value, output.Stdout + output.Stderr);

        var rm = await cli.RunAsync("secrets", "rm", "API_TOKEN");
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var empty = await cli.RunAsync("secrets", "ls", "--json");
        Assert.Empty(JsonDocument.Parse(empty.Stdout).RootElement.GetProperty("secrets").EnumerateArray());

        var rmAgain = await cli.RunAsync("secrets", "rm", "API_TOKEN");
        Assert.Equal(5, rmAgain.ExitCode);
        Assert.StartsWith("error: not found:", rmAgain.Stderr);
    }

    [Fact]
    public async Task An_empty_secret_value_is_refused_before_any_call()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var set = await cli.RunAsync(["secrets", "set", "EMPTY"], "");

        Assert.Equal(2, set.ExitCode);
        Assert.Equal("error: the secret value is empty.", set.Stderr.Trim());
    }

    [Fact]
    public async Task Health_and_info_json_parse_and_need_no_sign_in()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);

        var health = await cli.RunAsync("health", "--json");
        Assert.True(health.ExitCode == 0, health.ToString());
        var h = JsonDocument.Parse(health.Stdout).RootElement;
        Assert.Contains(h.GetProperty("status").GetString(), new[] { "ok", "degraded" });
        Assert.False(h.TryGetProperty("storage", out _)); // details are for signed-in callers

        await cli.RegisterAsync();
        var signedIn = JsonDocument.Parse((await cli.RunAsync("health", "--json")).Stdout).RootElement;
        Assert.True(signedIn.GetProperty("storage").GetProperty("ok").GetBoolean());

        var info = await cli.RunAsync("info", "--json");
        Assert.True(info.ExitCode == 0, info.ToString());
        var languages = JsonDocument.Parse(info.Stdout).RootElement.GetProperty("languages").EnumerateArray()
            .Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.Equal(["python", "javascript"], languages);

        var table = await cli.RunAsync("info");
        Assert.Contains("languages:", table.Stdout);
        Assert.Contains("python (.py)", table.Stdout);
    }

    [Fact]
    public async Task Packages_accept_a_language_alias_and_store_the_language_name()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var add = await cli.RunAsync("packages", "add", "lodash@^4", "--language", "js", "--json");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("javascript", JsonDocument.Parse(add.Stdout).RootElement.GetProperty("packages")[0].GetProperty("language").GetString());

        var ls = await cli.RunAsync("packages", "ls", "--language", "node", "--json");
        Assert.Equal(["javascript/lodash"], JsonDocument.Parse(ls.Stdout).RootElement.GetProperty("packages").EnumerateArray()
            .Select(p => $"{p.GetProperty("language").GetString()}/{p.GetProperty("name").GetString()}").ToArray());

        var rm = await cli.RunAsync("packages", "rm", "lodash", "--language", "nodejs");
        Assert.True(rm.ExitCode == 0, rm.ToString());

        var unknown = await cli.RunAsync("packages", "add", "x", "--language", "pyth");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("language must be 'python' or 'javascript' (got 'pyth')", unknown.Stderr);
    }

    [Fact]
    public async Task Packages_add_ls_set_rm_with_json_and_tables()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();

        var add = await cli.RunAsync("packages", "add", "requests>=2.31", "--json");
        Assert.True(add.ExitCode == 0, add.ToString());
        var added = JsonDocument.Parse(add.Stdout).RootElement.GetProperty("packages")[0];
        Assert.Equal("requests", added.GetProperty("name").GetString());
        Assert.Equal("python", added.GetProperty("language").GetString());
        Assert.Equal(">=2.31", added.GetProperty("version").GetString());

        var table = await cli.RunAsync("packages", "add", "lodash@^4", "--language", "javascript");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"(?m)^LANGUAGE\s+NAME\s+REQUIREMENT\s+STATUS", table.Stdout);
        Assert.Matches(@"(?m)^javascript\s+lodash\s+lodash@\^4\s+(pending|installing|ready|failed)", table.Stdout);

        var ls = await cli.RunAsync("packages", "ls", "--language", "python");
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Matches(@"(?m)^python\s+requests\s+requests>=2\.31\s+(pending|installing|ready|failed)", ls.Stdout);
        Assert.DoesNotContain("lodash", ls.Stdout);

        var set = await cli.RunAsync("packages", "set", "numpy", "flask==3.0.0", "--json");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal(["flask", "numpy"], JsonDocument.Parse(set.Stdout).RootElement.GetProperty("packages").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()!).ToArray());

        var all = await cli.RunAsync("packages", "ls", "--json");
        Assert.Equal(["javascript/lodash", "python/flask", "python/numpy"], JsonDocument.Parse(all.Stdout).RootElement.GetProperty("packages")
            .EnumerateArray().Select(p => $"{p.GetProperty("language").GetString()}/{p.GetProperty("name").GetString()}").ToArray());

        var rm = await cli.RunAsync("packages", "rm", "numpy");
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var rmAgain = await cli.RunAsync("packages", "rm", "numpy");
        Assert.Equal(5, rmAgain.ExitCode);
        Assert.StartsWith("error: not found:", rmAgain.Stderr);

        var invalid = await cli.RunAsync("packages", "add", "git+https://example.com/x.git");
        Assert.Equal(5, invalid.ExitCode);
        Assert.StartsWith("error: invalid request:", invalid.Stderr);
    }

    [Fact]
    public async Task Audit_lists_the_sign_in_and_pages_with_a_token()
    {
        var cli = Cli.ForNewUser(server.GrpcAddress);
        await cli.RegisterAsync();
        Assert.Equal(0, (await cli.RunAsync(["secrets", "set", "ONE"], "one")).ExitCode);
        Assert.Equal(0, (await cli.RunAsync(["secrets", "set", "TWO"], "two")).ExitCode);

        var first = await cli.RunAsync("audit", "--limit", "1", "--json");
        Assert.True(first.ExitCode == 0, first.ToString());
        var page = JsonDocument.Parse(first.Stdout).RootElement;
        Assert.Equal("secret.put", page.GetProperty("entries")[0].GetProperty("action").GetString());
        Assert.Equal("secret/TWO", page.GetProperty("entries")[0].GetProperty("resource").GetString());
        var token = page.GetProperty("nextPageToken").GetString()!;
        Assert.NotEmpty(token);

        var second = await cli.RunAsync("audit", "--limit", "1", "--page-token", token);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("secret/ONE", second.Stdout);
        Assert.Contains("more: pyth-on audit", second.Stderr);
    }
}
