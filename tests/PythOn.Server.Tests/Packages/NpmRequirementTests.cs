using PythOn.Server.Packages;
using static PythOn.Server.Tests.Packages.Requirements;

namespace PythOn.Server.Tests.Packages;

/// <summary>npm requirements: what is accepted in which canonical form, what is refused and why.</summary>
[Trait(Tier.Name, Tier.Fast)]
public class NpmRequirementTests
{
    // ------------------------------------------------------------------ npm: accepted

    [Theory]
    [InlineData("lodash", "lodash", "", "lodash")]
    [InlineData("  lodash  ", "lodash", "", "lodash")]
    [InlineData("lodash.merge", "lodash.merge", "", "lodash.merge")]
    [InlineData("my-pkg_2", "my-pkg_2", "", "my-pkg_2")]
    [InlineData("@types/node", "@types/node", "", "@types/node")]
    [InlineData("@scope/pkg-name.js", "@scope/pkg-name.js", "", "@scope/pkg-name.js")]
    [InlineData("@types/node@20", "@types/node", "20", "@types/node@20")]
    [InlineData("react@18.2.0", "react", "18.2.0", "react@18.2.0")]
    [InlineData("react@^18.2.0", "react", "^18.2.0", "react@^18.2.0")]
    [InlineData("react@~1.2", "react", "~1.2", "react@~1.2")]
    [InlineData("react@latest", "react", "latest", "react@latest")]
    [InlineData("typescript@next", "typescript", "next", "typescript@next")]
    [InlineData("pkg@beta", "pkg", "beta", "pkg@beta")]
    [InlineData("pkg@release-1.x_y", "pkg", "release-1.x_y", "pkg@release-1.x_y")]
    [InlineData("pkg@>=1.2.3 <2.0.0", "pkg", ">=1.2.3 <2.0.0", "pkg@>=1.2.3 <2.0.0")]
    [InlineData("pkg@>= 1.2.3 < 2", "pkg", ">=1.2.3 <2", "pkg@>=1.2.3 <2")]
    [InlineData("pkg@1.2.3 - 2.3.4", "pkg", "1.2.3 - 2.3.4", "pkg@1.2.3 - 2.3.4")]
    [InlineData("pkg@1.x || >=2.5.0 || 5.0.0 - 7.2.3", "pkg", "1.x || >=2.5.0 || 5.0.0 - 7.2.3", "pkg@1.x || >=2.5.0 || 5.0.0 - 7.2.3")]
    [InlineData("pkg@1.x||2.x", "pkg", "1.x || 2.x", "pkg@1.x || 2.x")]
    [InlineData("pkg@*", "pkg", "*", "pkg@*")]
    [InlineData("pkg@x", "pkg", "x", "pkg@x")]
    [InlineData("pkg@1.2.X", "pkg", "1.2.X", "pkg@1.2.X")]
    [InlineData("pkg@v1.2.3", "pkg", "v1.2.3", "pkg@v1.2.3")]
    [InlineData("pkg@=1.2.3", "pkg", "=1.2.3", "pkg@=1.2.3")]
    [InlineData("pkg@1.0.0-alpha.1", "pkg", "1.0.0-alpha.1", "pkg@1.0.0-alpha.1")]
    [InlineData("pkg@1.0.0-rc.1+build.5", "pkg", "1.0.0-rc.1+build.5", "pkg@1.0.0-rc.1+build.5")]
    [InlineData("pkg@^1.0.0-beta", "pkg", "^1.0.0-beta", "pkg@^1.0.0-beta")]
    [InlineData("pkg@~ 1.2", "pkg", "~1.2", "pkg@~1.2")]
    [InlineData("@scope/pkg@>1 <=2.0.0-0", "@scope/pkg", ">1 <=2.0.0-0", "@scope/pkg@>1 <=2.0.0-0")]
    public void Npm_requirement_is_accepted_in_canonical_form(string input, string name, string version, string canonical)
    {
        Assert.Equal(new PackageRequirement("javascript", name, version, canonical), Accept(Js, input));
    }

    [Theory]
    [InlineData("pkg@>= 1.2.3 < 2")]
    [InlineData("pkg@1.x||2.x")]
    [InlineData("@types/node@20")]
    [InlineData("pkg@1.2.3 - 2.3.4")]
    public void Npm_canonical_requirement_parses_back_to_itself(string input)
    {
        var first = Accept(Js, input);
        Assert.Equal(first, Accept(Js, first.Requirement));
    }

    // ------------------------------------------------------------------ npm: refused

    [Theory]
    [InlineData("file:../mypkg", "'file:'")]
    [InlineData("pkg@file:../mypkg", "'file:'")]
    [InlineData("link:../mypkg", "'link:'")]
    [InlineData("git+https://github.com/user/repo.git", "git references")]
    [InlineData("git+ssh://git@github.com/user/repo.git", "git references")]
    [InlineData("git://github.com/user/repo.git", "git references")]
    [InlineData("git@github.com:user/repo.git", "git references")]
    [InlineData("github:user/repo", "git references")]
    [InlineData("gitlab:user/repo", "git references")]
    [InlineData("pkg@github:user/repo", "git references")]
    [InlineData("https://registry.npmjs.org/x/-/x-1.0.0.tgz", "URLs")]
    [InlineData("http://example.com/x", "URLs")]
    [InlineData("pkg@https://example.com/pkg", "URLs")]
    [InlineData("alias@npm:react@18", "npm aliases")]
    [InlineData("npm:react", "npm aliases")]
    [InlineData("pkg@workspace:*", "workspace")]
    [InlineData("pkg@foo:bar", "'foo:'")]
    [InlineData("pkg@1.0:2", "':'")]
    [InlineData("C:\\pkg", "local paths")]
    [InlineData("./local", "local paths")]
    [InlineData("../x", "local paths")]
    [InlineData("/abs/pkg", "local paths")]
    [InlineData("~/pkg", "local paths")]
    [InlineData(".hidden", "local paths")]
    [InlineData("user/repo", "GitHub shorthands")]
    [InlineData("pkg@user/repo", "GitHub shorthands")]
    [InlineData("@scope/pkg/extra", "path after the package name")]
    [InlineData("pkg.tgz", "tarballs")]
    [InlineData("pkg.tar.gz", "tarballs")]
    [InlineData("pkg@latest.tgz", "tarballs")]
    [InlineData("pkg#v1.0", "git references")]
    [InlineData("pkg@1.0.0#semver:^1", "not allowed")]
    [InlineData("--registry=https://evil.example", "installer options")]
    [InlineData("-g pkg", "installer options")]
    [InlineData("pkg --ignore-scripts=false", "installer options")]
    [InlineData("pkg -g", "installer options")]
    public void Npm_refuses_protocols_urls_git_aliases_paths_tarballs_and_options(string input, string expected)
    {
        var error = Refuse(Js, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains(expected, error);
        Assert.Contains("not allowed", error);
        Assert.Contains("e.g. 'lodash'", error); // says what is accepted
    }

    [Theory]
    [InlineData("pkg;ls", "';'")]
    [InlineData("pkg$(id)", "'$'")]
    [InlineData("pkg`id`", "'`'")]
    [InlineData("pkg&&id", "'&'")]
    [InlineData("pkg'", "'''")]
    [InlineData("pkg\"", "'\"'")]
    [InlineData("pkg@1.0!", "'!'")]
    [InlineData("pkg@(1.0)", "'('")]
    [InlineData("pkg@1,2", "','")]
    [InlineData("pkg\\x", "'\\'")]
    [InlineData("pkg%20", "'%'")]
    public void Npm_refuses_shell_metacharacters(string input, string character)
    {
        var error = Refuse(Js, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains($"the character {character} is not allowed", error);
    }

    [Theory]
    [InlineData("React", "must be lower-case (did you mean 'react'?)")]
    [InlineData("@Types/node", "must be lower-case")]
    [InlineData("JSONStream@1.0.0", "must be lower-case")]
    [InlineData("_private", "must not start with '.' or '_'")]
    [InlineData("@scope/_private", "must not start with '.' or '_'")]
    [InlineData("@scope/.hidden", "must not start with '.' or '_'")]
    [InlineData("@_scope/pkg", "must not start with '.' or '_'")]
    [InlineData("node_modules", "reserved")]
    [InlineData("favicon.ico", "reserved")]
    [InlineData("@scope", "'@scope/name'")]
    [InlineData("@scope@1.0", "'@scope/name'")]
    [InlineData("@/pkg", "not a valid npm package name")]
    [InlineData("pkg*", "not a valid npm package name")]
    [InlineData("react 18", "contains a space")]
    [InlineData("react ^18.2.0", "contains a space")]
    [InlineData("react @18", "contains a space")]
    [InlineData("pkg@", "'@' must be followed by a semver range or dist-tag")]
    [InlineData("pkg@1.0@2.0", "only one '@'")]
    [InlineData("pkg@ 1.0", "single spaces")]
    [InlineData("pkg@1.0  ||  2.0", "single spaces")]
    [InlineData("pkg@>=1.0  <2", "single spaces")]
    [InlineData("pkg@1.2.3.4", "neither a semver range")]
    [InlineData("pkg@01.2.3", "neither a semver range")]
    [InlineData("pkg@1.2-beta", "neither a semver range")]
    [InlineData("pkg@Latest", "neither a semver range")]
    [InlineData("pkg@~>1.2", "neither a semver range")]
    [InlineData("pkg@>=", "neither a semver range")]
    [InlineData("pkg@1.0 || ", "neither a semver range")]
    [InlineData("pkg@|| 1.0", "neither a semver range")]
    [InlineData("pkg@1.0 | 2.0", "neither a semver range")]
    [InlineData("pkg@1.0 - 2.0 - 3.0", "neither a semver range")]
    [InlineData("pkg@^1.0 - 2.0", "neither a semver range")]
    [InlineData("pkg@1.0.0-", "neither a semver range")]
    [InlineData("pkg@1.0.0+", "neither a semver range")]
    [InlineData("pkg@1-beta", "neither a semver range")]
    public void Npm_refuses_malformed_names_and_ranges(string input, string expected)
    {
        var error = Refuse(Js, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains(expected, error);
        Assert.Contains("is not a valid npm package requirement", error);
    }

    [Fact]
    public void Npm_error_message_says_what_is_wrong_and_what_is_accepted()
    {
        Assert.Equal(
            "'github:user/repo' is not a valid npm package requirement: git references (e.g. 'github:user/repo', 'git+https://...') are not allowed. " +
            "Use an npm registry package name with an optional semver range or dist-tag, " +
            "e.g. 'lodash', 'react@^18.2.0', '@types/node@20' or 'typescript@next'.",
            Refuse(Js, "github:user/repo"));
    }
}
