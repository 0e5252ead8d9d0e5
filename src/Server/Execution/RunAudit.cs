using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;

namespace PythOn.Server.Execution;

/// <summary>The audit entry of a run (Execute, ExecuteStream, Interact): facts about it, never its code or output.</summary>
public static class RunAudit
{
    public static Task RecordAsync(AuditLog audit, Caller caller, RunPlan plan, ExecuteResponse response, string action) =>
        audit.RecordAsync(caller.UserId, action, $"run/{plan.Language}", response.ExitCode == 0 ? AuditOutcome.Success : AuditOutcome.Failure,
            caller.ClientAddress, new Dictionary<string, string>
            {
                ["language"] = plan.Language,
                ["duration_ms"] = response.DurationMs.ToString(),
                ["exit_code"] = response.ExitCode.ToString(),
                ["timed_out"] = response.TimedOut ? "true" : "false",
                ["code_sha256"] = plan.CodeSha256,
                ["code_bytes"] = System.Text.Encoding.UTF8.GetByteCount(plan.Code).ToString(),
            });
}
