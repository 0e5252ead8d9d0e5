using Docker.DotNet.Models;
using Grpc.Core;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Packages;

/// <summary>
/// An installer image whose install.py is replaced by one that writes a hostile tar (what a compromised installer
/// could send): the requirement names the attack. Committed from a container of the real installer image in the
/// test, served by a real agent (pool 0) with its own store root.
/// </summary>
public sealed class HostileInstallerFixture : IAsyncLifetime
{
    /// <summary>Host directory the attacks aim at (the agent extracts on the host).</summary>
    public const string Target = "/tmp/pyth-on-hostile-target";

    private const string Script = """
        import io, json, sys, tarfile
        kind = sys.argv[3]
        out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
        def entry(name, type=tarfile.REGTYPE, data=b"", mode=0o644, link=""):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.linkname, info.size = type, mode, link, len(data)
            out.addfile(info, io.BytesIO(data) if type == tarfile.REGTYPE else None)
        entry("pyth-on-manifest.json", data=json.dumps({"resolved": ["hostile==1.0"]}).encode())
        entry("site-packages", tarfile.DIRTYPE, mode=0o755)
        if kind == "dotdot":
            entry("site-packages/../../escaped.txt", data=b"x")
        elif kind == "absolute":
            entry("/tmp/pyth-on-hostile-target/absolute.txt", data=b"x")
        elif kind == "throughlink":
            entry("site-packages/up", tarfile.SYMTYPE, link="/tmp/pyth-on-hostile-target")
            entry("site-packages/up/through-link.txt", data=b"x")
        elif kind == "mixed":
            entry("site-packages/mod", tarfile.DIRTYPE, mode=0o777)
            entry("site-packages/mod/__init__.py", data=b"VALUE = 'kept'\n", mode=0o4777)
            entry("site-packages/mod/alias.py", tarfile.SYMTYPE, link="__init__.py")
            entry("site-packages/mod/passwd", tarfile.SYMTYPE, link="/etc/passwd")
            entry("site-packages/mod/up", tarfile.SYMTYPE, link="../../../escaped")
            entry("site-packages/mod/hard", tarfile.LNKTYPE, link="site-packages/mod/__init__.py")
            entry("site-packages/mod/fifo", tarfile.FIFOTYPE)
        out.close()
        sys.stdout.buffer.flush()
        """;

    public string Image { get; } = $"pyth-on-test-hostile-installer:{Guid.NewGuid():N}";
    public AgentProcess Agent { get; private set; } = null!;
    public string Stores => Path.Combine(Agent.Dir, "stores");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Target);
        using var docker = new Docker.DotNet.DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var installer = await RuntimeImage.InstallerTagAsync();
        var builder = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = installer,
            User = "0",
            Env = [$"SCRIPT={Script}"],
            Cmd = ["/bin/sh", "-c", "printf '%s' \"$SCRIPT\" > /opt/pyth-on-installer/install.py"],
            HostConfig = new HostConfig { NetworkMode = "none" },
        });
        await docker.Containers.StartContainerAsync(builder.ID, new ContainerStartParameters());
        await docker.Containers.WaitContainerAsync(builder.ID);
        await docker.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
        {
            ContainerID = builder.ID, RepositoryName = Image.Split(':')[0], Tag = Image.Split(':')[1],
        });
        await docker.Containers.RemoveContainerAsync(builder.ID, new ContainerRemoveParameters { Force = true });
        Agent = await AgentProcess.StartAsync("hostile", pythonPool: 0, javaScriptPool: 0, new Dictionary<string, string>
        {
            ["Agent__Packages__InstallerImage"] = Image,
        });
    }

    public async Task DisposeAsync()
    {
        if (Agent is not null)
            await Agent.DisposeAsync();
        await DockerCli.RunAsync("rmi", "-f", Image);
        Directory.Delete(Target, recursive: true);
    }
}

[Collection(SandboxCollection.Name)]
public sealed class HostileInstallerTests(HostileInstallerFixture fx) : IClassFixture<HostileInstallerFixture>
{
    private async Task<InstallResult> InstallAsync(string attack)
    {
        using var call = fx.Agent.Client.InstallPackages(new InstallRequest { Language = "python", Requirements = { attack } },
            deadline: DateTime.UtcNow.AddMinutes(3));
        InstallResult? result = null;
        await foreach (var e in call.ResponseStream.ReadAllAsync())
            if (e.EventCase == InstallEvent.EventOneofCase.Result)
                result = e.Result;
        Assert.NotNull(result);
        return result;
    }

    private void AssertNothingWrittenOutside()
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(HostileInstallerFixture.Target));
        Assert.False(File.Exists(Path.Combine(fx.Stores, "escaped.txt")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(fx.Stores, ".staging")));
        Assert.DoesNotContain(Directory.EnumerateDirectories(fx.Stores), d => !Path.GetFileName(d).StartsWith('.'));
    }

    [Theory]
    [InlineData("dotdot")]
    [InlineData("absolute")]
    public async Task An_output_naming_a_path_outside_the_store_is_refused_and_nothing_is_written(string attack)
    {
        var result = await InstallAsync(attack);

        Assert.False(result.Ok);
        Assert.StartsWith("the installer's output was refused: the installer's output names a path outside the store", result.Message);
        AssertNothingWrittenOutside();
    }

    [Fact]
    public async Task An_output_writing_through_a_symlink_is_refused_and_nothing_is_written()
    {
        var result = await InstallAsync("throughlink");

        Assert.False(result.Ok);
        Assert.Contains("'site-packages/up/through-link.txt' before its directory", result.Message);
        AssertNothingWrittenOutside();
    }

    [Fact]
    public async Task Hard_links_fifos_and_escaping_symlinks_are_dropped_and_modes_normalised()
    {
        var result = await InstallAsync("mixed");

        Assert.True(result.Ok, result.Message);
        var mod = Path.Combine(fx.Stores, result.StoreId, "site-packages", "mod");
        Assert.Equal(["__init__.py", "alias.py"], Directory.EnumerateFileSystemEntries(mod).Select(p => Path.GetFileName(p)!).Order().ToArray());
        Assert.Equal("__init__.py", new FileInfo(Path.Combine(mod, "alias.py")).LinkTarget);
        var rwxr_xr_x = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Assert.Equal(rwxr_xr_x, File.GetUnixFileMode(Path.Combine(mod, "__init__.py"))); // no setuid, no group/other write
        Assert.Equal(rwxr_xr_x, File.GetUnixFileMode(mod));
    }
}
