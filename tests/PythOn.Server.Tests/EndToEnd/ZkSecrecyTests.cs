using System.Net;
using System.Text;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// One recorded zero-knowledge life on its own agent and server: a program encrypted on the client is stored, then run
/// with its master password; while it runs (it loops until its timeout) every container of the agent is inspected; then
/// the server is killed with SIGKILL (its writes stay in LiteDB's -log file) and its data files and both processes'
/// output are collected. The tests look for the program text and the password in everything recorded.
/// </summary>
public sealed class ZkSecrecyFixture : SandboxedServerFixture
{
    protected override string Purpose => "zk-secrecy";

    /// <summary>A distinctive line of the program's text that it never prints.</summary>
    public string ProgramMarker { get; } = $"zk-plain-{Guid.NewGuid():N}";
    public string MasterPassword { get; } = $"Master-{Guid.NewGuid():N}!";
    public string ProgramName { get; } = $"secret-prog-{Guid.NewGuid().ToString("N")[..8]}";

    public string RunningSandboxId { get; private set; } = "";
    /// <summary>`docker inspect` of the container that ran the program, taken while it ran.</summary>
    public string RunningSandboxInspect { get; private set; } = "";
    /// <summary>`docker inspect` of every container of the agent at that moment (the warm pool too).</summary>
    public string AllSandboxesInspect { get; private set; } = "";
    /// <summary>Command lines of the processes in the running sandbox.</summary>
    public IReadOnlyList<string> RunningSandboxProcesses { get; private set; } = [];
    public ExecuteResponse Result { get; private set; } = new();
    public string AuditBody { get; private set; } = "";
    public Dictionary<string, byte[]> DataFiles { get; private set; } = [];
    public string ServerOutput { get; private set; } = "";
    public string AgentOutput { get; private set; } = "";

    public string Code => $"import time\nMARKER = '{ProgramMarker}'\nprint('running', len(MARKER), flush=True)\nwhile True:\n    time.sleep(0.05)\n";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var user = await Users.RegisterAsync(Rest);
        var payload = await ZkPayloadV1.EncryptAsync(Code, MasterPassword);
        (await Rest.SendAsync(HttpMethod.Put, $"/api/v1/zk/code/{ProgramName}",
            $$"""{"encryptedPayload":{{Runs.Json(payload)}},"language":"python","description":"secrecy"}""", user.Key)).Expect(HttpStatusCode.OK);

        var run = Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = ProgramName, MasterPassword = MasterPassword, Timeout = 8 }, user.Key.Metadata)
            .ResponseAsync;
        RunningSandboxId = await Poll.ForAsync(() => DockerCli.FindRunningPythonProgramAsync(Agent.InstanceId), TimeSpan.FromSeconds(60),
            "a sandbox of the agent runs the decrypted program", () => run.IsCompleted ? $"the run already ended: {run.Status}" : "still running");
        RunningSandboxInspect = await DockerCli.InspectAsync(RunningSandboxId);
        RunningSandboxProcesses = await DockerCli.ProcessesAsync(RunningSandboxId);
        var all = await DockerCli.ContainersOfAgentAsync(Agent.InstanceId);
        AllSandboxesInspect = await DockerCli.RunAsync(["inspect", .. all.Select(c => c.Id)]);
        Result = await run;

        AuditBody = (await Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key)).Expect(HttpStatusCode.OK).Body;
        Server.Kill();
        DataFiles = Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        ServerOutput = Server.Output;
        AgentOutput = Agent.Log;
    }
}

/// <summary>Zero-knowledge secrecy: the program text and the master password appear nowhere the operator can look.</summary>
public sealed class ZkSecrecyTests(ZkSecrecyFixture life) : IClassFixture<ZkSecrecyFixture>
{
    private IEnumerable<(string What, string Value)> Secrets =>
        [("the program text", life.ProgramMarker), ("the master password", life.MasterPassword)];

    [Fact]
    public void The_recorded_run_decrypted_and_ran_the_program_until_its_timeout()
    {
        Assert.Equal("running 41\n", life.Result.Output);
        Assert.True(life.Result.TimedOut);
        Assert.True(life.Result.ZeroKnowledge);
    }

    [Fact]
    public void Docker_inspect_of_the_running_ZK_sandbox_holds_neither_the_program_nor_the_password()
    {
        Assert.Contains(life.RunningSandboxId, life.RunningSandboxInspect);
        foreach (var (what, value) in Secrets)
        {
            Assert.False(life.RunningSandboxInspect.Contains(value), $"docker inspect of the running sandbox shows {what}");
            Assert.False(life.AllSandboxesInspect.Contains(value), $"docker inspect of the agent's containers shows {what}");
        }
    }

    [Fact]
    public void The_process_list_of_the_running_ZK_sandbox_holds_neither_the_program_nor_the_password()
    {
        Assert.NotEmpty(life.RunningSandboxProcesses);
        foreach (var (what, value) in Secrets)
            Assert.DoesNotContain(life.RunningSandboxProcesses, p => p.Contains(value));
    }

    [Fact]
    public void The_database_file_and_its_log_hold_neither_the_program_nor_the_password()
    {
        // The scan reads the right files: the stored program's name is in them.
        Assert.Contains(life.DataFiles, f => Contains(f.Value, life.ProgramName));
        Assert.Contains("pyth-on.db", life.DataFiles.Keys);
        // After SIGKILL the latest writes sit in LiteDB's -log file: it is part of the scan.
        Assert.Contains("pyth-on-log.db", life.DataFiles.Keys);
        foreach (var (what, value) in Secrets)
        {
            var holding = life.DataFiles.Where(f => Contains(f.Value, value)).Select(f => f.Key).ToList();
            Assert.True(holding.Count == 0, $"{what} is in {string.Join(", ", holding)}");
        }
    }

    [Fact]
    public void The_server_output_holds_neither_the_program_nor_the_password()
    {
        foreach (var (what, value) in Secrets)
            Assert.False(life.ServerOutput.Contains(value), $"the server's output shows {what}");
    }

    [Fact]
    public void The_agent_output_holds_neither_the_program_nor_the_password()
    {
        Assert.NotEmpty(life.AgentOutput);
        foreach (var (what, value) in Secrets)
            Assert.False(life.AgentOutput.Contains(value), $"the agent's output shows {what}");
    }

    [Fact]
    public void The_audit_log_records_the_run_but_neither_the_program_nor_the_password()
    {
        Assert.Contains("zk.execute", life.AuditBody);
        foreach (var (what, value) in Secrets)
            Assert.False(life.AuditBody.Contains(value), $"the audit log shows {what}");
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0 || haystack.AsSpan().IndexOf(Encoding.Unicode.GetBytes(needle)) >= 0;
}
