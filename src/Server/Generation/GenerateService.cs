using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.RateLimiting;

namespace PythOn.Server.Generation;

/// <summary>Has the configured model write a program and, by default, runs it, repairing failures.</summary>
[Authorize]
public sealed class GenerateService(CodeGenerator generator, AuditLog audit, UserRunGate gate) : PythOn.Api.V1.Generate.GenerateBase
{
    public const int MaxPromptChars = 8000;
    public const int DefaultAttempts = 3;
    public const int MaxAttempts = 5;

    [EnableRateLimiting(RateLimits.GeneratePolicy)]
    public override async Task<GenerateResponse> Generate(GenerateRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var prompt = request.Prompt ?? "";
        if (prompt.Trim().Length == 0) throw Problems.Invalid("prompt is required: say what the program should do.");
        if (prompt.Length > MaxPromptChars)
            throw Problems.Invalid($"prompt is {prompt.Length} characters; the limit is {MaxPromptChars}.");
        var language = string.IsNullOrWhiteSpace(request.Language) ? LanguageRegistry.Python.Name : KnownLanguages.Require(request.Language);
        var attempts = request.HasMaxAttempts ? request.MaxAttempts : DefaultAttempts;
        if (attempts is < 1 or > MaxAttempts)
            throw Problems.Invalid($"max_attempts must be between 1 and {MaxAttempts} (got {request.MaxAttempts}).");
        var execute = !request.HasExecute || request.Execute;

        var details = new Dictionary<string, string>
        {
            ["language"] = language,
            ["prompt_chars"] = prompt.Length.ToString(),
            ["execute"] = execute ? "true" : "false",
            ["max_attempts"] = attempts.ToString(),
        };
        var progress = new GenerateProgress();
        // Its runs count against the caller's concurrent-run cap like any other (held for the whole generation).
        using var lease = execute ? gate.Enter(caller.UserId.ToString()) : null;
        try
        {
            var result = await generator.GenerateAsync(caller.UserId, prompt, language, execute, attempts, progress, context.CancellationToken);
            var response = result.Response;
            details["result"] = result.Outcome;
            details["attempts"] = response.Attempts.ToString();
            details["model"] = response.Model;
            details["executed"] = response.Executed ? "true" : "false";
            if (response.Executed) details["exit_code"] = response.ExitCode.ToString();
            if (response.Code.Length > 0)
                details["code_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(response.Code)));
            await Record(caller, language, result.Outcome == GenerateOutcomes.Success ? AuditOutcome.Success : AuditOutcome.Failure, details);
            return response;
        }
        catch (RpcException e)
        {
            details["result"] = "error";
            details["status"] = e.StatusCode.ToString();
            details["attempts"] = progress.Attempts.ToString();
            await Record(caller, language, AuditOutcome.Failure, details);
            throw;
        }
    }

    private Task Record(Caller caller, string language, string outcome, Dictionary<string, string> details) =>
        audit.RecordAsync(caller.UserId, "generate", $"generate/{language}", outcome, caller.ClientAddress, details);
}
