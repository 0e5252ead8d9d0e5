using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IZkCodeRepository"/>, for every provider.</summary>
public abstract class ZkCodeRepositoryContract : StorageContract
{
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private ZkCodeRecord Program(string name, string description = "adds numbers", long at = 1_000, ObjectId? user = null) => new()
    {
        UserId = user ?? _user,
        Name = name,
        Language = "python",
        Description = description,
        Salt = Enumerable.Range(0, 16).Select(i => (byte)(255 - i)).ToArray(),
        Nonce = [0, 0, 1],
        Ciphertext = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(),
        CreatedAt = at,
        UpdatedAt = at,
    };

    [Fact]
    public void A_stored_program_is_found_with_every_field_exact()
    {
        var put = Program("adder");
        Store.ZkCode.Put(put, 10);

        var found = Store.ZkCode.Find(_user, "adder");

        Assert.NotNull(found);
        Assert.Equal(("adder", "python", "adds numbers"), (found.Name, found.Language, found.Description));
        Assert.Equal(put.Salt, found.Salt);
        Assert.Equal(put.Nonce, found.Nonce);
        Assert.Equal(put.Ciphertext, found.Ciphertext);
        Assert.Equal((1_000, 1_000), (found.CreatedAt, found.UpdatedAt));
    }

    [Fact]
    public void An_empty_description_stays_an_empty_string()
    {
        Store.ZkCode.Put(Program("adder", description: ""), 10);

        Assert.Equal("", Store.ZkCode.Find(_user, "adder")!.Description);
    }

    [Fact]
    public void An_unknown_name_finds_nothing()
    {
        Store.ZkCode.Put(Program("adder", user: ObjectId.NewObjectId()), 10);

        Assert.Null(Store.ZkCode.Find(_user, "adder"));
    }

    [Fact]
    public void A_replacement_keeps_the_stored_CreatedAt()
    {
        Store.ZkCode.Put(Program("adder", at: 1_000), 10);

        var returned = Store.ZkCode.Put(Program("adder", description: "new", at: 2_000), 10);

        Assert.Equal(1_000, returned!.CreatedAt);
        var found = Store.ZkCode.Find(_user, "adder")!;
        Assert.Equal((1_000, 2_000, "new"), (found.CreatedAt, found.UpdatedAt, found.Description));
    }

    [Fact]
    public void A_new_name_beyond_the_limit_is_refused_and_not_written()
    {
        Store.ZkCode.Put(Program("a"), 1);

        Assert.Null(Store.ZkCode.Put(Program("b"), 1));
        Assert.Null(Store.ZkCode.Find(_user, "b"));
        Assert.NotNull(Store.ZkCode.Put(Program("a", description: "replaced"), 1));
    }

    [Fact]
    public async Task Concurrent_puts_of_new_names_never_pass_the_limit()
    {
        var results = await AllAtOnce(12, i => Store.ZkCode.Put(Program($"p{i}"), 5));

        Assert.Equal(5, results.Count(r => r is not null));
        Assert.Equal(5, Store.ZkCode.List(_user).Count);
    }

    [Fact]
    public void Delete_removes_the_program_and_says_whether_there_was_one()
    {
        Store.ZkCode.Put(Program("adder"), 10);

        Assert.True(Store.ZkCode.Delete(_user, "adder"));
        Assert.False(Store.ZkCode.Delete(_user, "adder"));
        Assert.Null(Store.ZkCode.Find(_user, "adder"));
    }

    [Fact]
    public void The_list_is_the_users_own_ordered_by_name_ordinally()
    {
        foreach (var name in new[] { "b", "B", "a.1", "-x" }) Store.ZkCode.Put(Program(name), 10);
        Store.ZkCode.Put(Program("other", user: ObjectId.NewObjectId()), 10);

        Assert.Equal(["-x", "B", "a.1", "b"], Store.ZkCode.List(_user).Select(z => z.Name));
    }
}
