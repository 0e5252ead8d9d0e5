using Grpc.Health.V1;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.Server.Agents;

/// <summary>What the fleet knows of one agent at a moment.</summary>
/// <param name="OutReason">Why it is out of rotation; null while it is in.</param>
/// <param name="Status">Its last GetStatus answer; null before the first.</param>
/// <param name="Answered">Its last probe was answered.</param>
/// <param name="LastError">Why its last probe or call did not reach it.</param>
public sealed record AgentView(string Address, string? OutReason, AgentStatus? Status, bool Answered, string? LastError,
    IReadOnlyDictionary<string, int> OursAtStatus, IReadOnlyDictionary<string, int> OursNow)
{
    public bool InRotation => OutReason is null;
    public int OursTotal => OursNow.Values.Sum();

    public AgentLoad LoadFor(string? language)
    {
        var ours = language is null ? OursTotal : OursNow.GetValueOrDefault(language);
        if (Status is null) return new(InRotation, false, null, 0, 0, ours, OursTotal);
        // An install uses no slot: its load is our calls only (the agent runs its installs in a container of their own).
        if (language is null) return new(InRotation, Status.Draining, Status.PoolTarget.Values.Sum() > 0 ? 1 : 0, 1, 0, 0, OursTotal);
        return new(InRotation, Status.Draining, Status.PoolTarget.GetValueOrDefault(language), Status.PoolReady.GetValueOrDefault(language),
            OursAtStatus.GetValueOrDefault(language), ours, OursTotal);
    }
}

/// <summary>
/// One agent of the fleet: its channel, whether it is in rotation, its last status, and this server's calls in flight
/// on it. A member that DNS no longer lists is retired: its channel closes when its last call ends.
/// </summary>
public sealed class AgentMember(AgentEndpoint endpoint, GrpcChannel channel)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _ours = new(StringComparer.Ordinal);
    private Dictionary<string, int> _oursAtStatus = new(StringComparer.Ordinal);
    private AgentStatus? _status;
    private string? _outReason;
    private int _failures;
    private bool _answered;
    private string? _lastError;
    private bool _retired;

    public AgentEndpoint Endpoint { get; } = endpoint;
    public string Address => Endpoint.Address;
    public SandboxAgent.SandboxAgentClient Client { get; } = new(channel);
    public Health.HealthClient Health { get; } = new(channel);

    public AgentView View()
    {
        lock (_gate) return new AgentView(Address, _outReason, _status, _answered, _lastError, _oursAtStatus, new Dictionary<string, int>(_ours));
    }

    /// <summary>Counts a call (a run of <paramref name="kind"/>, or "install") in flight until the lease is disposed.</summary>
    public IDisposable Begin(string kind)
    {
        lock (_gate) _ours[kind] = _ours.GetValueOrDefault(kind) + 1;
        return new Lease(this, kind);
    }

    internal Dictionary<string, int> OursNow()
    {
        lock (_gate) return new Dictionary<string, int>(_ours);
    }

    /// <summary>A probe answered. <paramref name="ours"/> is our in-flight count taken around the probe.</summary>
    internal void Answered(AgentStatus status, string? notServingReason, Dictionary<string, int> ours)
    {
        lock (_gate)
        {
            _status = status;
            _oursAtStatus = ours;
            _failures = 0;
            _answered = true;
            _lastError = null;
            _outReason = notServingReason;
        }
    }

    /// <summary>A probe got no answer; after <paramref name="failuresToEject"/> in a row the agent is out.</summary>
    internal void Unanswered(string reason, int failuresToEject)
    {
        lock (_gate)
        {
            _answered = false;
            _lastError = reason;
            if (++_failures >= failuresToEject) _outReason = reason;
        }
    }

    /// <summary>A call could not reach the agent: out at once, until a probe answers again.</summary>
    internal void Unreachable(string reason)
    {
        lock (_gate)
        {
            _failures = Math.Max(_failures, 1);
            _answered = false;
            _lastError = reason;
            _outReason = reason;
        }
    }

    internal void Retire()
    {
        lock (_gate)
        {
            _retired = true;
            if (_ours.Values.Sum() > 0) return;
        }
        channel.Dispose();
    }

    private void End(string kind)
    {
        bool close;
        lock (_gate)
        {
            if (--_ours[kind] == 0) _ours.Remove(kind);
            close = _retired && _ours.Count == 0;
        }
        if (close) channel.Dispose();
    }

    private sealed class Lease(AgentMember member, string kind) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) member.End(kind);
        }
    }
}
