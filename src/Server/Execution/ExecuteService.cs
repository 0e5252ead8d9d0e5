using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;
using PythOn.Server.Packages;
using PythOn.Server.Secrets;

namespace PythOn.Server.Execution;

/// <summary>Runs code in the sandbox with the caller's secrets as environment variables.</summary>
[Authorize]
public sealed class ExecuteService(SandboxRunner runner, ExecutePlans plans, AuditLog audit, UserRunGate gate,
    InteractiveSession interactive)
    : PythOn.Api.V1.Execute.ExecuteBase
{
    public override async Task<ExecuteResponse> Execute(ExecuteRequest request, ServerCallContext context)
    {
        var (caller, plan) = await PrepareAsync(request, context);
        using var lease = gate.Enter(caller.UserId.ToString());
        var outcome = await runner.RunAsync(plan, zk: null, onChunk: null, context.CancellationToken);
        await Audit(caller, plan, outcome.Response, "execute.run");
        return outcome.Response;
    }

    public override async Task ExecuteStream(ExecuteRequest request, IServerStreamWriter<ExecuteStreamEvent> responseStream, ServerCallContext context)
    {
        var (caller, plan) = await PrepareAsync(request, context);
        using var lease = gate.Enter(caller.UserId.ToString());
        var outcome = await runner.RunAsync(plan, zk: null,
            chunk => responseStream.WriteAsync(new ExecuteStreamEvent { Chunk = chunk }), context.CancellationToken);
        await Audit(caller, plan, outcome.Response, "execute.stream");
        await responseStream.WriteAsync(new ExecuteStreamEvent { Result = outcome.Response });
    }

    public override async Task Interact(IAsyncStreamReader<InteractRequest> requestStream, IServerStreamWriter<ExecuteStreamEvent> responseStream,
        ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken))
            throw Problems.Invalid("the call ended before its first message, `start` with the run.");
        await interactive.RunAsync(context.Caller(), requestStream.Current, InteractiveInput.From(requestStream),
            e => responseStream.WriteAsync(e), context.CancellationToken);
    }

    private async Task<(Caller, RunPlan)> PrepareAsync(ExecuteRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        return (caller, await plans.CreateAsync(caller, request, context.CancellationToken));
    }

    private Task Audit(Caller caller, RunPlan plan, ExecuteResponse response, string action) =>
        RunAudit.RecordAsync(audit, caller, plan, response, action);
}
