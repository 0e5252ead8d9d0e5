using LiteDB;
using PythOn.Server.Packages;
using PythOn.Server.Storage;

namespace PythOn.Server.Tests.Storage;

/// <summary>The clauses of <see cref="IPackageRepository"/>, for every provider.</summary>
public abstract class PackageRepositoryContract : StorageContract
{
    private readonly ObjectId _user = ObjectId.NewObjectId();

    private PackageRecord Row(string name, string requirement = "", string language = "python", long at = 1_000, ObjectId? user = null) => new()
    {
        UserId = user ?? _user,
        Language = language,
        Name = name,
        Requirement = requirement == "" ? name : requirement,
        Version = "",
        Status = PackageStates.Pending,
        Message = "",
        AddedAt = at,
        UpdatedAt = at,
    };

    private void Installed(params string[] names) =>
        Store.Packages.SetStatus(_user, "python", names.ToDictionary(n => n, n => Store.Packages.List(_user, "python").Single(r => r.Name == n).Requirement),
            _ => (PackageStates.Ready, "installed"), 1_500);

    private PackageRecord Stored(string name, string language = "python") => Store.Packages.List(_user, language).Single(r => r.Name == name);

    [Fact]
    public void The_list_is_ordered_by_language_then_name_and_filters_by_language()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("requests"), Row("Flask"), Row("attrs")]);
        Store.Packages.ReplaceList(_user, "javascript", [Row("lodash", language: "javascript")]);
        Store.Packages.ReplaceList(ObjectId.NewObjectId(), "python", [Row("numpy")]);

        Assert.Equal(["javascript/lodash", "python/Flask", "python/attrs", "python/requests"],
            Store.Packages.List(_user).Select(r => $"{r.Language}/{r.Name}"));
        Assert.Equal(["Flask", "attrs", "requests"], Store.Packages.List(_user, "python").Select(r => r.Name));
    }

    [Fact]
    public void Empty_strings_stay_empty_strings()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs")]);

        var stored = Stored("attrs");
        Assert.Equal(("", ""), (stored.Version, stored.Message));
    }

    [Fact]
    public void Replacing_the_list_deletes_unwanted_rows_and_leaves_other_languages_alone()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs"), Row("requests")]);
        Store.Packages.ReplaceList(_user, "javascript", [Row("lodash", language: "javascript")]);

        Store.Packages.ReplaceList(_user, "python", [Row("requests")]);

        Assert.Equal(["javascript/lodash", "python/requests"], Store.Packages.List(_user).Select(r => $"{r.Language}/{r.Name}"));
    }

    [Fact]
    public void Replacing_the_list_keeps_the_status_of_unchanged_rows()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs")]);
        Installed("attrs");

        Store.Packages.ReplaceList(_user, "python", [Row("attrs", at: 2_000), Row("requests", at: 2_000)]);

        var attrs = Stored("attrs");
        Assert.Equal((PackageStates.Ready, "installed", 1_000L), (attrs.Status, attrs.Message, attrs.AddedAt));
        Assert.Equal(PackageStates.Pending, Stored("requests").Status);
    }

    [Fact]
    public void Replacing_the_list_writes_a_changed_requirement_keeping_its_AddedAt()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs", "attrs==1.0")]);
        Installed("attrs");

        Store.Packages.ReplaceList(_user, "python", [Row("attrs", "attrs==2.0", at: 2_000)]);

        var attrs = Stored("attrs");
        Assert.Equal(("attrs==2.0", PackageStates.Pending, 1_000L, 2_000L), (attrs.Requirement, attrs.Status, attrs.AddedAt, attrs.UpdatedAt));
    }

    [Fact]
    public void Adding_a_new_name_stores_the_row_as_given()
    {
        var added = Store.Packages.Add(Row("attrs", "attrs>=1"), 10);

        Assert.Equal("attrs>=1", added!.Requirement);
        Assert.Equal(("attrs>=1", PackageStates.Pending, 1_000L), (Stored("attrs").Requirement, Stored("attrs").Status, Stored("attrs").AddedAt));
    }

    [Fact]
    public void Adding_an_unchanged_requirement_returns_the_existing_row_untouched()
    {
        Store.Packages.Add(Row("attrs"), 10);
        Installed("attrs");

        var again = Store.Packages.Add(Row("attrs", at: 2_000), 10);

        Assert.Equal((PackageStates.Ready, "installed"), (again!.Status, again.Message));
        Assert.Equal(PackageStates.Ready, Stored("attrs").Status);
    }

    [Fact]
    public void Adding_a_changed_requirement_replaces_the_row_keeping_its_AddedAt()
    {
        Store.Packages.Add(Row("attrs", "attrs==1.0"), 10);
        Installed("attrs");

        var replaced = Store.Packages.Add(Row("attrs", "attrs==2.0", at: 2_000), 10);

        Assert.Equal(1_000, replaced!.AddedAt);
        var stored = Stored("attrs");
        Assert.Equal(("attrs==2.0", PackageStates.Pending, 1_000L), (stored.Requirement, stored.Status, stored.AddedAt));
    }

    [Fact]
    public void A_new_name_beyond_the_limit_is_refused_but_a_replacement_is_not()
    {
        Store.Packages.Add(Row("attrs"), 1);
        Store.Packages.Add(Row("lodash", language: "javascript"), 1);

        Assert.Null(Store.Packages.Add(Row("requests"), 1));
        Assert.Equal(["attrs"], Store.Packages.List(_user, "python").Select(r => r.Name));
        Assert.NotNull(Store.Packages.Add(Row("attrs", "attrs==2.0"), 1));
    }

    [Fact]
    public async Task Concurrent_adds_of_new_names_never_pass_the_limit()
    {
        var results = await AllAtOnce(12, i => Store.Packages.Add(Row($"pkg{i}"), 5));

        Assert.Equal(5, results.Count(r => r is not null));
        Assert.Equal(5, Store.Packages.List(_user, "python").Count);
    }

    [Fact]
    public void Remove_deletes_one_row_and_says_whether_there_was_one()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs"), Row("requests")]);

        Assert.True(Store.Packages.Remove(_user, "python", "attrs"));
        Assert.False(Store.Packages.Remove(_user, "python", "attrs"));
        Assert.False(Store.Packages.Remove(_user, "javascript", "requests"));
        Assert.Equal(["requests"], Store.Packages.List(_user).Select(r => r.Name));
    }

    [Fact]
    public void Marking_pending_resets_every_row_of_the_list_status_and_message()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs"), Row("requests")]);
        Installed("attrs", "requests");

        Store.Packages.MarkPending(_user, "python", 3_000);

        Assert.All(Store.Packages.List(_user, "python"), r => Assert.Equal((PackageStates.Pending, ""), (r.Status, r.Message)));
    }

    [Fact]
    public void Setting_a_status_changes_only_rows_whose_requirement_is_still_the_installed_one()
    {
        Store.Packages.ReplaceList(_user, "python", [Row("attrs", "attrs==2.0"), Row("requests"), Row("six")]);

        Store.Packages.SetStatus(_user, "python", new Dictionary<string, string> { ["attrs"] = "attrs==1.0", ["requests"] = "requests" },
            row => (PackageStates.Failed, $"no {row.Name}"), 3_000);

        Assert.Equal((PackageStates.Pending, ""), (Stored("attrs").Status, Stored("attrs").Message));
        Assert.Equal((PackageStates.Failed, "no requests"), (Stored("requests").Status, Stored("requests").Message));
        Assert.Equal(PackageStates.Pending, Stored("six").Status);
    }

    [Fact]
    public void Unfinished_lists_each_user_and_language_with_a_pending_or_installing_row_once()
    {
        var other = ObjectId.NewObjectId();
        Store.Packages.ReplaceList(_user, "python", [Row("attrs"), Row("requests")]);
        Store.Packages.ReplaceList(_user, "javascript", [Row("lodash", language: "javascript")]);
        Store.Packages.SetStatus(_user, "javascript", new Dictionary<string, string> { ["lodash"] = "lodash" }, _ => (PackageStates.Ready, ""), 2_000);
        Store.Packages.ReplaceList(other, "javascript", [Row("react", language: "javascript", user: other)]);
        Store.Packages.SetStatus(other, "javascript", new Dictionary<string, string> { ["react"] = "react" }, _ => (PackageStates.Installing, ""), 2_000);

        var unfinished = Store.Packages.Unfinished().OrderBy(u => u.Language).ToList();

        Assert.Equal([(other, "javascript"), (_user, "python")], unfinished);
    }
}
