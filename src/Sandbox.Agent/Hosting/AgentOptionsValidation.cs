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
        var errors = new PythOn.Hosting.SettingErrors(AgentOptions.Section);

        errors.Check(Uri.TryCreate(o.DockerEndpoint, UriKind.Absolute, out var docker) && docker.Scheme is "unix" or "tcp" or "http" or "https" or "npipe",
            "DockerEndpoint", "must be a URI such as unix:///var/run/docker.sock or tcp://host:2375", o.DockerEndpoint);
        errors.Check(!string.IsNullOrWhiteSpace(o.Image), "Image", "must name the runtime image", o.Image);
        errors.Check(!string.IsNullOrWhiteSpace(o.InstanceId) && o.InstanceId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
            "InstanceId", "must be letters, digits, '-', '_' or '.'", o.InstanceId);
        errors.Check(Path.IsPathRooted(o.StateDir), "StateDir", "must be an absolute path on the Docker host", o.StateDir);
        errors.Check(System.Text.Encoding.UTF8.GetByteCount(o.StateDir ?? "") <= Slots.SupervisorSocket.MaxStateDirLength, "StateDir",
            $"must be at most {Slots.SupervisorSocket.MaxStateDirLength} bytes long (the slots' unix sockets live in it)", o.StateDir);
        errors.Check(o.ShutdownGraceSeconds is >= 0 and <= 3600, "ShutdownGraceSeconds", "must be between 0 and 3600", o.ShutdownGraceSeconds);

        var pool = o.Pool;
        errors.Check(pool.Python >= 0, "Pool:Python", "must be 0 or more", pool.Python);
        errors.Check(pool.JavaScript >= 0, "Pool:JavaScript", "must be 0 or more", pool.JavaScript);
        errors.Check(pool.RunsPerSlot >= 1, "Pool:RunsPerSlot", "must be at least 1", pool.RunsPerSlot);
        errors.Check(pool.SlotMaxAgeSeconds >= 1, "Pool:SlotMaxAgeSeconds", "must be at least 1", pool.SlotMaxAgeSeconds);
        errors.Check(pool.RefillConcurrency >= 1, "Pool:RefillConcurrency", "must be at least 1", pool.RefillConcurrency);
        errors.Check(pool.MaxSandboxes >= Math.Max(1, pool.Python + pool.JavaScript), "Pool:MaxSandboxes",
            $"must be at least Pool:Python + Pool:JavaScript ({pool.Python + pool.JavaScript})", pool.MaxSandboxes);
        errors.Check(pool.UidBase is >= 1000 && (long)pool.UidBase + pool.MaxSandboxes < int.MaxValue, "Pool:UidBase",
            "must be at least 1000, with room for Pool:MaxSandboxes uids above it", pool.UidBase);
        errors.Check(pool.AcquireTimeoutMs >= 1, "Pool:AcquireTimeoutMs", "must be at least 1", pool.AcquireTimeoutMs);
        errors.Check(pool.SlotStartTimeoutMs >= 1, "Pool:SlotStartTimeoutMs", "must be at least 1", pool.SlotStartTimeoutMs);
        errors.Check(pool.KillGraceMs >= 1, "Pool:KillGraceMs", "must be at least 1", pool.KillGraceMs);

        var limits = o.Limits;
        errors.Check(limits.DefaultTimeoutMs >= 1, "Limits:DefaultTimeoutMs", "must be at least 1", limits.DefaultTimeoutMs);
        errors.Check(limits.MaxTimeoutMs >= limits.DefaultTimeoutMs, "Limits:MaxTimeoutMs", "must be at least Limits:DefaultTimeoutMs", limits.MaxTimeoutMs);
        errors.Check(limits.DefaultMaxOutputBytes >= 1, "Limits:DefaultMaxOutputBytes", "must be at least 1", limits.DefaultMaxOutputBytes);
        errors.Check(limits.MaxOutputBytes >= limits.DefaultMaxOutputBytes, "Limits:MaxOutputBytes", "must be at least Limits:DefaultMaxOutputBytes", limits.MaxOutputBytes);
        errors.Check(limits.MemoryMb >= 16, "Limits:MemoryMb", "must be at least 16", limits.MemoryMb);
        errors.Check(limits.MaxMemoryMb >= limits.MemoryMb, "Limits:MaxMemoryMb", "must be at least Limits:MemoryMb", limits.MaxMemoryMb);
        errors.Check(limits.Cpus is > 0 and <= 1024, "Limits:Cpus", "must be above 0", limits.Cpus);
        errors.Check(limits.PidsLimit >= 8, "Limits:PidsLimit", "must be at least 8", limits.PidsLimit);
        errors.Check(limits.TmpSizeMb >= 1, "Limits:TmpSizeMb", "must be at least 1", limits.TmpSizeMb);
        errors.Check(limits.WorkSizeMb >= 1, "Limits:WorkSizeMb", "must be at least 1", limits.WorkSizeMb);
        errors.Check(limits.ShmSizeMb >= 1, "Limits:ShmSizeMb", "must be at least 1", limits.ShmSizeMb);
        errors.Check(limits.TmpfsInodes >= 64, "Limits:TmpfsInodes", "must be at least 64", limits.TmpfsInodes);
        errors.Check(limits.OpenFiles >= 16, "Limits:OpenFiles", "must be at least 16", limits.OpenFiles);
        errors.Check(limits.FileSizeMb >= 1, "Limits:FileSizeMb", "must be at least 1", limits.FileSizeMb);
        errors.Check(limits.MaxJobBytes >= 1024, "Limits:MaxJobBytes", "must be at least 1024", limits.MaxJobBytes);
        errors.Check(limits.DefaultIdleTimeoutMs >= 1, "Limits:DefaultIdleTimeoutMs", "must be at least 1", limits.DefaultIdleTimeoutMs);
        errors.Check(limits.MaxIdleTimeoutMs >= limits.DefaultIdleTimeoutMs, "Limits:MaxIdleTimeoutMs", "must be at least Limits:DefaultIdleTimeoutMs", limits.MaxIdleTimeoutMs);
        errors.Check(limits.MaxInteractiveStdinBytes >= 1, "Limits:MaxInteractiveStdinBytes", "must be at least 1", limits.MaxInteractiveStdinBytes);

        var packages = o.Packages;
        errors.Check(Path.IsPathRooted(packages.StoreRoot), "Packages:StoreRoot", "must be an absolute path on the Docker host", packages.StoreRoot);
        errors.Check(packages.InstallerUid >= 1000 && (packages.InstallerUid < pool.UidBase || packages.InstallerUid >= pool.UidBase + pool.MaxSandboxes),
            "Packages:InstallerUid", "must be at least 1000 and outside the slot uids (Pool:UidBase + Pool:MaxSandboxes)", packages.InstallerUid);
        errors.Check(packages.InstallTimeoutSeconds >= 1, "Packages:InstallTimeoutSeconds", "must be at least 1", packages.InstallTimeoutSeconds);
        errors.Check(packages.MaxStoreSizeMb >= 1, "Packages:MaxStoreSizeMb", "must be at least 1", packages.MaxStoreSizeMb);
        errors.Check(packages.MaxStoreFiles >= 16, "Packages:MaxStoreFiles", "must be at least 16", packages.MaxStoreFiles);
        errors.Check(packages.MaxTotalStoreSizeMb >= 0, "Packages:MaxTotalStoreSizeMb", "must be at least 0 (0: no limit)", packages.MaxTotalStoreSizeMb);
        errors.Check(packages.MaxRequirements >= 1, "Packages:MaxRequirements", "must be at least 1", packages.MaxRequirements);
        errors.Check(packages.MaxConcurrentInstalls >= 1, "Packages:MaxConcurrentInstalls", "must be at least 1", packages.MaxConcurrentInstalls);
        errors.Check(packages.MemoryMb >= 64, "Packages:MemoryMb", "must be at least 64", packages.MemoryMb);
        errors.Check(packages.TmpSizeMb >= 1, "Packages:TmpSizeMb", "must be at least 1", packages.TmpSizeMb);
        errors.Check(packages.PidsLimit >= 8, "Packages:PidsLimit", "must be at least 8", packages.PidsLimit);
        errors.Check(packages.FileSizeMb >= 1, "Packages:FileSizeMb", "must be at least 1", packages.FileSizeMb);
        errors.Check(Uri.TryCreate(packages.PipIndexUrl, UriKind.Absolute, out var pip) && pip.Scheme is "http" or "https",
            "Packages:PipIndexUrl", "must be an http(s) URL", packages.PipIndexUrl);
        errors.Check(Uri.TryCreate(packages.NpmRegistry, UriKind.Absolute, out var npm) && npm.Scheme is "http" or "https",
            "Packages:NpmRegistry", "must be an http(s) URL", packages.NpmRegistry);

        return errors.Result;
    }
}
