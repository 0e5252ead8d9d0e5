using System.Net;
using Grpc.Core;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.PackageLists;

/// <summary>
/// ListPackages, SetPackages, AddPackage and RemovePackage on both protocols. Requirement syntax is tested with the
/// validator itself; these tests use plain names, which every validator accepts unchanged.
/// </summary>
public abstract class PackageListApiTests(ITestServer server)
{
    [Fact]
    public async Task AddPackage_over_REST_accepts_a_python_requirement_with_a_version()
    {
        var user = await Users.RegisterAsync(server.Rest);

        var json = (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests>=2.31" }, user.Key))
            .Expect(HttpStatusCode.OK).Json;

        Assert.Equal("python", json.Str("language"));
        Assert.Equal("requests>=2.31", json.Str("requirement"));
        Assert.Equal("PACKAGE_STATUS_PENDING", json.Str("status"));
        Assert.Equal(["addedAt", "language", "message", "name", "requirement", "status", "updatedAt", "version"],
            json.PropertyNames().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(EndToEnd.LanguageAliasTests.Aliases), MemberType = typeof(EndToEnd.LanguageAliasTests))]
    public async Task An_alias_names_the_same_package_list_as_its_language(string alias, string name)
    {
        var user = await Users.RegisterAsync(server.Rest);
        var package = name == LanguageRegistry.Python.Name ? "requests" : "lodash";

        var added = (await server.Rest.PostAsync("/api/v1/packages", new { language = alias, package }, user.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(name, added.Str("language"));

        var listed = (await server.Rest.GetAsync($"/api/v1/packages?language={alias}", user.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal([$"{name}/{package}"], listed.Items("packages").Select(p => $"{p.Str("language")}/{p.Str("name")}"));

        (await server.Rest.DeleteAsync($"/api/v1/packages/{package}?language={alias}", user.Key)).Expect(HttpStatusCode.OK);
        Assert.Empty((await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages"));
    }

    [Fact]
    public async Task A_requirement_with_a_URL_is_400()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "git+https://x" }, user.Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3, requireMessage: false); // the wording belongs to the validator
        Assert.Empty((await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages"));
    }

    [Fact]
    public async Task A_requirement_with_a_URL_is_INVALID_ARGUMENT_over_gRPC()
    {
        var user = await Users.RegisterAsync(server.Rest);
        await RpcAssert.FailsWith(StatusCode.InvalidArgument,
            server.Rpc.Packages.AddPackageAsync(new AddPackageRequest { Language = "python", Package = "git+https://x" }, user.Key.Metadata));
    }

    [Fact]
    public async Task An_unknown_language_is_400() =>
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "cobol", package = "requests" }, (await Users.RegisterAsync(server.Rest)).Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task ListPackages_over_REST_lists_both_languages_ordered_and_filters_by_language()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "lodash" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "flask" }, user.Key)).Expect(HttpStatusCode.OK);

        var all = (await server.Rest.GetAsync("/api/v1/packages", user.Key)).Expect(HttpStatusCode.OK).Json.Items("packages");
        Assert.Equal(["javascript/lodash", "python/flask", "python/requests"], all.Select(p => $"{p.Str("language")}/{p.Str("name")}"));

        var python = (await server.Rest.GetAsync("/api/v1/packages?language=python", user.Key)).Expect(HttpStatusCode.OK).Json.Items("packages");
        Assert.Equal(["flask", "requests"], python.Select(p => p.Str("name")));
    }

    [Fact]
    public async Task SetPackages_over_REST_replaces_the_list_of_one_language_only()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "lodash" }, user.Key)).Expect(HttpStatusCode.OK);

        var json = (await server.Rest.PutAsync("/api/v1/packages", new { language = "python", packages = new[] { "flask", "numpy" } }, user.Key))
            .Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["flask", "numpy"], json.Items("packages").Select(p => p.Str("name")));
        var all = (await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages");
        Assert.Equal(["javascript/lodash", "python/flask", "python/numpy"], all.Select(p => $"{p.Str("language")}/{p.Str("name")}"));
    }

    [Fact]
    public async Task SetPackages_with_an_empty_list_clears_it()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.PutAsync("/api/v1/packages", new { language = "python", packages = Array.Empty<string>() }, user.Key)).Expect(HttpStatusCode.OK);

        Assert.Empty((await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages"));
    }

    [Fact]
    public async Task SetPackages_naming_a_package_twice_is_400() =>
        (await server.Rest.PutAsync("/api/v1/packages", new { language = "python", packages = new[] { "flask", "flask" } }, (await Users.RegisterAsync(server.Rest)).Key))
            .ExpectStatusBody(HttpStatusCode.BadRequest, 3);

    [Fact]
    public async Task RemovePackage_over_REST_defaults_to_python_and_a_second_remove_is_404()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "python", package = "requests" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.DeleteAsync("/api/v1/packages/requests", user.Key)).Expect(HttpStatusCode.OK);

        Assert.Empty((await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages"));
        (await server.Rest.DeleteAsync("/api/v1/packages/requests", user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
    }

    [Fact]
    public async Task A_scoped_npm_package_is_removed_with_its_unescaped_name_in_the_path()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "@scope/pkg" }, user.Key)).Expect(HttpStatusCode.OK);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "lodash" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.DeleteAsync("/api/v1/packages/@scope/pkg?language=javascript", user.Key)).Expect(HttpStatusCode.OK);

        var left = (await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages");
        Assert.Equal(["lodash"], left.Select(p => p.Str("name")));
    }

    [Fact]
    public async Task Removing_a_package_of_the_other_language_is_404()
    {
        var user = await Users.RegisterAsync(server.Rest);
        (await server.Rest.PostAsync("/api/v1/packages", new { language = "javascript", package = "lodash" }, user.Key)).Expect(HttpStatusCode.OK);

        (await server.Rest.DeleteAsync("/api/v1/packages/lodash", user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, 5);
        Assert.Single((await server.Rest.GetAsync("/api/v1/packages", user.Key)).Json.Items("packages"));
    }

    [Fact]
    public async Task Packages_add_list_set_and_remove_over_gRPC()
    {
        var user = await Users.RegisterAsync(server.Rest);
        var auth = user.Key.Metadata;

        var added = await server.Rpc.Packages.AddPackageAsync(new AddPackageRequest { Language = "javascript", Package = "@scope/pkg" }, auth);
        Assert.Equal("@scope/pkg", added.Name);
        // The answer carries the package's status as it is once the install was asked for: the install queue may
        // already have taken it up (a full run saw Installing once), but it cannot have been installed yet.
        Assert.Contains(added.Status, new[] { PackageStatus.Pending, PackageStatus.Installing });

        var set = await server.Rpc.Packages.SetPackagesAsync(new SetPackagesRequest { Language = "python", Packages = { "requests", "flask" } }, auth);
        Assert.Equal(["flask", "requests"], set.Packages.Select(p => p.Name));

        var python = await server.Rpc.Packages.ListPackagesAsync(new ListPackagesRequest { Language = "python" }, auth);
        Assert.Equal(["flask", "requests"], python.Packages.Select(p => p.Name));

        await server.Rpc.Packages.RemovePackageAsync(new RemovePackageRequest { Name = "@scope/pkg", Language = "javascript" }, auth);
        await server.Rpc.Packages.RemovePackageAsync(new RemovePackageRequest { Name = "flask" }, auth);

        var all = await server.Rpc.Packages.ListPackagesAsync(new ListPackagesRequest(), auth);
        Assert.Equal(["python/requests"], all.Packages.Select(p => $"{p.Language}/{p.Name}"));
        await RpcAssert.FailsWith(StatusCode.NotFound,
            server.Rpc.Packages.RemovePackageAsync(new RemovePackageRequest { Name = "flask" }, auth));
    }
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class PackageListApiInProcess(InProcessServer server) : PackageListApiTests(server), IClassFixture<InProcessServer>;

public sealed class PackageListApiOverRealProcess(ProcessServerFixture server) : PackageListApiTests(server), IClassFixture<ProcessServerFixture>;
