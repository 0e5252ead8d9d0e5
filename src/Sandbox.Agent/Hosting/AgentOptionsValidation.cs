using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>
/// Checks the "Agent" section when the process starts, before it listens: every failure names its setting
/// (as in appsettings.json / Agent__X__Y environment variables) and says what is allowed.
/// </summary>
public sealed class AgentOptionsValidation : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string setting, string rule, object? value)
        {
            if (!ok) errors.Add($"{AgentOptions.Section}:{setting} {rule} (got {value ?? "nothing"})");
        }

        Check(Uri.TryCreate(o.DockerEndpoint, UriKind.Absolute, out var docker) && docker.Scheme is "unix" or "tcp" or "http" or "https" or "npipe",
            "DockerEndpoint", "must be a URI such as unix:///var/run/docker.sock or tcp://host:2375", o.DockerEndpoint);
        Check(!string.IsNullOrWhiteSpace(o.Image), "Image", "must name the runtime image", o.Image);
        Check(!string.IsNullOrWhiteSpace(o.InstanceId) && o.InstanceId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            "InstanceId", "must be letters, digits, '-', '_' or '.'", o.InstanceId);
        Check(Path.IsPathRooted(o.StateDir), "StateDir", "must be an absolute path on the Docker host", o.StateDir);
        Check(o.ShutdownGraceSeconds is >= 0 and <= 3600, "ShutdownGraceSeconds", "must be between 0 and 3600", o.ShutdownGraceSeconds);

        var pool = o.Pool;
        Check(pool.Python >= 0, "Pool:Python", "must be 0 or more", pool.Python);
        Check(pool.JavaScript >= 0, "Pool:JavaScript", "must be 0 or more", pool.JavaScript);
        Check(pool.RunsPerSlot >= 1, "Pool:RunsPerSlot", "must be at least 1", pool.RunsPerSlot);
        Check(pool.SlotMaxAgeSeconds >= 1, "Pool:SlotMaxAgeSeconds", "must be at least 1", pool.SlotMaxAgeSeconds);
        Check(pool.RefillConcurrency >= 1, "Pool:RefillConcurrency", "must be at least 1", pool.RefillConcurrency);
        Check(pool.MaxSandboxes >= Math.Max(1, pool.Python + pool.JavaScript), "Pool:MaxSandboxes",
            $"must be at least Pool:Python + Pool:JavaScript ({pool.Python + pool.JavaScript})", pool.MaxSandboxes);
        Check(pool.UidBase is >= 1000 && (long)pool.UidBase + pool.MaxSandboxes < int.MaxValue, "Pool:UidBase",
            "must be at least 1000, with room for Pool:MaxSandboxes uids above it", pool.UidBase);
        Check(pool.AcquireTimeoutMs >= 1, "Pool:AcquireTimeoutMs", "must be at least 1", pool.AcquireTimeoutMs);
        Check(pool.SlotStartTimeoutMs >= 1, "Pool:SlotStartTimeoutMs", "must be at least 1", pool.SlotStartTimeoutMs);
        Check(pool.KillGraceMs >= 1, "Pool:KillGraceMs", "must be at least 1", pool.KillGraceMs);

        var limits = o.Limits;
        Check(limits.DefaultTimeoutMs >= 1, "Limits:DefaultTimeoutMs", "must be at least 1", limits.DefaultTimeoutMs);
        Check(limits.MaxTimeoutMs >= limits.DefaultTimeoutMs, "Limits:MaxTimeoutMs", "must be at least Limits:DefaultTimeoutMs", limits.MaxTimeoutMs);
        Check(limits.DefaultMaxOutputBytes >= 1, "Limits:DefaultMaxOutputBytes", "must be at least 1", limits.DefaultMaxOutputBytes);
        Check(limits.MaxOutputBytes >= limits.DefaultMaxOutputBytes, "Limits:MaxOutputBytes", "must be at least Limits:DefaultMaxOutputBytes", limits.MaxOutputBytes);
        Check(limits.MemoryMb >= 16, "Limits:MemoryMb", "must be at least 16", limits.MemoryMb);
        Check(limits.MaxMemoryMb >= limits.MemoryMb, "Limits:MaxMemoryMb", "must be at least Limits:MemoryMb", limits.MaxMemoryMb);
        Check(limits.Cpus is > 0 and <= 1024, "Limits:Cpus", "must be above 0", limits.Cpus);
        Check(limits.PidsLimit >= 8, "Limits:PidsLimit", "must be at least 8", limits.PidsLimit);
        Check(limits.TmpSizeMb >= 1, "Limits:TmpSizeMb", "must be at least 1", limits.TmpSizeMb);
        Check(limits.WorkSizeMb >= 1, "Limits:WorkSizeMb", "must be at least 1", limits.WorkSizeMb);
        Check(limits.ShmSizeMb >= 1, "Limits:ShmSizeMb", "must be at least 1", limits.ShmSizeMb);
        Check(limits.TmpfsInodes >= 64, "Limits:TmpfsInodes", "must be at least 64", limits.TmpfsInodes);
        Check(limits.OpenFiles >= 16, "Limits:OpenFiles", "must be at least 16", limits.OpenFiles);
        Check(limits.FileSizeMb >= 1, "Limits:FileSizeMb", "must be at least 1", limits.FileSizeMb);
        Check(limits.MaxJobBytes >= 1024, "Limits:MaxJobBytes", "must be at least 1024", limits.MaxJobBytes);
        Check(limits.DefaultIdleTimeoutMs >= 1, "Limits:DefaultIdleTimeoutMs", "must be at least 1", limits.DefaultIdleTimeoutMs);
        Check(limits.MaxIdleTimeoutMs >= limits.DefaultIdleTimeoutMs, "Limits:MaxIdleTimeoutMs", "must be at least Limits:DefaultIdleTimeoutMs", limits.MaxIdleTimeoutMs);
        Check(limits.MaxInteractiveStdinBytes >= 1, "Limits:MaxInteractiveStdinBytes", "must be at least 1", limits.MaxInteractiveStdinBytes);

        var packages = o.Packages;
        Check(Path.IsPathRooted(packages.StoreRoot), "Packages:StoreRoot", "must be an absolute path on the Docker host", packages.StoreRoot);
        Check(packages.InstallerUid >= 1000 && (packages.InstallerUid < pool.UidBase || packages.InstallerUid >= pool.UidBase + pool.MaxSandboxes),
            "Packages:InstallerUid", "must be at least 1000 and outside the slot uids (Pool:UidBase + Pool:MaxSandboxes)", packages.InstallerUid);
        Check(packages.InstallTimeoutSeconds >= 1, "Packages:InstallTimeoutSeconds", "must be at least 1", packages.InstallTimeoutSeconds);
        Check(packages.MaxStoreSizeMb >= 1, "Packages:MaxStoreSizeMb", "must be at least 1", packages.MaxStoreSizeMb);
        Check(packages.MaxStoreFiles >= 16, "Packages:MaxStoreFiles", "must be at least 16", packages.MaxStoreFiles);
        Check(packages.MaxTotalStoreSizeMb >= 0, "Packages:MaxTotalStoreSizeMb", "must be at least 0 (0: no limit)", packages.MaxTotalStoreSizeMb);
        Check(packages.MaxRequirements >= 1, "Packages:MaxRequirements", "must be at least 1", packages.MaxRequirements);
        Check(packages.MaxConcurrentInstalls >= 1, "Packages:MaxConcurrentInstalls", "must be at least 1", packages.MaxConcurrentInstalls);
        Check(packages.MemoryMb >= 64, "Packages:MemoryMb", "must be at least 64", packages.MemoryMb);
        Check(packages.TmpSizeMb >= 1, "Packages:TmpSizeMb", "must be at least 1", packages.TmpSizeMb);
        Check(packages.PidsLimit >= 8, "Packages:PidsLimit", "must be at least 8", packages.PidsLimit);
        Check(packages.FileSizeMb >= 1, "Packages:FileSizeMb", "must be at least 1", packages.FileSizeMb);
        Check(Uri.TryCreate(packages.PipIndexUrl, UriKind.Absolute, out var pip) && pip.Scheme is "http" or "https",
            "Packages:PipIndexUrl", "must be an http(s) URL", packages.PipIndexUrl);
        Check(Uri.TryCreate(packages.NpmRegistry, UriKind.Absolute, out var npm) && npm.Scheme is "http" or "https",
            "Packages:NpmRegistry", "must be an http(s) URL", packages.NpmRegistry);

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
