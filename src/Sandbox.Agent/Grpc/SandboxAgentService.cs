using Grpc.Core;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runs;
using PythOn.Sandbox.Agent.Status;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Grpc;

/// <summary>gRPC adapter: maps requests to the run and status logic and rejections to status codes.</summary>
public sealed class SandboxAgentService(RunExecutor runs, PackageInstaller installer, StatusReporter status, Hosting.ShutdownDrain drain) : SandboxAgent.SandboxAgentBase
{
    public override async Task Run(RunRequest request, IServerStreamWriter<RunEvent> responseStream, ServerCallContext context)
    {
        try
        {
            await runs.RunAsync(request, e => responseStream.WriteAsync(e), context.CancellationToken);
        }
        catch (RunRejectedException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task Interact(IAsyncStreamReader<InteractRequest> requestStream, IServerStreamWriter<RunEvent> responseStream,
        ServerCallContext context)
    {
        try
        {
            await runs.InteractAsync(requestStream, e => responseStream.WriteAsync(e), context.CancellationToken);
        }
        catch (RunRejectedException e)
        {
            throw ToRpc(e);
        }
    }

    public override async Task InstallPackages(InstallRequest request, IServerStreamWriter<InstallEvent> responseStream, ServerCallContext context)
    {
        try
        {
            if (drain.Draining)
                throw Hosting.ShutdownDrain.RefusedWhileDraining("installs");
            await installer.InstallAsync(request, e => responseStream.WriteAsync(e), context.CancellationToken);
        }
        catch (RunRejectedException e)
        {
            throw ToRpc(e);
        }
    }

    private static RpcException ToRpc(RunRejectedException e) => new(new global::Grpc.Core.Status(e.Reason switch
    {
        RunRejection.InvalidArgument => StatusCode.InvalidArgument,
        RunRejection.FailedPrecondition => StatusCode.FailedPrecondition,
        RunRejection.ResourceExhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.Unavailable,
    }, e.Message));

    public override Task<AgentStatus> GetStatus(GetStatusRequest request, ServerCallContext context) =>
        status.GetAsync(context.CancellationToken);
}
