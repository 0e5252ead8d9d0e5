namespace PythOn.Server.Agents;

/// <summary>How the server finds and watches its agents (section PythOn:Fleet).</summary>
public sealed class AgentFleetOptions
{
    /// <summary>How often a dns:/// entry of PythOn:Agents is resolved again: agents appear and go with its records.</summary>
    public double ResolveSeconds { get; set; } = 15;

    /// <summary>How often each agent is asked for its status (load: idle slots per language) and its grpc.health.v1 state.</summary>
    public int StatusIntervalMs { get; set; } = 1000;

    /// <summary>Deadline of one status and health probe.</summary>
    public int StatusTimeoutMs { get; set; } = 1500;

    /// <summary>Probes in a row that must fail (no answer, or NOT_SERVING) before an agent is taken out of rotation;
    /// one answered probe puts it back. A run whose call cannot reach an agent takes it out at once.</summary>
    public int FailuresToEject { get; set; } = 2;

    /// <summary>Transport of the agents a dns:/// entry finds: "https" (TLS, the certificate checked against the DNS
    /// name) or "http" (cleartext: the name must be localhost, or PythOn:AllowCleartextAgents set).</summary>
    public string DnsScheme { get; set; } = "https";
}
