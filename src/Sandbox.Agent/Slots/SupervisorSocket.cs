using System.Net.Sockets;

namespace PythOn.Sandbox.Agent.Slots;

/// <summary>
/// The unix socket a slot's supervisor connects to when it starts; every frame of the slot's life then travels over
/// that one connection instead of through dockerd's attach stream (two hops less per frame: ~2 ms of each run's
/// latency, and dockerd's and the shim's CPU). One per slot: a file under StateDir/slots (a host path, which dockerd
/// binds read-only into the slot at <see cref="ContainerPath"/>; only root can open the directory). It accepts one
/// connection, then its listener is shut down: nothing can connect through it later. The file stays until the slot is
/// removed, because each run sandbox covers the path with an empty file of its own (runtime/sandbox.py), and the
/// kernel mounts nothing over a file that was deleted.
/// </summary>
public sealed class SupervisorSocket : IDisposable
{
    /// <summary>Where the supervisor finds the socket inside the slot (PYTH_ON_AGENT_SOCKET). Not under /run: a run
    /// sandbox mounts a scratch tmpfs there while it builds its filesystems, and its cover must land on this file.</summary>
    public const string ContainerPath = "/pyth-on-agent.sock";

    private const string DirectoryName = "slots";
    private const int NameLength = 16; // hex digits
    private const string Extension = ".sock";

    /// <summary>Longest StateDir that leaves room for a socket path (sun_path holds 107 bytes and a NUL).</summary>
    public static readonly int MaxStateDirLength = 107 - (1 + DirectoryName.Length + 1 + NameLength + Extension.Length);

    private readonly Socket _listener;

    /// <param name="stateDir">The agent's StateDir, prepared at its start (<see cref="PrepareDirectory"/>).</param>
    public SupervisorSocket(string stateDir)
    {
        HostPath = Path.Combine(DirectoryIn(stateDir), $"{Guid.NewGuid():N}"[..NameLength] + Extension);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(HostPath));
            _listener.Listen(1);
            // The slot's uid must connect; the directory above keeps everyone else on the host out.
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(HostPath, (UnixFileMode)0b110_110_110);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The socket's file on the Docker host (the bind mount's source).</summary>
    public string HostPath { get; }

    /// <summary>The supervisor's connection; the listener refuses every connection after it.</summary>
    public async Task<Socket> AcceptAsync(CancellationToken ct)
    {
        try
        {
            return await _listener.AcceptAsync(ct);
        }
        finally
        {
            // Shut down, not closed: closing a bound socket deletes its file, which must stay (see above); a shut
            // down listener refuses connections (ECONNREFUSED).
            _listener.Shutdown(SocketShutdown.Both);
        }
    }

    /// <summary>Closes the listener and removes the file (once the slot's container is gone, or it never started).</summary>
    public void Dispose()
    {
        _listener.Dispose();
        try
        {
            File.Delete(HostPath);
        }
        catch (IOException)
        {
            // already gone, or the directory with it
        }
    }

    /// <summary>At the agent's start: creates the directory (root only) and removes the files of slots an earlier
    /// process left behind (killed before it removed them; their containers are removed as orphans). StateDir belongs
    /// to one agent.</summary>
    public static void PrepareDirectory(string stateDir)
    {
        var directory = DirectoryIn(stateDir);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Extension))
            File.Delete(file);
    }

    private static string DirectoryIn(string stateDir) => Path.Combine(stateDir, DirectoryName);
}
