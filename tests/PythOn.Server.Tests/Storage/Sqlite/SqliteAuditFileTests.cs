using LiteDB;
using PythOn.Server.Storage;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Storage.Sqlite;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Storage.Sqlite;

/// <summary>What the audit log's SQLite file of a LiteDB deployment guarantees beyond the repository contract: the
/// entries an earlier version kept in the LiteDB file move into it whole, and its files are the owner's only.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class SqliteAuditFileTests : IDisposable
{
    private readonly string _directory = TempDirectories.Create("sqlite-audit");
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private AuditRecord Entry(string action) => new()
    {
        UserId = _user, Time = 1_000, Action = action, Resource = "run/python", Outcome = "success", ClientAddress = "127.0.0.1",
        Details = new Dictionary<string, string> { ["exit_code"] = "0" },
    };

    /// <summary>A LiteDB file as earlier versions wrote it: the audit entries in its "audit" collection, ids from 1.</summary>
    private void WriteLegacyEntries(params string[] actions)
    {
        using var old = new LiteDatabase(Path.Combine(_directory, LiteDatabaseFile.FileName));
        old.GetCollection<AuditRecord>("audit", BsonAutoId.Int64).InsertBulk(actions.Select(Entry));
    }

    /// <summary>The audit file, once the LiteDB file's entries moved into it the way the server moves them at start.</summary>
    private SqliteAuditRepository OpenAfterTheMove()
    {
        var audit = new SqliteAuditRepository(_directory);
        using (var file = new LiteDatabaseFile(_directory))
            file.MoveLegacyAudit(audit.Import);
        return audit;
    }

    [Fact]
    public void Entries_of_an_earlier_version_move_from_the_LiteDB_file_with_their_ids_and_fields()
    {
        WriteLegacyEntries("auth.login", "execute.run");

        using var audit = OpenAfterTheMove();

        var page = audit.Page(_user, null, 10);
        Assert.Equal([(2L, "execute.run"), (1L, "auth.login")], page.Select(e => (e.Id, e.Action)));
        Assert.All(page, e => Assert.Equal(("run/python", "0"), (e.Resource, e.Details["exit_code"])));
    }

    [Fact]
    public void Entries_beyond_one_batch_of_the_move_all_arrive_in_order()
    {
        WriteLegacyEntries(Enumerable.Range(0, 10_001).Select(i => $"action.{i}").ToArray());

        using var audit = OpenAfterTheMove();

        var newest = audit.Page(_user, null, 2);
        Assert.Equal([(10_001L, "action.10000"), (10_000L, "action.9999")], newest.Select(e => (e.Id, e.Action)));
        Assert.Equal(10_001, Enumerable.Range(0, 11).Sum(i => audit.Page(_user, 10_002 - i * 1_000L, 1_000).Count));
    }

    [Fact]
    public void Moved_entries_leave_the_LiteDB_file()
    {
        WriteLegacyEntries("auth.login");

        using var audit = OpenAfterTheMove();

        using var reopened = new LiteDatabase(Path.Combine(_directory, LiteDatabaseFile.FileName));
        Assert.DoesNotContain("audit", reopened.GetCollectionNames());
    }

    [Fact]
    public void New_entries_get_ids_above_the_moved_ones()
    {
        WriteLegacyEntries("a", "b", "c");
        using var audit = OpenAfterTheMove();

        var next = Entry("d");
        audit.Append([next]);

        Assert.Equal(4, next.Id);
    }

    [Fact]
    public void A_move_cut_short_and_run_again_adds_no_entry_twice()
    {
        using var audit = new SqliteAuditRepository(_directory);
        var entries = new[] { Entry("a"), Entry("b") };
        entries[0].Id = 1;
        entries[1].Id = 2;
        audit.Import([entries[0]]); // the first attempt got this far

        audit.Import(entries);

        Assert.Equal([2L, 1L], audit.Page(_user, null, 10).Select(e => e.Id));
    }

    [Fact]
    public void The_audit_files_are_readable_and_writable_by_the_owner_only()
    {
        using var audit = new SqliteAuditRepository(_directory);
        audit.Append([Entry("auth.login")]);

        var files = Directory.GetFiles(_directory, SqliteAuditRepository.FileName + "*");
        Assert.Contains(files, f => f.EndsWith("-wal", StringComparison.Ordinal)); // the write-ahead log exists while open
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public void An_entry_appended_is_read_back_after_the_file_is_opened_again()
    {
        using (var audit = new SqliteAuditRepository(_directory))
            audit.Append([Entry("auth.login")]);

        using var reopened = new SqliteAuditRepository(_directory);
        Assert.Equal("auth.login", Assert.Single(reopened.Page(_user, null, 10)).Action);
    }

    public void Dispose() => TempDirectories.Delete(_directory);
}
