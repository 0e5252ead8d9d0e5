using System.ClientModel;
using System.Net;
using Anthropic.Exceptions;
using Grpc.Core;
using PythOn.Server.Errors;

namespace PythOn.Server.Generation;

/// <summary>
/// Turns what a provider SDK throws into the API's statuses. Provider messages are passed on only for request errors
/// (a wrong model name, say), cut short and with the key removed; credential failures get a fixed message.
/// </summary>
public static class ProviderErrors
{
    public const string RateLimited = "the model provider is rate-limiting/overloaded; retry later.";
    public const string CredentialsRejected =
        "the server's model credentials were rejected by the model provider: the operator must fix PythOn:Model:ApiKey (or ANTHROPIC_API_KEY / OPENAI_API_KEY).";

    public static RpcException? Map(Exception e, string? apiKey) => e switch
    {
        AnthropicApiException a => FromStatus((int)a.StatusCode, a is AnthropicOverloadedException, a.ApiMessage ?? a.Message, apiKey),
        AnthropicIOException io => Unreachable(io.InnerException?.Message ?? io.Message, apiKey),
        ClientResultException c when c.Status > 0 => FromStatus(c.Status, false, c.Message, apiKey),
        ClientResultException c => Unreachable(c.InnerException?.Message ?? c.Message, apiKey),
        HttpRequestException h => h.StatusCode is { } status ? FromStatus((int)status, false, h.Message, apiKey) : Unreachable(h.Message, apiKey),
        _ => null,
    };

    public static RpcException Timeout(TimeSpan timeout) =>
        Problems.DeadlineExceeded($"the model provider did not answer within {timeout.TotalSeconds:0.###} s; retry later or raise PythOn:Model:TimeoutSeconds.");

    private static RpcException FromStatus(int status, bool overloaded, string? message, string? apiKey) => status switch
    {
        429 or 529 => Problems.Unavailable(RateLimited),
        _ when overloaded => Problems.Unavailable(RateLimited),
        401 or 403 => Problems.Unavailable(CredentialsRejected),
        408 => Problems.DeadlineExceeded("the model provider timed out (HTTP 408); retry later."),
        >= 500 => Problems.Unavailable($"the model provider failed (HTTP {status}); retry later."),
        _ => Problems.Unavailable($"the model provider refused the request (HTTP {status}): {Scrub(message, apiKey)}"),
    };

    private static RpcException Unreachable(string? detail, string? apiKey) =>
        Problems.Unavailable($"the model provider could not be reached: {Scrub(detail, apiKey)}");

    private static string Scrub(string? message, string? apiKey)
    {
        var text = (message ?? "").ReplaceLineEndings(" ").Trim();
        if (apiKey is { Length: > 0 }) text = text.Replace(apiKey, "***", StringComparison.Ordinal);
        return text.Length <= 300 ? text : text[..300] + "…";
    }
}
