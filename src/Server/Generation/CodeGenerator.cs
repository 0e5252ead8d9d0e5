using Grpc.Core;
using LiteDB;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Hosting;
using PythOn.Server.Packages;
using PythOn.Server.Secrets;
using PythOn.Server.SystemInfo;

namespace PythOn.Server.Generation;

/// <summary>How a generate call ended, for the audit log.</summary>
public static class GenerateOutcomes
{
    /// <summary>Code found and, when executed, it exited 0.</summary>
    public const string Success = "success";
    /// <summary>Every round's program failed in the sandbox; the last one's result is returned.</summary>
    public const string RunFailed = "run_failed";
    /// <summary>No round's reply held a program.</summary>
    public const string NoCode = "no_code";
}

public sealed record GenerateResult(GenerateResponse Response, string Outcome);

/// <summary>How far a generate call got, readable when it fails midway.</summary>
public sealed class GenerateProgress
{
    /// <summary>Rounds started (model asked).</summary>
    public int Attempts { get; set; }
}

/// <summary>
/// The generate loop: one conversation with the model; each reply's program is extracted and (unless execute is
/// off) run in the sandbox with the user's secrets; a reply without a program, a non-zero exit or a timeout goes
/// back to the model as a repair request, until a program works or the rounds are used up.
/// </summary>
public sealed class CodeGenerator(
    ChatClients chats,
    ModelSettings settings,
    SandboxRunner runner,
    SecretStore secrets,
    PackageList packages,
    RunPackages runPackages,
    IOptions<PythOnOptions> options,
    ILogger<CodeGenerator> logger)
{
    public async Task<GenerateResult> GenerateAsync(ObjectId userId, string prompt, string language, bool execute, int maxAttempts,
        GenerateProgress progress, CancellationToken cancellationToken)
    {
        var client = chats.Client
            ?? throw Problems.Unavailable($"code generation needs a language model, and this server has none: {settings.Problem}.");
        var limits = options.Value.Limits;
        var facts = new SandboxFacts(
            language,
            secrets.List(userId).Select(s => s.Name).ToList(),
            packages.List(userId, language).Select(p => p.Requirement).ToList(),
            limits.DefaultTimeoutSeconds,
            limits.MemoryMb,
            limits.MaxOutputBytes);

        List<ChatMessage> conversation =
        [
            new(ChatRole.System, Prompts.System(facts)),
            new(ChatRole.User, Prompts.Request(prompt, language)),
        ];
        var model = settings.Model ?? "";
        GenerateResponse? lastProgram = null;
        var lastExplanation = "";
        IReadOnlyDictionary<string, string>? secretValues = null;

        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            progress.Attempts = attempt;
            var reply = await AskAsync(client, conversation, cancellationToken);
            if (!string.IsNullOrEmpty(reply.ModelId)) model = reply.ModelId;
            var text = reply.Text ?? "";
            conversation.Add(new ChatMessage(ChatRole.Assistant, text));

            var extracted = CodeExtractor.Extract(text, language);
            lastExplanation = extracted.Explanation;
            if (extracted.Code is null)
            {
                logger.LogInformation("Generate round {Attempt}: the model's reply held no program", attempt);
                conversation.Add(new ChatMessage(ChatRole.User, Prompts.RepairNoCode(language)));
                continue;
            }

            var response = new GenerateResponse
            {
                Code = extracted.Code,
                Language = language,
                Explanation = extracted.Explanation,
                Attempts = attempt,
                Model = model,
            };
            if (!execute) return new GenerateResult(response, GenerateOutcomes.Success);

            RunPlan plan;
            try
            {
                secretValues ??= secrets.Reveal(userId);
                plan = RunPlans.Create(limits, language, extracted.Code, "", [], new Dictionary<string, string>(), null, secretValues);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
            {
                // The program itself is unacceptable (too large, say): the model can fix that like any failure.
                response.Error = $"the program was not run: {e.Status.Detail}";
                response.ExitCode = -1;
                lastProgram = response;
                conversation.Add(new ChatMessage(ChatRole.User, Prompts.RepairRunFailed(language, -1, false, 0, "", response.Error)));
                continue;
            }

            // The user's package list, installed, is importable here as in every run.
            plan = plan with { Packages = await runPackages.ForRunAsync(userId, language, [], cancellationToken) };
            var run = (await runner.RunAsync(plan, zk: null, onChunk: null, cancellationToken)).Response;
            response.Executed = true;
            response.Output = run.Output;
            response.Error = run.Error;
            response.ExitCode = run.ExitCode;
            if (run.ExitCode == 0 && !run.TimedOut) return new GenerateResult(response, GenerateOutcomes.Success);

            logger.LogInformation("Generate round {Attempt}: the program exited {ExitCode} (timed out: {TimedOut})", attempt, run.ExitCode, run.TimedOut);
            lastProgram = response;
            conversation.Add(new ChatMessage(ChatRole.User,
                Prompts.RepairRunFailed(language, run.ExitCode, run.TimedOut, plan.Timeout.TotalSeconds, run.Output, run.Error)));
        }

        if (lastProgram is not null)
        {
            lastProgram.Attempts = maxAttempts;
            lastProgram.Model = model;
            return new GenerateResult(lastProgram, GenerateOutcomes.RunFailed);
        }
        return new GenerateResult(new GenerateResponse
        {
            Code = "",
            Language = language,
            Explanation = lastExplanation,
            Executed = false,
            Error = $"the model's replies held no program in a fenced code block ({maxAttempts} attempts); rephrase the prompt.",
            Attempts = maxAttempts,
            Model = model,
        }, GenerateOutcomes.NoCode);
    }

    private async Task<ChatResponse> AskAsync(IChatClient client, List<ChatMessage> conversation, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        try
        {
            return await client.GetResponseAsync(conversation, new ChatOptions { MaxOutputTokens = ChatClients.MaxOutputTokens }, deadline.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && (deadline.IsCancellationRequested || e is TimeoutException))
        {
            logger.LogWarning("The model provider did not answer within {Timeout}", settings.Timeout);
            throw ProviderErrors.Timeout(settings.Timeout);
        }
        catch (Exception e) when (ProviderErrors.Map(e, settings.ApiKey) is { } mapped)
        {
            // The exception's text may quote the provider's answer; the status is what the operator needs.
            logger.LogWarning("The model provider failed: {Type} → {Status}: {Detail}", e.GetType().Name, mapped.StatusCode, mapped.Status.Detail);
            throw mapped;
        }
    }
}
