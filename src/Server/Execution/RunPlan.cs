using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;

namespace PythOn.Server.Execution;

/// <summary>A validated run: what the agent gets, plus what the server needs to mask and audit it.</summary>
public sealed record RunPlan(
    string Language,
    string Code,
    string Stdin,
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyCollection<string> SecretValues,
    TimeSpan Timeout)
{
    /// <summary>Requirements to make importable (the caller's list plus the request's packages); empty for none.</summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    public string CodeSha256 => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Code)));
}

public static partial class RunPlans
{
    public const int MaxArgs = 64;
    public const int MaxArgBytes = 4096;
    public const int MaxEnvVars = 64;
    public const int MaxEnvBytes = 64 * 1024;

    /// <summary>Validates the caller's part of a run; secrets override same-named env vars.</summary>
    public static RunPlan Create(LimitOptions limits, string? language, string? code, string? stdin, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> env, double? timeoutSeconds, IReadOnlyDictionary<string, string> secrets, bool codeRequired = true)
    {
        var lang = KnownLanguages.Require(language);

        code ??= "";
        if (codeRequired && code.Trim().Length == 0) throw Problems.Invalid("code is required.");
        var codeBytes = Encoding.UTF8.GetByteCount(code);
        if (codeBytes > limits.MaxCodeBytes)
            throw Problems.Invalid($"code is {codeBytes} bytes; the limit is {limits.MaxCodeBytes} bytes.");
        stdin ??= "";
        var stdinBytes = Encoding.UTF8.GetByteCount(stdin);
        if (stdinBytes > limits.MaxStdinBytes)
            throw Problems.Invalid($"stdin is {stdinBytes} bytes; the limit is {limits.MaxStdinBytes} bytes.");

        var argList = args.ToList();
        if (argList.Count > MaxArgs) throw Problems.Invalid($"{argList.Count} args given; the limit is {MaxArgs}.");
        if (argList.Any(a => Encoding.UTF8.GetByteCount(a) > MaxArgBytes || a.Contains('\0')))
            throw Problems.Invalid($"each arg must be at most {MaxArgBytes} bytes and contain no NUL character.");

        if (env.Count > MaxEnvVars) throw Problems.Invalid($"{env.Count} env vars given; the limit is {MaxEnvVars}.");
        foreach (var (name, value) in env)
        {
            if (name.Length > 64 || !EnvName().IsMatch(name))
                throw Problems.Invalid($"env var name '{name}' is invalid: use A-Z, 0-9 and _, not starting with a digit, at most 64 characters.");
            if (value.Contains('\0')) throw Problems.Invalid($"env var {name} contains a NUL character.");
        }
        if (env.Sum(e => Encoding.UTF8.GetByteCount(e.Value)) > MaxEnvBytes)
            throw Problems.Invalid($"env values exceed {MaxEnvBytes} bytes in total.");

        var seconds = timeoutSeconds ?? limits.DefaultTimeoutSeconds;
        if (double.IsNaN(seconds) || seconds <= 0 || seconds > limits.MaxTimeoutSeconds)
            throw Problems.Invalid($"timeout must be more than 0 and at most {limits.MaxTimeoutSeconds} seconds (got {seconds}).");

        var merged = new Dictionary<string, string>(env, StringComparer.Ordinal);
        foreach (var (name, value) in secrets) merged[name] = value;
        return new RunPlan(lang, code, stdin, argList, merged, secrets.Values.ToList(), TimeSpan.FromSeconds(seconds));
    }

    [GeneratedRegex("^[A-Z_][A-Z0-9_]*$")]
    private static partial Regex EnvName();
}
