using Microsoft.Extensions.Options;

namespace PythOn.Server.Hosting;

/// <summary>
/// Checks the "PythOn" section when the process starts, before it listens: every failure names its setting and says
/// what is allowed. Agent addresses are checked where the channels are opened (AgentConnections), also at start.
/// </summary>
public sealed class PythOnOptionsValidation : IValidateOptions<PythOnOptions>
{
    public ValidateOptionsResult Validate(string? name, PythOnOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string setting, string rule, object? value)
        {
            if (!ok) errors.Add($"{PythOnOptions.Section}:{setting} {rule} (got {value ?? "nothing"})");
        }
        void Key(string? base64, string setting, int bytes)
        {
            if (string.IsNullOrWhiteSpace(base64)) return;
            byte[]? key = null;
            try { key = Convert.FromBase64String(base64.Trim()); } catch (FormatException) { }
            // The value is a secret: name the setting and its length, never the value.
            if (key is null) errors.Add($"{PythOnOptions.Section}:{setting} must be base64 (the value is not)");
            else if (key.Length < bytes) errors.Add($"{PythOnOptions.Section}:{setting} must decode to at least {bytes} bytes (it has {key.Length})");
        }

        Check(!string.IsNullOrWhiteSpace(o.DataDirectory), "DataDirectory", "must be a directory", o.DataDirectory);
        Check(o.ShutdownGraceSeconds is >= 0 and <= 3600, "ShutdownGraceSeconds", "must be between 0 and 3600", o.ShutdownGraceSeconds);
        Key(o.SecretsKey, "SecretsKey", 32);
        Key(o.Jwt.SigningKey, "Jwt:SigningKey", 32);
        Check(o.Jwt.LifetimeMinutes >= 1, "Jwt:LifetimeMinutes", "must be at least 1", o.Jwt.LifetimeMinutes);
        Check(o.Jwt.RefreshLifetimeDays >= 1, "Jwt:RefreshLifetimeDays", "must be at least 1", o.Jwt.RefreshLifetimeDays);
        Check(!string.IsNullOrWhiteSpace(o.Jwt.Issuer), "Jwt:Issuer", "must not be empty", o.Jwt.Issuer);
        Check(!string.IsNullOrWhiteSpace(o.Jwt.Audience), "Jwt:Audience", "must not be empty", o.Jwt.Audience);
        if (o.AgentToken is { Length: > 0 and < 32 })
            errors.Add($"{PythOnOptions.Section}:AgentToken must be at least 32 characters (it has {o.AgentToken.Length})");

        var r = o.RateLimits;
        Check(r.AuthPerMinute >= 1, "RateLimits:AuthPerMinute", "must be at least 1", r.AuthPerMinute);
        Check(r.UserPerMinute >= 1, "RateLimits:UserPerMinute", "must be at least 1", r.UserPerMinute);
        Check(r.ZkEncryptPerMinute >= 1, "RateLimits:ZkEncryptPerMinute", "must be at least 1", r.ZkEncryptPerMinute);
        Check(r.GeneratePerMinute >= 1, "RateLimits:GeneratePerMinute", "must be at least 1", r.GeneratePerMinute);
        Check(r.AnonymousPerMinute >= 1, "RateLimits:AnonymousPerMinute", "must be at least 1", r.AnonymousPerMinute);

        var l = o.Limits;
        Check(l.MaxSecretsPerUser >= 0, "Limits:MaxSecretsPerUser", "must be 0 or more", l.MaxSecretsPerUser);
        Check(l.MaxSecretBytes >= 1, "Limits:MaxSecretBytes", "must be at least 1", l.MaxSecretBytes);
        Check(l.MaxPackagesPerLanguage >= 0, "Limits:MaxPackagesPerLanguage", "must be 0 or more", l.MaxPackagesPerLanguage);
        Check(l.MaxCodeBytes >= 1, "Limits:MaxCodeBytes", "must be at least 1", l.MaxCodeBytes);
        Check(l.MaxStdinBytes >= 0, "Limits:MaxStdinBytes", "must be 0 or more", l.MaxStdinBytes);
        Check(l.DefaultTimeoutSeconds > 0, "Limits:DefaultTimeoutSeconds", "must be above 0", l.DefaultTimeoutSeconds);
        Check(l.MaxTimeoutSeconds >= l.DefaultTimeoutSeconds, "Limits:MaxTimeoutSeconds", "must be at least Limits:DefaultTimeoutSeconds", l.MaxTimeoutSeconds);
        Check(l.MaxOutputBytes >= 1, "Limits:MaxOutputBytes", "must be at least 1", l.MaxOutputBytes);
        Check(l.MemoryMb >= 32, "Limits:MemoryMb", "must be at least 32", l.MemoryMb);
        Check(l.MaxConcurrentRunsPerUser >= 1, "Limits:MaxConcurrentRunsPerUser", "must be at least 1", l.MaxConcurrentRunsPerUser);
        Check(l.MaxInteractiveStdinBytes >= 1, "Limits:MaxInteractiveStdinBytes", "must be at least 1", l.MaxInteractiveStdinBytes);
        Check(l.PasswordChecksAtOnce >= 1, "Limits:PasswordChecksAtOnce", "must be at least 1", l.PasswordChecksAtOnce);
        Check(l.PasswordCheckWaitMs >= 0, "Limits:PasswordCheckWaitMs", "must be 0 or more", l.PasswordCheckWaitMs);
        Check(l.MaxRequestBytes >= 1024, "Limits:MaxRequestBytes", "must be at least 1024", l.MaxRequestBytes);

        var p = o.Packages;
        Check(p.RunWaitSeconds >= 0, "Packages:RunWaitSeconds", "must be 0 or more", p.RunWaitSeconds);
        Check(p.MaxPerRequest >= 0, "Packages:MaxPerRequest", "must be 0 or more", p.MaxPerRequest);
        Check(p.InstallWorkers >= 1, "Packages:InstallWorkers", "must be at least 1", p.InstallWorkers);
        Check(p.InstallWaitSeconds > 0, "Packages:InstallWaitSeconds", "must be above 0", p.InstallWaitSeconds);
        Check(p.RetrySeconds > 0, "Packages:RetrySeconds", "must be above 0", p.RetrySeconds);

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
