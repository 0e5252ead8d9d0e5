using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Sandbox.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Hosting;
using PythOn.Server.Packages;
using PythOn.Server.Secrets;
using PythOn.Server.Storage;
using Empty = Google.Protobuf.WellKnownTypes.Empty;

namespace PythOn.Server.ZeroKnowledge;

/// <summary>Zero-knowledge code: the server stores ciphertext and hands it, with the password, to the sandbox.</summary>
[Authorize]
public sealed class ZkService(ZkCodeStore store, ZkFailureLimiter failures, SandboxRunner runner, SecretStore secrets, RunPackages packages,
    AuditLog audit, UserRunGate gate, IOptions<PythOnOptions> options) : ZK.ZKBase
{
    public const string DecryptionFailed = "decryption failed: the master password is wrong or the stored payload was altered.";
    public const int MaxEncryptBytes = 64 * 1024;

    // Each derivation holds 64 MiB for about a second: bound how many run at once.
    private static readonly SemaphoreSlim EncryptSlots = new(2, 2);

    [EnableRateLimiting(RateLimiting.RateLimits.ZkEncryptPolicy)]
    public override async Task<ZKPayload> Encrypt(EncryptRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        if (string.IsNullOrEmpty(request.MasterPassword)) throw Problems.Invalid("masterPassword is required.");
        if (string.IsNullOrWhiteSpace(request.Code)) throw Problems.Invalid("code is required: the program to encrypt.");
        if (System.Text.Encoding.UTF8.GetByteCount(request.Code) > MaxEncryptBytes)
            throw Problems.Invalid($"code is larger than {MaxEncryptBytes} bytes, the limit of this testing helper: encrypt locally with the client library instead.");
        await EncryptSlots.WaitAsync(context.CancellationToken);
        try
        {
            var payload = await ZkPayloadV1.EncryptAsync(request.Code, request.MasterPassword);
            await audit.RecordAsync(caller.UserId, "zk.encrypt", "", AuditOutcome.Success, caller.ClientAddress);
            return payload;
        }
        finally
        {
            EncryptSlots.Release();
        }
    }

    public override async Task<StoreCodeResponse> StoreCode(StoreCodeRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var record = store.Store(caller.UserId, request);
        await audit.RecordAsync(caller.UserId, "zk.store", $"zk/{record.Name}", AuditOutcome.Success, caller.ClientAddress,
            new Dictionary<string, string> { ["language"] = record.Language, ["ciphertext_bytes"] = record.Ciphertext.Length.ToString() });
        return new StoreCodeResponse
        {
            Name = record.Name,
            Language = record.Language,
            Description = record.Description,
            Stored = true,
            ZeroKnowledge = true,
        };
    }

    public override async Task<Empty> DeleteCode(DeleteCodeRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        if (!store.Delete(caller.UserId, request.Name)) throw Problems.NotFound($"you have no stored program named '{request.Name}'.");
        await audit.RecordAsync(caller.UserId, "zk.delete", $"zk/{request.Name}", AuditOutcome.Success, caller.ClientAddress);
        return new Empty();
    }

    public override Task<ListCodeResponse> ListCode(ListCodeRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var response = new ListCodeResponse();
        response.Code.AddRange(store.List(caller.UserId).Select(r => new EncryptedCodeMetadata
        {
            Name = r.Name,
            Language = r.Language,
            Description = r.Description,
            Size = r.Ciphertext.Length,
            CreatedAt = Clock.ToTimestamp(r.CreatedAt),
            UpdatedAt = Clock.ToTimestamp(r.UpdatedAt),
        }));
        return Task.FromResult(response);
    }

    public override async Task<ExecuteResponse> ExecuteCode(ExecuteCodeRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var record = store.Find(caller.UserId, request.Name) ?? throw Problems.NotFound($"you have no stored program named '{request.Name}'.");
        if (string.IsNullOrEmpty(request.MasterPassword)) throw Problems.Invalid("masterPassword is required.");

        var plan = RunPlans.Create(options.Value.Limits, record.Language, code: "", request.Stdin, request.Args,
            new Dictionary<string, string>(), request.HasTimeout ? request.Timeout : null, secrets.Reveal(caller.UserId), codeRequired: false);
        plan = plan with { Packages = await packages.ForRunAsync(caller.UserId, plan.Language, request.Packages, context.CancellationToken) };
        var job = new ZkJob
        {
            V = ZkPayloadV1.Version,
            Salt = Convert.ToBase64String(record.Salt),
            Nonce = Convert.ToBase64String(record.Nonce),
            Ciphertext = Convert.ToBase64String(record.Ciphertext),
            MasterPassword = request.MasterPassword,
        };
        RunOutcome outcome;
        using var lease = gate.Enter(caller.UserId.ToString());
        // Reserved before the run: concurrent guesses cannot together exceed the budget.
        using (var attempt = failures.Begin(caller.UserId, record.Name))
        {
            outcome = await runner.RunAsync(plan, job, onChunk: null, context.CancellationToken);
            if (outcome.ZkDecryptionFailed) attempt.Failed();
        }
        if (outcome.ZkDecryptionFailed)
        {
            await audit.RecordAsync(caller.UserId, "zk.execute", $"zk/{record.Name}", AuditOutcome.Denied, caller.ClientAddress,
                new Dictionary<string, string> { ["reason"] = "decryption failed" });
            throw Problems.PermissionDenied(DecryptionFailed);
        }

        var response = outcome.Response;
        response.ZeroKnowledge = true;
        await audit.RecordAsync(caller.UserId, "zk.execute", $"zk/{record.Name}", response.ExitCode == 0 ? AuditOutcome.Success : AuditOutcome.Failure,
            caller.ClientAddress, new Dictionary<string, string>
            {
                ["language"] = record.Language,
                ["duration_ms"] = response.DurationMs.ToString(),
                ["exit_code"] = response.ExitCode.ToString(),
            });
        return response;
    }
}
