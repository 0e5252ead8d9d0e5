using LiteDB;

namespace PythOn.Server.Packages;

/// <summary>One server: its <see cref="PackageInstallQueue"/> already runs at most one install per list.</summary>
public sealed class LocalInstallLocks : IInstallLocks
{
    public bool Shared => false;

    public IDisposable? TryLock(ObjectId userId, string language) => NoLock.Instance;

    private sealed class NoLock : IDisposable
    {
        public static readonly NoLock Instance = new();
        public void Dispose() { }
    }
}
