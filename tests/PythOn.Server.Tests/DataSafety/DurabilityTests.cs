using System.Net;
using PythOn.Server.Audit;
using PythOn.Server.Secrets;
using PythOn.Server.Storage;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Storage.Sqlite;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.DataSafety;

/// <summary>Acknowledged writes survive a graceful restart and a kill -9 of the real server process.</summary>
public sealed class DurabilityTests
{
    private sealed record Written(TestUser User, string SecretName, string PackageName);

    private static async Task<Written> WriteAsync(ServerProcess server)
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PutAsync("/api/v1/secrets/DURABLE_SECRET", new { value = "durable-value-1" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);
        return new Written(user, "DURABLE_SECRET", "requests");
    }

    private static async Task AssertPresentAsync(ServerProcess server, Written written)
    {
        var login = (await server.Rest.PostAsync("/api/login", new { email = written.User.Email, password = written.User.Password }))
            .Expect(HttpStatusCode.OK).Json;
        var token = Credentials.Bearer(login.Str("token"));

        var secrets = (await server.Rest.GetAsync("/api/v1/secrets", token)).Expect(HttpStatusCode.OK).Json.Items("secrets");
        Assert.Equal([written.SecretName], secrets.Select(s => s.Str("name")));
        var packages = (await server.Rest.GetAsync("/api/v1/packages", written.User.Key)).Expect(HttpStatusCode.OK).Json.Items("packages");
        Assert.Equal([written.PackageName], packages.Select(p => p.Str("name")));
    }

    [Fact]
    public async Task Users_secrets_and_packages_survive_a_graceful_restart()
    {
        await using var first = await ServerProcess.StartAsync();
        var written = await WriteAsync(first);
        await first.StopAsync();

        await using var second = await first.RestartAsync();

        await AssertPresentAsync(second, written);
    }

    [Fact]
    public async Task Writes_acknowledged_just_before_kill_9_survive_a_restart()
    {
        await using var first = await ServerProcess.StartAsync();
        var written = await WriteAsync(first);
        first.Kill();

        await using var second = await first.RestartAsync();

        await AssertPresentAsync(second, written);
    }

    [Fact]
    public async Task A_JWT_issued_before_a_restart_is_still_accepted_after_it()
    {
        await using var first = await ServerProcess.StartAsync();
        var user = await Users.RegisterAsync(first.Rest);
        first.Kill();

        await using var second = await first.RestartAsync();

        var json = (await second.Rest.PostAsync("/api/verify", new { }, user.Jwt)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(user.Email, json.Str("email"));
    }

    [Fact]
    public async Task Secret_values_still_decrypt_with_the_key_kept_in_the_data_directory_after_a_restart()
    {
        var directory = TempDirectories.Create("restart");
        try
        {
            TestUser user;
            await using (var first = new InProcessServer(null, dataDirectory: directory))
            {
                user = await Users.RegisterAsync(first.Rest);
                (await first.Rest.PutAsync("/api/v1/secrets/KEPT", new { value = "kept-value-42" }, user.Key)).Expect(HttpStatusCode.OK);
            }

            await using var second = new InProcessServer(null, dataDirectory: directory);
            var userId = new LiteDB.ObjectId(Jwts.Payload(user.Token).Str("sub"));

            var values = second.Get<SecretStore>().Reveal(userId);

            Assert.Equal("kept-value-42", values["KEPT"]);
        }
        finally
        {
            TempDirectories.Delete(directory);
        }
    }

    private static async Task<List<string>> AuditActionsAsync(ServerProcess server, TestUser user) =>
        (await server.Rest.GetAsync("/api/v1/audit", user.Key)).Expect(HttpStatusCode.OK).Json.Items("entries")
            .Select(e => e.Str("action")).ToList();

    [Fact]
    public async Task Audit_entries_acknowledged_just_before_kill_9_survive_a_restart()
    {
        await using var first = await ServerProcess.StartAsync();
        var written = await WriteAsync(first);
        first.Kill();

        await using var second = await first.RestartAsync();

        Assert.Equal(["package.add", "secret.put", "auth.register"], await AuditActionsAsync(second, written.User));
    }

    [Fact]
    public async Task Audit_entries_an_earlier_version_kept_in_the_LiteDB_file_are_listed_after_the_upgrade()
    {
        await using var first = await ServerProcess.StartAsync();
        var user = await Users.RegisterAsync(first.Rest);
        await first.StopAsync();
        // The data directory as an earlier version left it: no audit file, the entries in pyth-on.db's "audit" collection
        // (written with LiteDB's default mapper, which stores "" as null: such an entry moves too).
        foreach (var file in Directory.GetFiles(first.DataDirectory, SqliteAuditRepository.FileName + "*")) File.Delete(file);
        using (var old = new LiteDB.LiteDatabase(Path.Combine(first.DataDirectory, LiteDatabaseFile.FileName)))
            old.GetCollection<AuditRecord>("audit", LiteDB.BsonAutoId.Int64).InsertBulk(new[] { "auth.register", "secret.put" }.Select(action =>
                new AuditRecord
                {
                    UserId = new LiteDB.ObjectId(Jwts.Payload(user.Token).Str("sub")), Time = 1_000, Action = action,
                    Outcome = AuditOutcome.Success, ClientAddress = "127.0.0.1",
                }));

        await using var second = await first.RestartAsync();

        Assert.Equal(["secret.put", "auth.register"], await AuditActionsAsync(second, user));
    }
}
