using System.Net;
using PythOn.Api.Languages;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// A language alias ("py", "js", "node", ...) is accepted wherever a language is, and stands for its language's name:
/// in runs, stored ZK code and System.Info, through the real server and agent (package lists: PackageListApiTests).
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class LanguageAliasTests(SandboxedServerFixture e2e) : IAsyncLifetime
{
    private TestUser _user = null!;

    public async Task InitializeAsync() => _user = await e2e.SharedAsync("alias user", () => Users.RegisterAsync(e2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Every alias of the registry with its language's name.</summary>
    public static TheoryData<string, string> Aliases()
    {
        var data = new TheoryData<string, string>();
        foreach (var language in LanguageRegistry.All)
            foreach (var alias in language.Aliases)
                data.Add(alias, language.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Aliases))]
    public async Task An_alias_runs_code_as_its_language(string alias, string name)
    {
        var code = name == LanguageRegistry.Python.Name ? "print(6 * 7)" : "console.log(6 * 7)";

        var json = (await e2e.Rest.PostAsync("/api/v1/execute", new { language = alias.ToUpperInvariant(), code }, _user.Key))
            .Expect(HttpStatusCode.OK).Json;

        Assert.Equal("42\n", json.Str("output"));
        Assert.Equal(name, json.Str("language"));
    }

    [Theory]
    [MemberData(nameof(Aliases))]
    public async Task An_alias_stores_zero_knowledge_code_as_its_language(string alias, string name)
    {
        var payload = new { v = 1, salt = "wZPl9qd+KCzQjxaK2mBjvA==", nonce = "Lwen+hIZbKdFuhyszQ1IV3epUwvyD8JF",
            ciphertext = "S3zp8XQDuKVXE9GiMng+plnV9CtcQ5KOOfHc8uqjMMbNeA3ZygBkjrZac48hkVRuduXrtw==" };

        var stored = (await e2e.Rest.PutAsync($"/api/v1/zk/code/alias-{alias}", new { encryptedPayload = payload, language = alias }, _user.Key))
            .Expect(HttpStatusCode.OK).Json;

        Assert.Equal(name, stored.Str("language"));
    }

    [Fact]
    public async Task Info_lists_every_language_with_the_aliases_and_extensions_the_other_calls_accept()
    {
        var json = (await e2e.Rest.GetAsync("/api/v1/info")).Expect(HttpStatusCode.OK).Json;

        var listed = json.Items("languages").Select(l => (
            l.Str("name"),
            string.Join(",", l.Items("aliases").Select(a => a.GetString())),
            string.Join(",", l.Items("extensions").Select(e => e.GetString())),
            l.Str("packageManager")));
        var registry = LanguageRegistry.All.Select(l => (l.Name, string.Join(",", l.Aliases), string.Join(",", l.Extensions), l.PackageManager));
        Assert.Equal(registry, listed);
    }

    [Fact]
    public async Task A_name_that_is_neither_a_language_nor_an_alias_is_refused_everywhere_with_the_same_message()
    {
        var run = (await e2e.Rest.PostAsync("/api/v1/execute", new { language = "pyth", code = "print(1)" }, _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);
        var package = (await e2e.Rest.PostAsync("/api/v1/packages", new { language = "pyth", package = "requests" }, _user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

        Assert.Equal(LanguageRegistry.UnknownLanguageMessage("pyth"), run.Str("message"));
        Assert.Equal(run.Str("message"), package.Str("message"));
    }
}
