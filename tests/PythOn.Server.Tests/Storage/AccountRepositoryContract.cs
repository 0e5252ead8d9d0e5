using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IAccountRepository"/>, for every provider.</summary>
public abstract class AccountRepositoryContract : StorageContract
{
    private static UserRecord NewUser(string email) => new() { Email = email, PasswordHash = "$argon2id$hash", CreatedAt = 1_000 };

    private static ApiKeyRecord KeyOf(UserRecord user, string hash) => new() { UserId = user.Id, KeyHash = hash, CreatedAt = user.CreatedAt };

    private UserRecord Created(string email, string keyHash)
    {
        var user = NewUser(email);
        Assert.True(Store.Accounts.TryCreate(user, KeyOf(user, keyHash)));
        return user;
    }

    [Fact]
    public void A_created_user_is_found_by_email_and_by_id_with_every_field()
    {
        var user = Created("ada@example.com", "key-a");

        var byEmail = Store.Accounts.FindByEmail("ada@example.com");
        var byId = Store.Accounts.FindById(user.Id);

        foreach (var found in new[] { byEmail, byId })
        {
            Assert.NotNull(found);
            Assert.Equal(user.Id, found.Id);
            Assert.Equal("ada@example.com", found.Email);
            Assert.Equal("$argon2id$hash", found.PasswordHash);
            Assert.Equal(1_000, found.CreatedAt);
            Assert.Equal(0, found.TokensRevokedAt);
        }
    }

    [Fact]
    public void An_unknown_email_or_id_finds_nobody()
    {
        Created("ada@example.com", "key-a");

        Assert.Null(Store.Accounts.FindByEmail("bob@example.com"));
        Assert.Null(Store.Accounts.FindById(ObjectId.NewObjectId()));
    }

    [Fact]
    public void Creating_a_user_with_a_taken_email_returns_false_and_writes_neither_user_nor_key()
    {
        var first = Created("ada@example.com", "key-a");
        var second = NewUser("ada@example.com");

        Assert.False(Store.Accounts.TryCreate(second, KeyOf(second, "key-b")));

        Assert.Null(Store.Accounts.FindById(second.Id));
        Assert.Null(Store.Accounts.FindByApiKeyHash("key-b"));
        Assert.Equal(first.Id, Store.Accounts.FindByEmail("ada@example.com")!.Id);
    }

    [Fact]
    public async Task Of_concurrent_creations_with_one_email_exactly_one_succeeds()
    {
        var users = Enumerable.Range(0, 8).Select(_ => NewUser("race@example.com")).ToArray();

        var results = await AllAtOnce(users.Length, i => Store.Accounts.TryCreate(users[i], KeyOf(users[i], $"key-{i}")));

        Assert.Single(results, r => r);
        var winner = Array.IndexOf(results, true);
        for (var i = 0; i < users.Length; i++)
            Assert.Equal(i == winner, Store.Accounts.FindByApiKeyHash($"key-{i}") is not null);
    }

    [Fact]
    public void An_API_key_hash_finds_its_owner_and_an_unknown_hash_finds_nobody()
    {
        var ada = Created("ada@example.com", "key-a");
        Created("bob@example.com", "key-b");

        Assert.Equal(ada.Id, Store.Accounts.FindByApiKeyHash("key-a")!.Id);
        Assert.Null(Store.Accounts.FindByApiKeyHash("key-unknown"));
    }

    [Fact]
    public void Replacing_API_keys_removes_the_old_ones_stores_the_new_one_and_counts_the_removed()
    {
        var ada = Created("ada@example.com", "key-1");

        Assert.Equal(1, Store.Accounts.ReplaceApiKeys(ada.Id, KeyOf(ada, "key-2")));

        Assert.Null(Store.Accounts.FindByApiKeyHash("key-1"));
        Assert.Equal(ada.Id, Store.Accounts.FindByApiKeyHash("key-2")!.Id);
    }

    [Fact]
    public void Replacing_API_keys_leaves_other_users_keys_alone()
    {
        var ada = Created("ada@example.com", "key-a");
        var bob = Created("bob@example.com", "key-b");

        Store.Accounts.ReplaceApiKeys(ada.Id, KeyOf(ada, "key-a2"));

        Assert.Equal(bob.Id, Store.Accounts.FindByApiKeyHash("key-b")!.Id);
    }

    [Fact]
    public void Revoking_all_credentials_removes_keys_revokes_live_tokens_and_sets_the_cutoff()
    {
        var ada = Created("ada@example.com", "key-a");
        Store.RefreshTokens.Insert(new RefreshTokenRecord { Id = "live", UserId = ada.Id, FamilyId = "f1", ExpiresAt = long.MaxValue });
        Store.RefreshTokens.Insert(new RefreshTokenRecord { Id = "revoked", UserId = ada.Id, FamilyId = "f2", ExpiresAt = long.MaxValue, Revoked = true });

        var result = Store.Accounts.RevokeAllCredentials(ada.Id, 5_000);

        Assert.Equal((1, 1), result);
        Assert.Null(Store.Accounts.FindByApiKeyHash("key-a"));
        Assert.Equal(RefreshOutcome.Reused, Store.RefreshTokens.Redeem("live", 1).Outcome);
        Assert.Equal(5_000, Store.Accounts.FindById(ada.Id)!.TokensRevokedAt);
    }

    [Fact]
    public void Revoking_all_credentials_leaves_other_users_credentials_alone()
    {
        var ada = Created("ada@example.com", "key-a");
        var bob = Created("bob@example.com", "key-b");
        Store.RefreshTokens.Insert(new RefreshTokenRecord { Id = "bob-token", UserId = bob.Id, FamilyId = "fb", ExpiresAt = long.MaxValue });

        Store.Accounts.RevokeAllCredentials(ada.Id, 5_000);

        Assert.Equal(bob.Id, Store.Accounts.FindByApiKeyHash("key-b")!.Id);
        Assert.Equal(RefreshOutcome.Redeemed, Store.RefreshTokens.Redeem("bob-token", 1).Outcome);
        Assert.Equal(0, Store.Accounts.FindById(bob.Id)!.TokensRevokedAt);
    }

    [Fact]
    public void Revoking_all_credentials_of_an_unknown_user_returns_null()
    {
        Assert.Null(Store.Accounts.RevokeAllCredentials(ObjectId.NewObjectId(), 5_000));
    }
}
