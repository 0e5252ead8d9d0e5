using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Storage;
using Empty = Google.Protobuf.WellKnownTypes.Empty;

namespace PythOn.Server.Secrets;

[Authorize]
public sealed class SecretsService(SecretStore store, AuditLog audit) : PythOn.Api.V1.Secrets.SecretsBase
{
    public override async Task<SecretMetadata> PutSecret(PutSecretRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var record = store.Put(caller.UserId, request.Name, request.Secret?.Value);
        await audit.RecordAsync(caller.UserId, "secret.put", $"secret/{record.Name}", AuditOutcome.Success, caller.ClientAddress);
        return ToMetadata(record);
    }

    public override async Task<Empty> DeleteSecret(DeleteSecretRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        if (!store.Delete(caller.UserId, request.Name))
            throw Problems.NotFound($"you have no secret named '{request.Name}'.");
        await audit.RecordAsync(caller.UserId, "secret.delete", $"secret/{request.Name}", AuditOutcome.Success, caller.ClientAddress);
        return new Empty();
    }

    public override Task<ListSecretsResponse> ListSecrets(ListSecretsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var response = new ListSecretsResponse();
        response.Secrets.AddRange(store.List(caller.UserId).Select(ToMetadata));
        return Task.FromResult(response);
    }

    private static SecretMetadata ToMetadata(Storage.SecretRecord record) => new()
    {
        Name = record.Name,
        CreatedAt = Clock.ToTimestamp(record.CreatedAt),
        UpdatedAt = Clock.ToTimestamp(record.UpdatedAt),
    };
}
