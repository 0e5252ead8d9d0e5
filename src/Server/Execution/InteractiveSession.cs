using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;

namespace PythOn.Server.Execution;

/// <summary>An interactive run for one caller, whatever carries it (gRPC Execute.Interact or the WebSocket endpoint):
/// validated like Execute, counted against the caller's run cap, masked, audited as "execute.interact".</summary>
public sealed class InteractiveSession(SandboxRunner runner, ExecutePlans plans, AuditLog audit, UserRunGate gate)
{
    public const double DefaultIdleSeconds = 30;
    public const double MaxIdleSeconds = 600;

    public async Task RunAsync(Caller caller, InteractRequest first, Func<CancellationToken, Task<InteractRequest?>> next,
        Func<ExecuteStreamEvent, Task> emit, CancellationToken cancellationToken)
    {
        if (first.InputCase != InteractRequest.InputOneofCase.Start || first.Start.Run is null)
            throw Problems.Invalid("the first message of an interactive run must be `start` with the run: {\"start\":{\"run\":{\"language\":\"python\",\"code\":\"...\"}}}.");
        var start = first.Start;
        var idle = start.HasIdleTimeout ? start.IdleTimeout : DefaultIdleSeconds;
        if (double.IsNaN(idle) || idle <= 0 || idle > MaxIdleSeconds)
            throw Problems.Invalid($"start.idleTimeout must be more than 0 and at most {MaxIdleSeconds} seconds.");
        var plan = await plans.CreateAsync(caller, start.Run, cancellationToken);

        using var lease = gate.Enter(caller.UserId.ToString());
        var outcome = await runner.RunAsync(plan, zk: null, chunk => emit(new ExecuteStreamEvent { Chunk = chunk }), cancellationToken,
            new InteractiveInput(next, TimeSpan.FromSeconds(idle)));
        await RunAudit.RecordAsync(audit, caller, plan, outcome.Response, "execute.interact");
        await emit(new ExecuteStreamEvent { Result = outcome.Response });
    }
}
