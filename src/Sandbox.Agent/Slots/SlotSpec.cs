using System.Globalization;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Runtime;

using PythOn.Sandbox.Agent.Docker;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// The hardened container configuration of a slot (docs/architecture.md, "The slot"). Every setting here was
/// checked on dockerd 20.10. The config carries no code, stdin or env values of any run: those travel in the
/// job frame over the supervisor's socket, because the config is stored in clear under /var/lib/docker and shown by
/// `docker inspect`.
/// </summary>
public sealed class SlotSpec(IOptions<AgentOptions> options, SeccompProfile seccomp, DockerHost docker, PackageStore packages)
{
    public const string WorkDir = "/work";
    private const long MiB = 1024 * 1024;

    /// <summary>Host path of the empty file mounted read-only over /etc/resolv.conf (Docker otherwise
    /// mounts the host's resolver list even with --network none).</summary>
    public string EmptyResolvConfPath => Path.Combine(options.Value.StateDir, "resolv.conf.empty");

    /// <summary>The supervisor and its language: it serves runs of that language only.</summary>
    public static IList<string> SupervisorCommand(LanguageRuntime language) =>
        ["/opt/pyth-on/pyth-on-supervisor", language.Name];

    /// <param name="supervisorSocket">Host path of the slot's <see cref="SupervisorSocket"/>.</param>
    public CreateContainerParameters Build(LanguageRuntime language, int uid, int memoryMb, string supervisorSocket)
    {
        var limits = options.Value.Limits;
        var user = uid.ToString(CultureInfo.InvariantCulture);
        // Sizes of each run's fresh filesystems (not secret: the same for every run of this agent).
        var runLimits = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, int>
        {
            ["tmp_mb"] = limits.TmpSizeMb, ["work_mb"] = limits.WorkSizeMb, ["shm_mb"] = limits.ShmSizeMb, ["inodes"] = limits.TmpfsInodes,
        });
        return new CreateContainerParameters
        {
            Image = options.Value.Image,
            Cmd = SupervisorCommand(language),
            User = $"{user}:{user}",
            WorkingDir = WorkDir,
            Hostname = "sandbox",
            Env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", $"HOME={WorkDir}", $"PYTH_ON_LIMITS={runLimits}",
                $"PYTH_ON_AGENT_SOCKET={SupervisorSocket.ContainerPath}"],
            Labels = docker.LabelsFor(language.Name),
            // Frames travel over the supervisor's socket; stdout and stderr carry only its own diagnostics.
            AttachStdin = false,
            AttachStdout = true,
            AttachStderr = true,
            OpenStdin = false,
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
                // No over-mounts on /proc: with them a fresh procfs cannot be mounted in a user namespace. Each run
                // sandbox puts Docker's masks back on its own /proc (runtime/sandbox.py). /tmp, /work and /dev/shm
                // are fresh tmpfs mounts of each run, not the slot's.
                MaskedPaths = ["/sys/firmware"],
                ReadonlyPaths = [],
                Mounts =
                [
                    new Mount { Type = "bind", Source = EmptyResolvConfPath, Target = "/etc/resolv.conf", ReadOnly = true },
                    // The socket's file only, read-only (connecting needs no write access to the mount).
                    new Mount { Type = "bind", Source = supervisorSocket, Target = SupervisorSocket.ContainerPath, ReadOnly = true },
                    // Every package store, read-only, in every slot; each run sandbox binds only its job's stores.
                    new Mount { Type = "bind", Source = packages.Root, Target = PackageStore.MountPoint, ReadOnly = true },
                ],
                Init = true, // docker-init as PID 1: the supervisor's death ends the slot
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
                AutoRemove = false, // a slot that died is inspected (State.OOMKilled), then removed
                Privileged = false,
            },
        };
    }
}

/// <summary>The slot's seccomp profile (gen-seccomp-profile.py: Docker's default allowlist minus io_uring and ptrace,
/// socket families allowlisted, plus what building a run sandbox needs), embedded JSON.</summary>
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
