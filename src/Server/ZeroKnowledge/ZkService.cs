using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;
using PythOn.Server.Errors;
using Empty = Google.Protobuf.WellKnownTypes.Empty;

namespace PythOn.Server.ZeroKnowledge;

[Authorize]
public sealed class ZkService : ZK.ZKBase
{
    private const string NotAvailable = "zero-knowledge code is not available yet on this server.";

    public override Task<ZKPayload> Encrypt(EncryptRequest request, ServerCallContext context) => throw Problems.Unavailable(NotAvailable);
    public override Task<StoreCodeResponse> StoreCode(StoreCodeRequest request, ServerCallContext context) => throw Problems.Unavailable(NotAvailable);
    public override Task<Empty> DeleteCode(DeleteCodeRequest request, ServerCallContext context) => throw Problems.Unavailable(NotAvailable);
    public override Task<ListCodeResponse> ListCode(ListCodeRequest request, ServerCallContext context) => throw Problems.Unavailable(NotAvailable);
    public override Task<ExecuteResponse> ExecuteCode(ExecuteCodeRequest request, ServerCallContext context) => throw Problems.Unavailable(NotAvailable);
}
