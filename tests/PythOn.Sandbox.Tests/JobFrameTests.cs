using System.Text;
using System.Text.Json;
using PythOn.Sandbox.Tests.Infrastructure;

namespace PythOn.Sandbox.Tests;

/// <summary>A run sandbox's init (runtime/init.c) reads the job frame itself (runtime/README.md, "Job frame") and checks
/// it again. The agent validates every job before it builds a frame, so a malformed one cannot come through the API:
/// a probe inside a live slot (Scripts/job-frame-probe.py) hands each frame to a fresh run sandbox the way the zygote
/// and the supervisor would.</summary>
[Collection(SandboxCollection.Name)]
public sealed class JobFrameTests(OneSlotAgent one) : IClassFixture<OneSlotAgent>
{
    private const string ProgramJob = """{"code": "print(1)", "args": [], "env": {}, "package_stores": []}""";
    private const string ValidStore = "py-0123456789abcdef0123456789abcdef01234567";

    private sealed record Probe(string Stdout, IReadOnlyList<string> Status, int InitExit);

    private async Task<Probe> ProbeAsync(string frame)
    {
        var slot = (await one.Agent.Client.RunAsync(Runs.Python("pass"))).Started.SandboxId;
        var user = (await DockerCli.RunAsync("inspect", "-f", "{{.Config.User}}", slot)).Trim();
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Scripts", "job-frame-probe.py"));
        var output = await DockerCli.RunAsync("exec", "-u", user, slot, "python3", "-I", "-c", script,
            Convert.ToBase64String(Encoding.UTF8.GetBytes(frame)));
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        return new Probe(root.GetProperty("stdout").GetString()!,
            root.GetProperty("status").EnumerateArray().Select(s => s.GetString()!).ToList(),
            root.GetProperty("init_exit").GetInt32());
    }

    private static void AssertRefused(Probe probe, string error)
    {
        Assert.Contains($"error SetupError: {error}", probe.Status);
        Assert.Equal("", probe.Stdout); // the program got nothing to run
        Assert.DoesNotContain(probe.Status, line => line.StartsWith("exit "));
        Assert.Equal(70, probe.InitExit);
    }

    [Fact]
    public async Task A_well_formed_frame_runs_its_program()
    {
        var probe = await ProbeAsync("1 0\n" + ProgramJob);
        Assert.Equal("1\n", probe.Stdout);
        Assert.Equal(["ready", "exit 0"], probe.Status);
        Assert.Equal(0, probe.InitExit);
    }

    [Theory]
    [InlineData("", "the job ended before its header")]
    [InlineData("2 0\n" + ProgramJob, "unknown job header")]
    [InlineData("1\n" + ProgramJob, "unknown job header")]
    [InlineData("1 -1\n" + ProgramJob, "invalid zero-knowledge length")]
    [InlineData("1 12x\n" + ProgramJob, "invalid zero-knowledge length")]
    [InlineData("1 33554433\n" + ProgramJob, "invalid zero-knowledge length")] // 32 MiB + 1
    [InlineData("1 0 py-../../../etc\n" + ProgramJob, "invalid package store id")]
    [InlineData("1 0 py-0123456789abcdef0123456789abcdef0123456G\n" + ProgramJob, "invalid package store id")]
    [InlineData("1 0 rb-0123456789abcdef0123456789abcdef01234567\n" + ProgramJob, "invalid package store id")]
    [InlineData("1 100000\n{}", "the job ended early")]
    public async Task Init_refuses_a_malformed_frame_before_the_program_gets_anything(string frame, string error) =>
        AssertRefused(await ProbeAsync(frame), error);

    [Fact]
    public async Task Init_refuses_a_header_longer_than_4_KiB() =>
        AssertRefused(await ProbeAsync("1 0 " + new string('a', 5000) + "\n" + ProgramJob), "the job's header is too long");

    [Fact]
    public async Task Init_refuses_more_than_64_package_stores() =>
        AssertRefused(await ProbeAsync("1 0 " + string.Join(' ', Enumerable.Repeat(ValidStore, 65)) + "\n" + ProgramJob),
            "too many package stores");
}
