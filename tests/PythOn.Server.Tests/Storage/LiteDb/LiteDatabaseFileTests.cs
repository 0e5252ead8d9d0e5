using LiteDB;
using PythOn.Server.Storage;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Storage.LiteDb;

/// <summary>What the LiteDB file itself guarantees beyond the repository contracts.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDatabaseFileTests : IDisposable
{
    private readonly string _directory = TempDirectories.Create("litedb-file");

    [Fact]
    public void A_file_created_with_LiteDBs_case_ignoring_default_keeps_names_differing_in_case_apart_once_opened()
    {
        // A file as earlier versions made it: LiteDB's default collation (current culture, ignore case).
        using (var old = new LiteDatabase(Path.Combine(_directory, LiteDatabaseFile.FileName)))
            old.GetCollection<ZkCodeRecord>("zk_code").Insert(new ZkCodeRecord { Id = "u/B", Name = "B" });
        var user = ObjectId.NewObjectId();

        using var file = new LiteDatabaseFile(_directory);
        var programs = new LiteZkCodeRepository(file);
        programs.Put(new ZkCodeRecord { UserId = user, Name = "B" }, 10);
        programs.Put(new ZkCodeRecord { UserId = user, Name = "b" }, 10);

        Assert.Equal(["B", "b"], programs.List(user).Select(p => p.Name));
    }

    public void Dispose() => TempDirectories.Delete(_directory);
}
