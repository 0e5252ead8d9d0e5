using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="ISecretRepository"/>, for every provider.</summary>
public abstract class SecretRepositoryContract : StorageContract
{
    private readonly ObjectId _user = ObjectId.NewObjectId();

    /// <summary>Every byte value, so an encoding that mangles any of them fails.</summary>
    private static readonly byte[] AllBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    private SecretRecord Secret(string name, byte[]? ciphertext = null, long at = 1_000, ObjectId? user = null) => new()
    {
        UserId = user ?? _user,
        Name = name,
        Nonce = [1, 2, 3],
        Ciphertext = ciphertext ?? [9, 9],
        CreatedAt = at,
        UpdatedAt = at,
    };

    [Fact]
    public void A_put_secret_is_listed_with_its_bytes_exact()
    {
        Assert.NotNull(Store.Secrets.Put(Secret("TOKEN", AllBytes), 10));

        var stored = Assert.Single(Store.Secrets.List(_user));
        Assert.Equal("TOKEN", stored.Name);
        Assert.Equal(_user, stored.UserId);
        Assert.Equal(new byte[] { 1, 2, 3 }, stored.Nonce);
        Assert.Equal(AllBytes, stored.Ciphertext);
        Assert.Equal(1_000, stored.CreatedAt);
        Assert.Equal(1_000, stored.UpdatedAt);
    }

    [Fact]
    public void Empty_byte_arrays_stay_empty()
    {
        Store.Secrets.Put(Secret("EMPTY", []), 10);

        var stored = Assert.Single(Store.Secrets.List(_user));
        Assert.NotNull(stored.Ciphertext);
        Assert.Empty(stored.Ciphertext);
    }

    [Fact]
    public void A_replacement_keeps_the_stored_CreatedAt_and_takes_the_new_value()
    {
        Store.Secrets.Put(Secret("TOKEN", [1], at: 1_000), 10);

        var returned = Store.Secrets.Put(Secret("TOKEN", [2], at: 2_000), 10);

        Assert.Equal(1_000, returned!.CreatedAt);
        var stored = Assert.Single(Store.Secrets.List(_user));
        Assert.Equal(1_000, stored.CreatedAt);
        Assert.Equal(2_000, stored.UpdatedAt);
        Assert.Equal(new byte[] { 2 }, stored.Ciphertext);
    }

    [Fact]
    public void A_new_name_beyond_the_limit_is_refused_and_not_written()
    {
        Store.Secrets.Put(Secret("A"), 2);
        Store.Secrets.Put(Secret("B"), 2);

        Assert.Null(Store.Secrets.Put(Secret("C"), 2));

        Assert.Equal(["A", "B"], Store.Secrets.List(_user).Select(s => s.Name));
    }

    [Fact]
    public void A_replacement_at_the_limit_is_accepted()
    {
        Store.Secrets.Put(Secret("A"), 1);

        Assert.NotNull(Store.Secrets.Put(Secret("A", [7]), 1));
    }

    [Fact]
    public void The_limit_counts_only_the_users_own_secrets()
    {
        Store.Secrets.Put(Secret("A", user: ObjectId.NewObjectId()), 1);

        Assert.NotNull(Store.Secrets.Put(Secret("A"), 1));
    }

    [Fact]
    public async Task Concurrent_puts_of_new_names_never_pass_the_limit()
    {
        var results = await AllAtOnce(12, i => Store.Secrets.Put(Secret($"S{i}"), 5));

        Assert.Equal(5, results.Count(r => r is not null));
        Assert.Equal(5, Store.Secrets.List(_user).Count);
    }

    [Fact]
    public void Delete_removes_the_row_and_says_whether_there_was_one()
    {
        Store.Secrets.Put(Secret("A"), 10);

        Assert.True(Store.Secrets.Delete(_user, "A"));
        Assert.False(Store.Secrets.Delete(_user, "A"));
        Assert.Empty(Store.Secrets.List(_user));
    }

    [Fact]
    public void The_list_is_the_users_own_ordered_by_name_ordinally()
    {
        foreach (var name in new[] { "b", "_C", "A", "a" }) Store.Secrets.Put(Secret(name), 10);
        Store.Secrets.Put(Secret("OTHER", user: ObjectId.NewObjectId()), 10);

        Assert.Equal(["A", "_C", "a", "b"], Store.Secrets.List(_user).Select(s => s.Name));
    }
}
