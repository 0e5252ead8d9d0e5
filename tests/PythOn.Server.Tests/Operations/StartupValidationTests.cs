using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Operations;

/// <summary>An invalid setting stops the server before it listens, with a message naming the setting (and never the
/// value of a secret one).</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class StartupValidationTests
{
    private static Task<(int ExitCode, string Output)> StartWithAsync(string setting, string value) =>
        StartWithAsync(new Dictionary<string, string> { [setting] = value });

    private static async Task<(int ExitCode, string Output)> StartWithAsync(IReadOnlyDictionary<string, string> settings)
    {
        var data = TempDirectories.Create("validation");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["PythOn__DataDirectory"] = data,
                ["Kestrel__Endpoints__Rest__Url"] = "http://127.0.0.1:0",
                ["Kestrel__Endpoints__Grpc__Url"] = "http://127.0.0.1:0",
            };
            foreach (var (name, value) in settings) environment[name] = value;
            return await ProcessToExit.RunAsync(ServerBuild.Locate(), environment, TimeSpan.FromSeconds(60));
        }
        finally
        {
            TempDirectories.Delete(data);
        }
    }

    [Theory]
    [InlineData("PythOn__Limits__MaxCodeBytes", "-5", "PythOn:Limits:MaxCodeBytes")]
    [InlineData("PythOn__Limits__MaxConcurrentRunsPerUser", "0", "PythOn:Limits:MaxConcurrentRunsPerUser")]
    [InlineData("PythOn__RateLimits__UserPerMinute", "-1", "PythOn:RateLimits:UserPerMinute")]
    [InlineData("PythOn__ShutdownGraceSeconds", "-1", "PythOn:ShutdownGraceSeconds")]
    [InlineData("PythOn__Agents__0", "tcp:/agent", "PythOn:Agents")]
    [InlineData("PythOn__Storage__Provider", "MongoDB", "PythOn:Storage:Provider is 'MongoDB': use LiteDB or PostgreSQL")]
    [InlineData("PythOn__Storage__Provider", "PostgreSQL", "PythOn:Storage:ConnectionString is required when PythOn:Storage:Provider is PostgreSQL")]
    [InlineData("PythOn__Agents__0", "dns:///agents-without-a-port", "PythOn:Agents")]
    [InlineData("PythOn__Fleet__StatusIntervalMs", "5", "PythOn:Fleet:StatusIntervalMs")]
    [InlineData("PythOn__Fleet__DnsScheme", "ftp", "PythOn:Fleet:DnsScheme")]
    public async Task An_invalid_setting_stops_the_server_with_its_name(string variable, string value, string setting)
    {
        var (exitCode, output) = await StartWithAsync(variable, value);

        Assert.Equal(2, exitCode);
        Assert.Contains(setting, output);
        Assert.DoesNotContain("Now listening", output);
    }

    [Theory]
    [InlineData("PythOn:SecretsKey")]
    [InlineData("PythOn:Jwt:SigningKey")]
    public async Task PostgreSQL_storage_without_a_shared_key_stops_the_server_naming_the_key(string missing)
    {
        var key = Convert.ToBase64String(new byte[32]);
        var settings = new Dictionary<string, string>
        {
            ["PythOn__Storage__Provider"] = "PostgreSQL",
            ["PythOn__Storage__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=hunter2-not-shown",
            ["PythOn__SecretsKey"] = key,
            ["PythOn__Jwt__SigningKey"] = key,
        };
        settings.Remove(missing.Replace(":", "__"));

        var (exitCode, output) = await StartWithAsync(settings);

        Assert.Equal(2, exitCode);
        Assert.Contains($"{missing} is required when PythOn:Storage:Provider is PostgreSQL", output);
        Assert.DoesNotContain("hunter2-not-shown", output);
    }

    [Fact]
    public async Task A_key_of_the_wrong_length_is_named_without_showing_it()
    {
        var shortKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("sixteen byte key"));

        var (exitCode, output) = await StartWithAsync("PythOn__SecretsKey", shortKey);

        Assert.Equal(2, exitCode);
        Assert.Contains("PythOn:SecretsKey must decode to at least 32 bytes (it has 16)", output);
        Assert.DoesNotContain(shortKey, output);
    }
}
