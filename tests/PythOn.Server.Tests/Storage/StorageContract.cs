using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>A fresh, empty store of one provider: every repository over the same data. Disposing it removes the data.</summary>
public interface IStorageFixture : IDisposable
{
    IAccountRepository Accounts { get; }
    IRefreshTokenRepository RefreshTokens { get; }
    ISecretRepository Secrets { get; }
    IPackageRepository Packages { get; }
    IZkCodeRepository ZkCode { get; }
    IAuditRepository Audit { get; }
    IStorageHealth Health { get; }
}

/// <summary>
/// The base of every repository contract: a provider's test class derives from a contract and only says how to make
/// an empty store. The store is made on first use (not in the constructor), so a subclass may take it from a fixture.
/// </summary>
public abstract class StorageContract : IDisposable
{
    private IStorageFixture? _store;

    protected IStorageFixture Store => _store ??= CreateStore();

    /// <summary>A fresh, empty store, one per test.</summary>
    protected abstract IStorageFixture CreateStore();

    /// <summary>Runs <paramref name="count"/> calls at once (all released together) and returns their results.</summary>
    protected async Task<T[]> AllAtOnce<T>(int count, Func<int, T> call)
    {
        _ = Store; // made before the race, not by it
        using var start = new Barrier(count);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            return call(i);
        }, TaskCreationOptions.LongRunning));
        return await Task.WhenAll(tasks);
    }

    public void Dispose()
    {
        _store?.Dispose();
        GC.SuppressFinalize(this);
    }
}
