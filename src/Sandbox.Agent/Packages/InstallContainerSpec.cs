using PythOn.Sandbox.Agent.Slots;
using System.Globalization;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// The INSTALL container: the only container that gets a network (Agent:Packages:Network, "host" by default,
/// because `dockerd --bridge=none` leaves no other network that reaches an index). Otherwise hardened like a
/// sandbox: no secrets, non-root uid, cap-drop ALL, no-new-privileges, our seccomp profile, read-only root,
/// tmpfs /tmp, pids/memory/CPU limits, ulimits, no logs. It installs into /out, a tmpfs sized at the store limits
/// (Agent:Packages:MaxStoreSizeMb bytes, MaxStoreFiles inodes), so the kernel stops an oversized install with ENOSPC
/// while it runs and nothing it writes touches the host's disk; it hands the finished tree to the agent as a tar on
/// stdout (PYTH_ON_OUTPUT=tar). Both tmpfs count against the container's memory limit (Agent:Packages:MemoryMb).
/// It gets no writable host path; only the CA bundle (read-only) and the egress socket are mounted, never a store.
/// </summary>
public sealed class InstallContainerSpec(IOptions<AgentOptions> options, SeccompProfile seccomp, DockerHost docker, Egress.EgressProxy egress)
{
    private const long MiB = 1024 * 1024;
    private const string CaBundlePath = "/etc/pyth-on/ca.crt";
    private const string EgressSocketPath = "/run/pyth-on-egress.sock";

    public CreateContainerParameters Build(string language, IReadOnlyList<string> requirements)
    {
        var o = options.Value.Packages;
        var limits = options.Value.Limits;
        var user = o.InstallerUid.ToString(CultureInfo.InvariantCulture);
        var index = language == "python" ? o.PipIndexUrl : o.NpmRegistry;
        var labels = docker.LabelsFor(language);
        labels[DockerHost.RoleLabel] = DockerHost.RoleInstaller;
        var env = new List<string>
        {
            "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1",
            "PIP_NO_CACHE_DIR=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "npm_config_update_notifier=false",
            // Reproducible where tools honour it (npm, wheel metadata); the store drops pip's byte-code anyway.
            "SOURCE_DATE_EPOCH=315532800",
            "PYTH_ON_OUTPUT=tar",
        };
        var mounts = new List<Mount>();
        if (o.Network == "none")
        {
            // No network: install.py relays 127.0.0.1:3128 inside the container to the agent's egress proxy.
            mounts.Add(new Mount { Type = "bind", Source = egress.SocketPath, Target = EgressSocketPath, ReadOnly = false });
            env.Add($"PYTH_ON_EGRESS_SOCKET={EgressSocketPath}");
        }
        if (!string.IsNullOrWhiteSpace(o.CaBundle) && File.Exists(o.CaBundle))
        {
            mounts.Add(new Mount { Type = "bind", Source = Path.GetFullPath(o.CaBundle), Target = CaBundlePath, ReadOnly = true });
            env.Add($"PIP_CERT={CaBundlePath}");
            env.Add($"NODE_EXTRA_CA_CERTS={CaBundlePath}");
        }
        return new CreateContainerParameters
        {
            Image = o.InstallerImage,
            Cmd = ["/usr/bin/python3", "-I", "/opt/pyth-on-installer/install.py", language, index, .. requirements],
            User = $"{user}:{user}",
            WorkingDir = "/tmp",
            Env = env,
            Labels = labels,
            AttachStdout = true,
            AttachStderr = true,
            Tty = false,
            HostConfig = new HostConfig
            {
                NetworkMode = o.Network,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges:true", $"seccomp={seccomp.Json}"],
                ReadonlyRootfs = true,
                Tmpfs = new Dictionary<string, string>
                {
                    ["/tmp"] = $"rw,nosuid,nodev,size={o.TmpSizeMb}m,mode=1777",
                    // The store quota, enforced by the kernel while the install runs (a tmpfs of size 0 would be unlimited).
                    ["/out"] = $"rw,nosuid,nodev,noexec,size={Math.Max(1, o.MaxStoreSizeMb)}m,nr_inodes={Math.Max(16, o.MaxStoreFiles)},uid={user},gid={user},mode=0700",
                },
                Mounts = mounts,
                Init = true,
                PidsLimit = o.PidsLimit,
                Memory = o.MemoryMb * MiB,
                MemorySwap = o.MemoryMb * MiB,
                NanoCPUs = (long)(limits.Cpus * 1e9),
                Ulimits =
                [
                    new Ulimit { Name = "nofile", Soft = 4096, Hard = 4096 },
                    new Ulimit { Name = "fsize", Soft = o.FileSizeMb * MiB, Hard = o.FileSizeMb * MiB },
                    new Ulimit { Name = "core", Soft = 0, Hard = 0 },
                ],
                IpcMode = "private",
                CgroupnsMode = "private",
                LogConfig = new LogConfig { Type = "none" },
                OomScoreAdj = 1000,
                AutoRemove = false,
                Privileged = false,
            },
        };
    }
}
