using System.Globalization;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Docker;

/// <summary>
/// The hardened container configuration of a sandbox. Every setting here was checked on dockerd 20.10
/// (see DESIGN.md "Sandbox"). The config carries no code, stdin or env values of any run: those travel on
/// stdin, because the config is stored in clear under /var/lib/docker and shown by `docker inspect`.
/// </summary>
public sealed class SandboxSpec(IOptions<AgentOptions> options, SeccompProfile seccomp, DockerHost docker, PackageStore packages)
{
    public const string WorkDir = "/work";
    private const long MiB = 1024 * 1024;

    /// <summary>Host path of the empty file mounted read-only over /etc/resolv.conf (Docker otherwise
    /// mounts the host's resolver list even with --network none).</summary>
    public string EmptyResolvConfPath => Path.Combine(options.Value.StateDir, "resolv.conf.empty");

    public CreateContainerParameters Build(LanguageRuntime language, int uid, int memoryMb)
    {
        var limits = options.Value.Limits;
        var user = uid.ToString(CultureInfo.InvariantCulture);
        return new CreateContainerParameters
        {
            Image = options.Value.Image,
            Cmd = language.RunnerCommand.ToList(),
            User = $"{user}:{user}",
            WorkingDir = WorkDir,
            Hostname = "sandbox",
            Env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", $"HOME={WorkDir}"],
            Labels = docker.LabelsFor(language.Name),
            // The job arrives on stdin; the runner blocks on it. StdinOnce: closing our side gives EOF.
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            OpenStdin = true,
            StdinOnce = true,
            Tty = false,
            NetworkDisabled = true,
            HostConfig = new HostConfig
            {
                NetworkMode = "none",
                CapDrop = ["ALL"],
                // no-new-privileges: without it a setuid binary in the image reached euid 0.
                // The seccomp profile is passed inline: the Engine API takes JSON text, not a path.
                SecurityOpt = ["no-new-privileges:true", $"seccomp={seccomp.Json}"],
                ReadonlyRootfs = true,
                Tmpfs = new Dictionary<string, string>
                {
                    ["/tmp"] = $"rw,nosuid,nodev,noexec,size={limits.TmpSizeMb}m,nr_inodes={limits.TmpfsInodes},mode=1777",
                    [WorkDir] = $"rw,nosuid,nodev,noexec,size={limits.WorkSizeMb}m,nr_inodes={limits.TmpfsInodes},mode=0700,uid={user},gid={user}",
                },
                Mounts =
                [
                    new Mount { Type = "bind", Source = EmptyResolvConfPath, Target = "/etc/resolv.conf", ReadOnly = true },
                    // Every package store, read-only, in every sandbox (warm ones too): the job names the stores a run
                    // may use. The root is mode 0711, so a program can open a store only by its (unguessable) id.
                    new Mount { Type = "bind", Source = packages.Root, Target = PackageStore.MountPoint, ReadOnly = true },
                ],
                Init = true, // docker-init as PID 1 reaps zombies
                PidsLimit = limits.PidsLimit,
                Memory = memoryMb * MiB,
                MemorySwap = memoryMb * MiB, // equal to Memory: no swap
                NanoCPUs = (long)(limits.Cpus * 1e9),
                Ulimits =
                [
                    new Ulimit { Name = "nofile", Soft = limits.OpenFiles, Hard = limits.OpenFiles },
                    new Ulimit { Name = "fsize", Soft = limits.FileSizeMb * MiB, Hard = limits.FileSizeMb * MiB },
                    new Ulimit { Name = "core", Soft = 0, Hard = 0 },
                ],
                IpcMode = "private", // not "none": that breaks multiprocessing locks
                ShmSize = limits.ShmSizeMb * MiB,
                CgroupnsMode = "private",
                LogConfig = new LogConfig { Type = "none" }, // json-file wrote a flood to the host disk
                OomScoreAdj = 1000,
                AutoRemove = false, // we inspect State.OOMKilled after exit, then remove ourselves
                Privileged = false,
            },
        };
    }
}

/// <summary>Our seccomp profile (Docker's default minus io_uring, ptrace and AF_VSOCK sockets), embedded JSON.</summary>
public sealed class SeccompProfile
{
    public SeccompProfile()
    {
        using var stream = typeof(SeccompProfile).Assembly.GetManifestResourceStream("PythOn.Sandbox.Agent.seccomp-profile.json")
            ?? throw new InvalidOperationException("embedded seccomp profile missing");
        using var reader = new StreamReader(stream);
        // Compact it: the whole profile travels in the create request's SecurityOpt.
        Json = System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(reader.ReadToEnd()).RootElement);
    }

    public string Json { get; }
}
