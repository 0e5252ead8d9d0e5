using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IStorageHealth"/>, for every provider.</summary>
public abstract class StorageHealthContract : StorageContract
{
    [Fact]
    public void The_provider_is_named_for_status_output()
    {
        Assert.Contains(Store.Health.Provider, new[] { StorageOptions.LiteDb, StorageOptions.PostgreSql });
    }

    [Fact]
    public void A_usable_store_answers_the_ping()
    {
        Assert.True(Store.Health.Ping());
    }

    [Fact]
    public void A_usable_store_takes_the_probe_write()
    {
        var error = Record.Exception(() => Store.Health.ProbeWrite());

        Assert.Null(error);
    }
}
