namespace PythOn.TestSupport;

/// <summary>
/// A real agent serving TCP on 127.0.0.1 with TLS, client certificates (Agent:Tls, mutual TLS) and a token; the CA and
/// the agent's certificate are made by the test (<see cref="TestCertificateAuthority"/>) in a directory of its own.
/// </summary>
public sealed class MutualTlsAgent : IAsyncDisposable
{
    private MutualTlsAgent(string dir, TestCertificateAuthority ca, int port, string token, AgentProcess agent) =>
        (Dir, Ca, Port, Token, Agent) = (dir, ca, port, token, agent);

    public string Dir { get; }
    /// <summary>The CA of the agent's certificate and of the client certificates it accepts.</summary>
    public TestCertificateAuthority Ca { get; }
    public int Port { get; }
    public string Token { get; }
    public AgentProcess Agent { get; }

    public static async Task<MutualTlsAgent> StartAsync(string purpose)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pyth-on-{purpose}-" + Guid.NewGuid().ToString("N")[..8]);
        var token = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(33));
        var ca = new TestCertificateAuthority(dir, "agents");
        var server = ca.IssueServer("agent");
        var (agent, port) = await AgentProcess.StartOnFreeLoopbackPortAsync(port => AgentProcess.StartAsync(purpose, pythonPool: 1,
            javaScriptPool: 0, new Dictionary<string, string>
            {
                ["Agent__ListenTcp"] = $"127.0.0.1:{port}",
                ["Agent__AuthToken"] = token,
                ["Agent__Tls__CertificatePath"] = server.CertificatePath,
                ["Agent__Tls__KeyPath"] = server.KeyPath,
                ["Agent__Tls__ClientCaPath"] = ca.CertificatePath,
            }));
        return new MutualTlsAgent(dir, ca, port, token, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
