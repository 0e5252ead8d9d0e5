using System.Net;
using System.Text;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.DataSafety;

/// <summary>
/// What reaches the disk and the logs of a real server process: no secret value, API key, password or token in
/// clear, and owner-only key files.
/// </summary>
public sealed class DataAtRestTests
{
    /// <summary>Every file under the data directory (the LiteDB file, its -log file, key files), as bytes.</summary>
    private static Dictionary<string, byte[]> ReadDataFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    private static List<string> FilesContaining(Dictionary<string, byte[]> files, string text)
    {
        var patterns = new[] { Encoding.UTF8.GetBytes(text), Encoding.Unicode.GetBytes(text) };
        return files.Where(f => patterns.Any(p => f.Value.AsSpan().IndexOf(p) >= 0)).Select(f => Path.GetFileName(f.Key)).ToList();
    }

    private static void AssertNowhere(Dictionary<string, byte[]> files, string what, string text)
    {
        var found = FilesContaining(files, text);
        Assert.True(found.Count == 0, $"{what} found in clear in {string.Join(", ", found)}");
    }

    private static async Task<(TestUser User, string[] Values)> StoreSecretsAsync(ServerProcess server)
    {
        var user = await Users.RegisterAsync(server.Rest);
        var restValue = $"rest-secret-{Guid.NewGuid():N}";
        var grpcValue = $"grpc-secret-{Guid.NewGuid():N}";
        (await server.Rest.PutAsync("/api/v1/secrets/REST_SECRET", new { value = restValue }, user.Key)).Expect(HttpStatusCode.OK);
        await server.Rpc.Secrets.PutSecretAsync(new PutSecretRequest { Name = "GRPC_SECRET", Secret = new SecretInput { Value = grpcValue } }, user.Jwt.Metadata);
        return (user, [restValue, grpcValue]);
    }

    [Fact]
    public async Task Secret_values_are_not_in_clear_in_the_data_files_after_kill_9()
    {
        await using var server = await ServerProcess.StartAsync();
        var (user, values) = await StoreSecretsAsync(server);
        server.Kill();

        var files = ReadDataFiles(server.DataDirectory);

        Assert.NotEmpty(FilesContaining(files, user.Email)); // the scan does see what was written
        Assert.NotEmpty(FilesContaining(files, "REST_SECRET"));
        foreach (var value in values) AssertNowhere(files, "a secret value", value);
    }

    [Fact]
    public async Task Secret_values_are_not_in_clear_in_the_data_files_after_a_graceful_stop()
    {
        await using var server = await ServerProcess.StartAsync();
        var (user, values) = await StoreSecretsAsync(server);
        await server.StopAsync();

        var files = ReadDataFiles(server.DataDirectory);

        Assert.NotEmpty(FilesContaining(files, user.Email));
        foreach (var value in values) AssertNowhere(files, "a secret value", value);
    }

    [Fact]
    public async Task Secret_values_do_not_appear_in_the_server_logs()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
        });
        var (user, values) = await StoreSecretsAsync(server);
        // Refused requests carrying the value must not echo it either.
        (await server.Rest.PutAsync("/api/v1/secrets/bad-name", new { value = values[0] }, user.Key)).Expect(HttpStatusCode.BadRequest);
        (await server.Rest.PutAsync("/api/v1/secrets/UNAUTHENTICATED", new { value = values[0] }, Credentials.ApiKey("pyapi_nope"))).Expect(HttpStatusCode.Unauthorized);
        await server.StopAsync();

        var output = server.Output;

        Assert.Contains("/api/v1/secrets/REST_SECRET", output); // the log is captured and verbose
        foreach (var value in values) Assert.DoesNotContain(value, output);
        Assert.DoesNotContain(user.Password, output);
        Assert.DoesNotContain(user.ApiKey, output);
    }

    [Fact]
    public async Task API_keys_passwords_and_refresh_tokens_are_not_stored_in_clear()
    {
        await using var server = await ServerProcess.StartAsync();
        var password = $"Pw-{Guid.NewGuid():N}";
        var user = await Users.RegisterAsync(server.Rest, password: password);
        var login = (await server.Rest.PostAsync("/api/login", new { email = user.Email, password })).Expect(HttpStatusCode.OK).Json;
        server.Kill();

        var files = ReadDataFiles(server.DataDirectory);

        Assert.NotEmpty(FilesContaining(files, user.Email));
        AssertNowhere(files, "the API key", user.ApiKey);
        AssertNowhere(files, "the API key's random part", user.ApiKey["pyapi_".Length..]);
        AssertNowhere(files, "the password", password);
        AssertNowhere(files, "a refresh token", user.RefreshToken);
        AssertNowhere(files, "a refresh token", login.Str("refreshToken"));
    }

    [Fact]
    public async Task Generated_key_files_are_readable_by_the_owner_only()
    {
        await using var server = await ServerProcess.StartAsync();

        foreach (var name in new[] { "jwt-signing.key", "secrets.key" })
        {
            var path = Path.Combine(server.DataDirectory, name);
            Assert.True(File.Exists(path), $"{name} was not generated");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.Empty(Directory.EnumerateFiles(server.DataDirectory, "*.tmp"));
    }
}
