using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;
using PythOn.Server.Errors;

namespace PythOn.Server.Execution;

/// <summary>Code execution: the contract is final; runs are delegated to the sandbox agent once that lands.</summary>
[Authorize]
public sealed class ExecuteService : PythOn.Api.V1.Execute.ExecuteBase
{
    internal const string NotAvailable = "code execution is not available yet on this server: the sandbox agent integration has not been enabled.";

    public override Task<ExecuteResponse> Execute(ExecuteRequest request, ServerCallContext context) =>
        throw Problems.Unavailable(NotAvailable);

    public override Task ExecuteStream(ExecuteRequest request, IServerStreamWriter<ExecuteStreamEvent> responseStream, ServerCallContext context) =>
        throw Problems.Unavailable(NotAvailable);
}
