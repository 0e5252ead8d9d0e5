using Microsoft.Extensions.Options;

namespace PythOn.Server.Hosting;

/// <summary>
/// Checks the "PythOn" section when the process starts, before it listens: every failure names its setting and says
/// what is allowed. Agent addresses are checked where the channels are opened (AgentFleet), also at start.
/// </summary>
public sealed class PythOnOptionsValidation : IValidateOptions<PythOnOptions>
{
    public ValidateOptionsResult Validate(string? name, PythOnOptions o)
    {
        var errors = new PythOn.Hosting.SettingErrors(PythOnOptions.Section);
        void Key(string? base64, string setting, int bytes)
        {
            if (string.IsNullOrWhiteSpace(base64)) return;
            byte[]? key = null;
            try { key = Convert.FromBase64String(base64.Trim()); } catch (FormatException) { }
            // The value is a secret: name the setting and its length, never the value.
            if (key is null) errors.Add(setting, "must be base64 (the value is not)");
            else if (key.Length < bytes) errors.Add(setting, $"must decode to at least {bytes} bytes (it has {key.Length})");
        }

        errors.Check(!string.IsNullOrWhiteSpace(o.DataDirectory), "DataDirectory", "must be a directory", o.DataDirectory);
        errors.Check(o.ShutdownGraceSeconds is >= 0 and <= 3600, "ShutdownGraceSeconds", "must be between 0 and 3600", o.ShutdownGraceSeconds);
        Key(o.SecretsKey, "SecretsKey", 32);
        Key(o.Jwt.SigningKey, "Jwt:SigningKey", 32);
        errors.Check(o.Jwt.LifetimeMinutes >= 1, "Jwt:LifetimeMinutes", "must be at least 1", o.Jwt.LifetimeMinutes);
        errors.Check(o.Jwt.RefreshLifetimeDays >= 1, "Jwt:RefreshLifetimeDays", "must be at least 1", o.Jwt.RefreshLifetimeDays);
        errors.Check(!string.IsNullOrWhiteSpace(o.Jwt.Issuer), "Jwt:Issuer", "must not be empty", o.Jwt.Issuer);
        errors.Check(!string.IsNullOrWhiteSpace(o.Jwt.Audience), "Jwt:Audience", "must not be empty", o.Jwt.Audience);
        if (o.AgentToken is { Length: > 0 and < 32 })
            errors.Add("AgentToken", $"must be at least 32 characters (it has {o.AgentToken.Length})");

        var r = o.RateLimits;
        errors.Check(r.AuthPerMinute >= 1, "RateLimits:AuthPerMinute", "must be at least 1", r.AuthPerMinute);
        errors.Check(r.UserPerMinute >= 1, "RateLimits:UserPerMinute", "must be at least 1", r.UserPerMinute);
        errors.Check(r.ZkEncryptPerMinute >= 1, "RateLimits:ZkEncryptPerMinute", "must be at least 1", r.ZkEncryptPerMinute);
        errors.Check(r.GeneratePerMinute >= 1, "RateLimits:GeneratePerMinute", "must be at least 1", r.GeneratePerMinute);
        errors.Check(r.AnonymousPerMinute >= 1, "RateLimits:AnonymousPerMinute", "must be at least 1", r.AnonymousPerMinute);

        var l = o.Limits;
        errors.Check(l.MaxSecretsPerUser >= 0, "Limits:MaxSecretsPerUser", "must be 0 or more", l.MaxSecretsPerUser);
        errors.Check(l.MaxSecretBytes >= 1, "Limits:MaxSecretBytes", "must be at least 1", l.MaxSecretBytes);
        errors.Check(l.MaxPackagesPerLanguage >= 0, "Limits:MaxPackagesPerLanguage", "must be 0 or more", l.MaxPackagesPerLanguage);
        errors.Check(l.MaxCodeBytes >= 1, "Limits:MaxCodeBytes", "must be at least 1", l.MaxCodeBytes);
        errors.Check(l.MaxStdinBytes >= 0, "Limits:MaxStdinBytes", "must be 0 or more", l.MaxStdinBytes);
        errors.Check(l.DefaultTimeoutSeconds > 0, "Limits:DefaultTimeoutSeconds", "must be above 0", l.DefaultTimeoutSeconds);
        errors.Check(l.MaxTimeoutSeconds >= l.DefaultTimeoutSeconds, "Limits:MaxTimeoutSeconds", "must be at least Limits:DefaultTimeoutSeconds", l.MaxTimeoutSeconds);
        errors.Check(l.MaxOutputBytes >= 1, "Limits:MaxOutputBytes", "must be at least 1", l.MaxOutputBytes);
        errors.Check(l.MemoryMb >= 32, "Limits:MemoryMb", "must be at least 32", l.MemoryMb);
        errors.Check(l.MaxConcurrentRunsPerUser >= 1, "Limits:MaxConcurrentRunsPerUser", "must be at least 1", l.MaxConcurrentRunsPerUser);
        errors.Check(l.MaxInteractiveStdinBytes >= 1, "Limits:MaxInteractiveStdinBytes", "must be at least 1", l.MaxInteractiveStdinBytes);
        errors.Check(l.PasswordChecksAtOnce >= 1, "Limits:PasswordChecksAtOnce", "must be at least 1", l.PasswordChecksAtOnce);
        errors.Check(l.PasswordCheckWaitMs >= 0, "Limits:PasswordCheckWaitMs", "must be 0 or more", l.PasswordCheckWaitMs);
        errors.Check(l.MaxRequestBytes >= 1024, "Limits:MaxRequestBytes", "must be at least 1024", l.MaxRequestBytes);

        var p = o.Packages;
        errors.Check(p.RunWaitSeconds >= 0, "Packages:RunWaitSeconds", "must be 0 or more", p.RunWaitSeconds);
        errors.Check(p.MaxPerRequest >= 0, "Packages:MaxPerRequest", "must be 0 or more", p.MaxPerRequest);
        errors.Check(p.InstallWorkers >= 1, "Packages:InstallWorkers", "must be at least 1", p.InstallWorkers);
        errors.Check(p.InstallWaitSeconds > 0, "Packages:InstallWaitSeconds", "must be above 0", p.InstallWaitSeconds);
        errors.Check(p.RetrySeconds > 0, "Packages:RetrySeconds", "must be above 0", p.RetrySeconds);

        var f = o.Fleet;
        errors.Check(f.ResolveSeconds >= 1, "Fleet:ResolveSeconds", "must be at least 1", f.ResolveSeconds);
        errors.Check(f.StatusIntervalMs >= 100, "Fleet:StatusIntervalMs", "must be at least 100", f.StatusIntervalMs);
        errors.Check(f.StatusTimeoutMs >= 100, "Fleet:StatusTimeoutMs", "must be at least 100", f.StatusTimeoutMs);
        errors.Check(f.FailuresToEject >= 1, "Fleet:FailuresToEject", "must be at least 1", f.FailuresToEject);
        errors.Check(f.DnsScheme is "https" or "http", "Fleet:DnsScheme", "must be https or http", f.DnsScheme);

        return errors.Result;
    }
}
