using System.Net;
using System.Text;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.DataSafety;

/// <summary>
/// One real server life on one data directory, recorded for the tests below: a first process (verbose logging)
/// stores credentials and secrets over REST and gRPC and is stopped gracefully; a second process on the same
/// directory stores more and is killed with SIGKILL, leaving LiteDB's -log file behind. The data files are read
/// after each end.
/// </summary>
public sealed class DataAtRestFixture : IAsyncLifetime
{
    public List<string> SecretValues { get; } = [];
    public List<string> Credentials { get; } = [];
    public List<string> Emails { get; } = [];
    public Dictionary<string, byte[]> FilesAfterStop { get; private set; } = [];
    public Dictionary<string, byte[]> FilesAfterKill { get; private set; } = [];
    public string Logs { get; private set; } = "";
    public Dictionary<string, UnixFileMode?> KeyFileModes { get; } = [];
    public string[] StrayFiles { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await using var first = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
        });
        await StoreAsync(first, "first");
        foreach (var name in new[] { "jwt-signing.key", "secrets.key" })
        {
            var path = Path.Combine(first.DataDirectory, name);
            KeyFileModes[name] = File.Exists(path) && !OperatingSystem.IsWindows() ? File.GetUnixFileMode(path) : null;
        }
        await first.StopAsync();
        FilesAfterStop = ReadDataFiles(first.DataDirectory);
        var logs = first.Output;

        await using var second = await first.RestartAsync();
        await StoreAsync(second, "second");
        second.Kill();
        FilesAfterKill = ReadDataFiles(second.DataDirectory);
        Logs = logs + second.Output;
        StrayFiles = Directory.EnumerateFiles(second.DataDirectory, "*.tmp").ToArray();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task StoreAsync(ServerProcess server, string life)
    {
        var password = $"Pw-{life}-{Guid.NewGuid():N}";
        var user = await Users.RegisterAsync(server.Rest, Users.UniqueEmail(life), password);
        var login = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password })).Expect(HttpStatusCode.OK).Json;
        var refreshed = (await server.Rest.PostAsync("/api/refresh", new { refreshToken = login.Str("refreshToken") })).Expect(HttpStatusCode.OK).Json;
        Emails.Add(user.Email);
        Credentials.AddRange([password, user.ApiKey, user.ApiKey["pyapi_".Length..], user.RefreshToken, login.Str("refreshToken"), refreshed.Str("refreshToken")]);

        var restValue = $"rest-secret-{life}-{Guid.NewGuid():N}";
        var grpcValue = $"grpc-secret-{life}-{Guid.NewGuid():N}";
        SecretValues.AddRange([restValue, grpcValue]);
        (await server.Rest.PutAsync("/api/v1/secrets/REST_SECRET", new { value = restValue }, user.Key)).Expect(HttpStatusCode.OK);
        await server.Rpc.Secrets.PutSecretAsync(new PutSecretRequest { Name = "GRPC_SECRET", Secret = new SecretInput { Value = grpcValue } }, user.Jwt.Metadata);
        // Refused requests that carry a value must not leak it either.
        (await server.Rest.PutAsync("/api/v1/secrets/bad-name", new { value = restValue }, user.Key)).Expect(HttpStatusCode.BadRequest);
        (await server.Rest.PutAsync("/api/v1/secrets/NO_AUTH", new { value = restValue }, Infrastructure.Credentials.ApiKey("pyapi_nope"))).Expect(HttpStatusCode.Unauthorized);
        (await server.Rest.SendAsync(HttpMethod.Put, "/api/v1/secrets/MALFORMED", $$"""{"value": "{{restValue}}" """, user.Key)).Expect(HttpStatusCode.BadRequest);
    }

    /// <summary>Every file under the data directory (the LiteDB file, its -log file, key files), as bytes.</summary>
    private static Dictionary<string, byte[]> ReadDataFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    /// <summary>The files holding <paramref name="text"/> as UTF-8 or UTF-16.</summary>
    public static List<string> FilesContaining(Dictionary<string, byte[]> files, string text)
    {
        var patterns = new[] { Encoding.UTF8.GetBytes(text), Encoding.Unicode.GetBytes(text) };
        return files.Where(f => patterns.Any(p => f.Value.AsSpan().IndexOf(p) >= 0)).Select(f => f.Key).ToList();
    }
}

/// <summary>No secret value, API key, password or refresh token in clear on disk or in the logs; owner-only key files.</summary>
public sealed class DataAtRestTests(DataAtRestFixture life) : IClassFixture<DataAtRestFixture>
{
    private static void AssertNowhere(Dictionary<string, byte[]> files, IEnumerable<string> values, string what)
    {
        foreach (var value in values)
        {
            var found = DataAtRestFixture.FilesContaining(files, value);
            Assert.True(found.Count == 0, $"{what} '{value}' found in clear in {string.Join(", ", found)}");
        }
    }

    [Fact]
    public void The_scan_sees_what_the_server_wrote()
    {
        // Guards the negative assertions below: the emails (stored in clear) are found in the same bytes.
        foreach (var email in life.Emails) Assert.NotEmpty(DataAtRestFixture.FilesContaining(life.FilesAfterKill, email));
        Assert.NotEmpty(DataAtRestFixture.FilesContaining(life.FilesAfterStop, life.Emails[0]));
        // After SIGKILL the second life's writes sit in LiteDB's -log file: it is part of the scan.
        Assert.Contains("pyth-on-log.db", DataAtRestFixture.FilesContaining(life.FilesAfterKill, life.Emails[1]));
    }

    [Fact]
    public void Secret_values_are_not_in_clear_in_the_data_files_after_a_graceful_stop() =>
        AssertNowhere(life.FilesAfterStop, life.SecretValues, "a secret value");

    [Fact]
    public void Secret_values_are_not_in_clear_in_the_data_files_or_the_LiteDB_log_after_kill_9() =>
        AssertNowhere(life.FilesAfterKill, life.SecretValues, "a secret value");

    [Fact]
    public void API_keys_passwords_and_refresh_tokens_are_not_stored_in_clear()
    {
        AssertNowhere(life.FilesAfterStop, life.Credentials, "a credential");
        AssertNowhere(life.FilesAfterKill, life.Credentials, "a credential");
    }

    [Fact]
    public void Secret_values_and_credentials_do_not_appear_in_the_server_logs()
    {
        Assert.Contains("/api/v1/secrets/REST_SECRET", life.Logs); // the log was captured, at Debug level
        foreach (var value in life.SecretValues.Concat(life.Credentials)) Assert.DoesNotContain(value, life.Logs);
    }

    [Fact]
    public void Generated_key_files_are_readable_and_writable_by_the_owner_only()
    {
        Assert.Equal(2, life.KeyFileModes.Count);
        foreach (var (name, mode) in life.KeyFileModes)
        {
            Assert.True(mode is not null, $"{name} was not generated");
            Assert.True(mode == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{name} has mode {mode}");
        }
        Assert.Empty(life.StrayFiles);
    }
}
