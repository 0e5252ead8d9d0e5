using Docker.DotNet;
using PythOn.Sandbox.Agent.Runtime;

namespace PythOn.Sandbox.Agent.Docker;

/// <summary>A started single-use container whose runner waits for one job on the attached stdin.</summary>
public sealed class SandboxContainer(string id, LanguageRuntime language, int slot, int memoryMb, MultiplexedStream stream, bool warm)
{
    public string Id { get; } = id;
    public string ShortId => DockerHost.Short(Id);
    public LanguageRuntime Language { get; } = language;
    public int Slot { get; } = slot;
    public int MemoryMb { get; } = memoryMb;
    public MultiplexedStream Stream { get; } = stream;
    public bool Warm { get; } = warm;
    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;
}
