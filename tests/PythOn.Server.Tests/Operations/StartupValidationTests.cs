using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Operations;

/// <summary>An invalid setting stops the server before it listens, with a message naming the setting (and never the
/// value of a secret one).</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class StartupValidationTests
{
    private static async Task<(int ExitCode, string Output)> StartWithAsync(string setting, string value)
    {
        var data = TempDirectories.Create("validation");
        try
        {
            return await ProcessToExit.RunAsync(ServerBuild.Locate(), new Dictionary<string, string>
            {
                ["PythOn__DataDirectory"] = data,
                ["Kestrel__Endpoints__Rest__Url"] = "http://127.0.0.1:0",
                ["Kestrel__Endpoints__Grpc__Url"] = "http://127.0.0.1:0",
                [setting] = value,
            }, TimeSpan.FromSeconds(60));
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
