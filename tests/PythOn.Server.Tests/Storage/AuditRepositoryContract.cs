using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IAuditRepository"/>, for every provider.</summary>
public abstract class AuditRepositoryContract : StorageContract
{
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private static AuditRecord Entry(ObjectId? user, string action = "auth.login", long time = 1_000) => new()
    {
        UserId = user,
        Time = time,
        Action = action,
        Resource = "",
        Outcome = "success",
        ClientAddress = "127.0.0.1",
    };

    private List<AuditRecord> AppendEach(int count, ObjectId? user)
    {
        var entries = Enumerable.Range(0, count).Select(i => Entry(user, $"action.{i}")).ToList();
        foreach (var e in entries) Store.Audit.Append([e]);
        return entries;
    }

    [Fact]
    public void Append_sets_ids_that_grow_in_append_order_across_batches()
    {
        var first = new List<AuditRecord> { Entry(_user), Entry(null), Entry(_user) };
        var second = new List<AuditRecord> { Entry(_user) };

        Store.Audit.Append(first);
        Store.Audit.Append(second);

        var ids = first.Concat(second).Select(e => e.Id).ToList();
        Assert.All(ids, id => Assert.True(id > 0));
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void A_page_is_newest_first_and_at_most_count_long()
    {
        var entries = AppendEach(5, _user);

        var page = Store.Audit.Page(_user, null, 3);

        Assert.Equal(entries.AsEnumerable().Reverse().Take(3).Select(e => e.Id), page.Select(e => e.Id));
    }

    [Fact]
    public void Paging_from_the_last_id_of_each_page_visits_every_entry_once()
    {
        var entries = AppendEach(7, _user);

        var seen = new List<long>();
        long? before = null;
        while (Store.Audit.Page(_user, before, 3) is { Count: > 0 } page)
        {
            seen.AddRange(page.Select(e => e.Id));
            before = page[^1].Id;
        }

        Assert.Equal(entries.Select(e => e.Id).Reverse(), seen);
    }

    [Fact]
    public void A_page_holds_only_the_users_own_entries()
    {
        var mine = AppendEach(2, _user);
        AppendEach(2, ObjectId.NewObjectId());
        AppendEach(2, null);

        Assert.Equal(mine.Select(e => e.Id).Reverse(), Store.Audit.Page(_user, null, 100).Select(e => e.Id));
    }

    [Fact]
    public void An_entry_comes_back_with_every_field_and_its_details()
    {
        var entry = Entry(_user, "secret.put", 4_242);
        entry.Resource = "secret/TOKEN";
        entry.Details = new Dictionary<string, string> { ["reason"] = "", ["keys_replaced"] = "2" };
        Store.Audit.Append([entry]);

        var stored = Assert.Single(Store.Audit.Page(_user, null, 10));

        Assert.Equal((entry.Id, _user, 4_242L, "secret.put", "secret/TOKEN", "success", "127.0.0.1"),
            (stored.Id, stored.UserId!, stored.Time, stored.Action, stored.Resource, stored.Outcome, stored.ClientAddress));
        Assert.Equal(entry.Details, stored.Details);
    }
}
