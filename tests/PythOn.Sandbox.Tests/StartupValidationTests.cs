namespace PythOn.Sandbox.Tests;

/// <summary>An invalid setting stops the agent before it listens, with a message naming the setting.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class StartupValidationTests
{
    private static async Task<(int ExitCode, string Output, bool Listened)> StartWithAsync(string setting, string value)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pyth-on-agent-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(dir);
        try
        {
            var (code, output) = await ProcessToExit.RunAsync(Repo.AgentDll, new Dictionary<string, string>
            {
                ["Agent__SocketPath"] = AgentProcess.SocketPathIn(dir),
                ["Agent__StateDir"] = dir,
                ["Agent__InstanceId"] = "validation-" + Guid.NewGuid().ToString("N")[..8],
                ["Agent__Packages__StoreRoot"] = Path.Combine(dir, "stores"),
                [setting] = value,
            }, TimeSpan.FromSeconds(60));
            return (code, output, File.Exists(AgentProcess.SocketPathIn(dir)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("Agent__Pool__Python", "-1", "Agent:Pool:Python")]
    [InlineData("Agent__Limits__MemoryMb", "-256", "Agent:Limits:MemoryMb")]
    [InlineData("Agent__Pool__RunsPerSlot", "0", "Agent:Pool:RunsPerSlot")]
    [InlineData("Agent__DockerEndpoint", "not a uri", "Agent:DockerEndpoint")]
    [InlineData("Agent__ShutdownGraceSeconds", "-5", "Agent:ShutdownGraceSeconds")]
    [InlineData("Agent__ListenTcp", "localhost", "Agent:ListenTcp")]
    [InlineData("Agent__StateDir", "/tmp/a-state-directory-too-long-for-the-unix-sockets-of-its-slots/0123456789abcdef", "Agent:StateDir")]
    public async Task An_invalid_setting_stops_the_agent_with_its_name(string variable, string value, string setting)
    {
        var (exitCode, output, listened) = await StartWithAsync(variable, value);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(setting, output);
        Assert.False(listened, "the agent listened before refusing its configuration");
    }
}
