using PythOn.Server.Packages;

namespace PythOn.Server.Tests.Packages;

public class PackageRequirementTests
{
    private const string Py = "python";
    private const string Js = "javascript";

    private static PackageRequirement Accept(string language, string input)
    {
        var ok = PackageRequirements.TryParse(language, input, out var requirement, out var error);
        Assert.True(ok, $"expected '{input}' to be accepted, got: {error}");
        Assert.NotNull(requirement);
        Assert.Equal("", error);
        return requirement!;
    }

    private static string Refuse(string language, string input)
    {
        var ok = PackageRequirements.TryParse(language, input, out var requirement, out var error);
        Assert.False(ok, $"expected '{input}' to be refused, got: {requirement}");
        Assert.Null(requirement);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    // ------------------------------------------------------------------ languages and limits

    [Fact]
    public void Languages_are_python_and_javascript_and_max_length_is_200()
    {
        Assert.Equal(new[] { "python", "javascript" }, PackageRequirements.Languages);
        Assert.Equal(200, PackageRequirements.MaxLength);
    }

    [Theory]
    [InlineData("python", "python")]
    [InlineData("Python", "python")]
    [InlineData("PYTHON", "python")]
    [InlineData("javascript", "javascript")]
    [InlineData("JavaScript", "javascript")]
    [InlineData("py", "python")]
    [InlineData(" python ", "python")]
    [InlineData("js", "javascript")]
    [InlineData("node", "javascript")]
    public void Language_names_and_aliases_are_matched_case_insensitively_and_normalised_to_the_name(string language, string expected)
    {
        var input = expected == Py ? "requests" : "lodash";
        Assert.Equal(expected, Accept(language, input).Language);
    }

    [Theory]
    [InlineData("ruby")]
    [InlineData("pyth")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_language_is_refused_with_the_language_message(string? language)
    {
        Assert.Equal("language must be 'python' or 'javascript'", Refuse(language!, "requests"));
        Assert.Null(PackageRequirements.NormalizeName(language!, "requests"));
    }

    [Theory]
    [InlineData(Py, "")]
    [InlineData(Py, "   ")]
    [InlineData(Js, "")]
    [InlineData(Js, "  ")]
    [InlineData(Py, null)]
    public void Empty_or_blank_input_is_refused(string language, string? input)
    {
        var error = Refuse(language, input!);
        Assert.Contains("empty", error);
        Assert.Contains("e.g.", error);
    }

    [Theory]
    [InlineData(Py)]
    [InlineData(Js)]
    public void Input_of_exactly_max_length_is_accepted_and_one_more_is_refused(string language)
    {
        var name = new string('a', PackageRequirements.MaxLength);
        Assert.Equal(name, Accept(language, name).Name);

        var error = Refuse(language, name + "a");
        Assert.Contains("longer than 200 characters", error);
        Assert.Contains("'aaaaaaaaaa", error); // quoted, shortened
        Assert.True(error.Length < 400, error);
    }

    [Theory]
    [InlineData(Py, "requests\n", "\\u000A")]
    [InlineData(Py, "requests\r\n", "\\u000D")]
    [InlineData(Py, "requests\t>=2.31", "\\u0009")]
    [InlineData(Py, "\nrequests", "\\u000A")]
    [InlineData(Py, "requests\0", "\\u0000")]
    [InlineData(Py, "requests\u001b[31m", "\\u001B")]
    [InlineData(Py, "requests\u007f", "\\u007F")]
    [InlineData(Js, "lodash\n", "\\u000A")]
    [InlineData(Js, "react@1.0\t2.0", "\\u0009")]
    [InlineData(Js, "lodash\u0085", "\\u0085")]
    public void Control_characters_are_refused_and_shown_escaped(string language, string input, string escaped)
    {
        var error = Refuse(language, input);
        Assert.Contains("control character", error);
        Assert.Contains(escaped, error);
    }

    [Theory]
    [InlineData(Py, "requests\u00a0>=2.31", "U+00A0")] // no-break space
    [InlineData(Py, "requ\u200bests", "U+200B")] // zero-width space
    [InlineData(Py, "re\u0440uests", "U+0440")] // Cyrillic er
    [InlineData(Py, "requests\u3000", "U+3000")] // ideographic space
    [InlineData(Js, "lodash\u202e", "U+202E")] // right-to-left override
    [InlineData(Js, "react@\uff1e=1.0", "U+FF1E")] // full-width '>'
    public void Non_ascii_characters_are_refused(string language, string input, string codePoint)
    {
        var error = Refuse(language, input);
        Assert.Contains("non-ASCII", error);
        Assert.Contains(codePoint, error);
    }

    // ------------------------------------------------------------------ Python: accepted

    [Theory]
    [InlineData("requests", "requests", "", "requests")]
    [InlineData("Requests", "requests", "", "requests")]
    [InlineData("  requests  ", "requests", "", "requests")]
    [InlineData("a", "a", "", "a")]
    [InlineData("zope.interface", "zope-interface", "", "zope-interface")]
    [InlineData("Foo__Bar..baz-_qux", "foo-bar-baz-qux", "", "foo-bar-baz-qux")]
    [InlineData("requests>=2.31", "requests", ">=2.31", "requests>=2.31")]
    [InlineData("requests >= 2.31, < 3", "requests", ">=2.31,<3", "requests>=2.31,<3")]
    [InlineData("requests  >=2.31 ,<3", "requests", ">=2.31,<3", "requests>=2.31,<3")]
    [InlineData("Django>=4.2,<5.0", "django", ">=4.2,<5.0", "django>=4.2,<5.0")]
    [InlineData("numpy==1.26.*", "numpy", "==1.26.*", "numpy==1.26.*")]
    [InlineData("numpy!=1.25.*", "numpy", "!=1.25.*", "numpy!=1.25.*")]
    [InlineData("pkg~=2.31", "pkg", "~=2.31", "pkg~=2.31")]
    [InlineData("pkg~=1.4.5", "pkg", "~=1.4.5", "pkg~=1.4.5")]
    [InlineData("pkg===1.0", "pkg", "===1.0", "pkg===1.0")]
    [InlineData("pkg==1.0+local.7", "pkg", "==1.0+local.7", "pkg==1.0+local.7")]
    [InlineData("pkg!=2.0+ubuntu-1", "pkg", "!=2.0+ubuntu-1", "pkg!=2.0+ubuntu-1")]
    [InlineData("pkg==1!2.0", "pkg", "==1!2.0", "pkg==1!2.0")]
    [InlineData("pkg>=1.0a1", "pkg", ">=1.0a1", "pkg>=1.0a1")]
    [InlineData("pkg>=1.0rc2", "pkg", ">=1.0rc2", "pkg>=1.0rc2")]
    [InlineData("pkg==1.0.post1", "pkg", "==1.0.post1", "pkg==1.0.post1")]
    [InlineData("pkg==1.0.dev3", "pkg", "==1.0.dev3", "pkg==1.0.dev3")]
    [InlineData("pkg==1.0b2.post3.dev4", "pkg", "==1.0b2.post3.dev4", "pkg==1.0b2.post3.dev4")]
    [InlineData("pkg==1.0.0-beta", "pkg", "==1.0.0-beta", "pkg==1.0.0-beta")]
    [InlineData("pkg<2", "pkg", "<2", "pkg<2")]
    [InlineData("pkg>1", "pkg", ">1", "pkg>1")]
    [InlineData("pkg<=2.0,!=1.5", "pkg", "<=2.0,!=1.5", "pkg<=2.0,!=1.5")]
    [InlineData("pkg>=v1.0", "pkg", ">=v1.0", "pkg>=v1.0")]
    public void Python_requirement_is_accepted_in_canonical_form(string input, string name, string version, string canonical)
    {
        var r = Accept(Py, input);
        Assert.Equal(new PackageRequirement("python", name, version, canonical), r);
    }

    [Theory]
    [InlineData("uvicorn[standard]==0.30.1", "uvicorn", "==0.30.1", "uvicorn[standard]==0.30.1")]
    [InlineData("Uvicorn [ Standard ] == 0.30.1", "uvicorn", "==0.30.1", "uvicorn[standard]==0.30.1")]
    [InlineData("pkg[b,a]", "pkg", "", "pkg[a,b]")]
    [InlineData("pkg[Foo_Bar, foo.bar, a]", "pkg", "", "pkg[a,foo-bar]")]
    [InlineData("pkg[]", "pkg", "", "pkg")]
    [InlineData("pkg[ ]>=1", "pkg", ">=1", "pkg>=1")]
    public void Python_extras_are_normalised_deduplicated_and_sorted(string input, string name, string version, string canonical)
    {
        Assert.Equal(new PackageRequirement("python", name, version, canonical), Accept(Py, input));
    }

    [Theory]
    [InlineData("pkg (>=1.0, <2)", "pkg>=1.0,<2")]
    [InlineData("pkg(==1.0)", "pkg==1.0")]
    [InlineData("pkg[x] ( >=1.0 )", "pkg[x]>=1.0")]
    public void Python_specifier_in_parentheses_is_accepted_and_the_parentheses_dropped(string input, string canonical)
    {
        Assert.Equal(canonical, Accept(Py, input).Requirement);
    }

    [Theory]
    [InlineData("Requests >= 2.31 , < 3")]
    [InlineData("Uvicorn[Standard,HTTP_tools]~=0.30")]
    [InlineData("pkg (==1.0+Local)")]
    [InlineData("Zope.Interface")]
    public void Python_canonical_requirement_parses_back_to_itself(string input)
    {
        var first = Accept(Py, input);
        Assert.Equal(first, Accept(Py, first.Requirement));
    }

    // ------------------------------------------------------------------ Python: refused

    [Theory]
    [InlineData("-e .", "installer options")]
    [InlineData("-e git+https://github.com/psf/requests", "installer options")]
    [InlineData("--index-url https://evil.example/simple", "installer options")]
    [InlineData("--index-url=https://evil.example/simple", "installer options")]
    [InlineData("-r requirements.txt", "installer options")]
    [InlineData("-c constraints.txt", "installer options")]
    [InlineData("requests --extra-index-url https://evil.example", "installer options")]
    [InlineData("requests --no-binary=:all:", "installer options")]
    [InlineData("git+https://github.com/psf/requests", "VCS references")]
    [InlineData("git+https://github.com/psf/requests@v2.31.0#egg=requests", "VCS references")]
    [InlineData("hg+https://hg.example/repo", "VCS references")]
    [InlineData("svn+svn://svn.example/repo", "VCS references")]
    [InlineData("git@github.com:psf/requests.git", "VCS references")]
    [InlineData("requests @ https://example.com/requests-2.31.0.whl", "direct references")]
    [InlineData("requests@https://example.com/r.tar.gz", "direct references")]
    [InlineData("requests[socks] @ file:///tmp/requests", "direct references")]
    [InlineData("https://example.com/pkg-1.0.tar.gz", "URLs")]
    [InlineData("file:///tmp/pkg", "URLs")]
    [InlineData("file:pkg", "file:")]
    [InlineData("requests; python_version<\"3.8\"", "environment markers")]
    [InlineData("requests ; python_version < '3.8'", "environment markers")]
    [InlineData("requests>=2;sys_platform=='linux'", "environment markers")]
    [InlineData("requests;echo pwned", "environment markers")]
    [InlineData("./dist/pkg", "local paths")]
    [InlineData("/tmp/pkg", "local paths")]
    [InlineData("..\\pkg", "local paths")]
    [InlineData("~/pkg", "local paths")]
    [InlineData(".", "local paths")]
    [InlineData("pkg-1.0-py3-none-any.whl", "wheel files")]
    [InlineData("pkg-1.0.tar.gz", "archive")]
    [InlineData("pkg.zip", "archive")]
    public void Python_refuses_options_urls_vcs_direct_references_markers_and_paths(string input, string expected)
    {
        var error = Refuse(Py, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains(expected, error);
        Assert.Contains("not allowed", error);
        Assert.Contains("e.g. 'requests'", error); // says what is accepted
    }

    [Theory]
    [InlineData("requests$(id)", "'$'")]
    [InlineData("requests`id`", "'`'")]
    [InlineData("requests|sh", "'|'")]
    [InlineData("requests&&id", "'&'")]
    [InlineData("requests>=1'", "'''")]
    [InlineData("requests\"", "'\"'")]
    [InlineData("requests#egg=x", "'#'")]
    [InlineData("requests{a,b}", "'{'")]
    [InlineData("requests?", "'?'")]
    [InlineData("requests%20", "'%'")]
    [InlineData("requests^2", "'^'")]
    public void Python_refuses_shell_metacharacters(string input, string character)
    {
        var error = Refuse(Py, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains($"the character {character} is not allowed", error);
    }

    [Theory]
    [InlineData("requests=1.0", "expected a version specifier")]
    [InlineData("requests 2.31", "expected a version specifier")]
    [InlineData("req uests", "expected a version specifier")]
    [InlineData("requests extra", "expected a version specifier")]
    [InlineData("requests==", "must be followed by a version")]
    [InlineData("requests>=1.0,", "empty")]
    [InlineData("requests>=1.0,,<2", "empty")]
    [InlineData(",requests", "must start with a package name")]
    [InlineData("==1.0", "must start with a package name")]
    [InlineData("_requests", "not a valid package name")]
    [InlineData("requests-", "not a valid package name")]
    [InlineData("requests>=1 <2", "separate version clauses with ','")]
    [InlineData("requests>=2.*", "wildcard")]
    [InlineData("requests~=2.*", "wildcard")]
    [InlineData("requests===1.*", "wildcard")]
    [InlineData("requests==1.0a1.*", "wildcard")]
    [InlineData("requests~=1", "at least two release segments")]
    [InlineData("requests~=1!2", "at least two release segments")]
    [InlineData("requests>=1.0+local", "local version labels")]
    [InlineData("requests~=1.0+local", "local version labels")]
    [InlineData("requests==1.0.x", "not a valid PEP 440 version")]
    [InlineData("requests==latest", "not a valid PEP 440 version")]
    [InlineData("requests==1.0+", "not a valid PEP 440 version")]
    [InlineData("requests==1..0", "not a valid PEP 440 version")]
    [InlineData("requests==1.0+a.*", "not a valid PEP 440 version")]
    [InlineData("requests[security", "'[' is not closed")]
    [InlineData("requests[sec urity]", "not a valid extra name")]
    [InlineData("requests[a,,b]", "empty")]
    [InlineData("requests[-a]", "not a valid extra name")]
    [InlineData("requests (>=1.0", "'(' is not closed")]
    [InlineData("requests ()", "no version specifier")]
    [InlineData("requests (>=1.0) <2", "unexpected text after ')'")]
    [InlineData("requests>=1.0[x]", "unexpected '['")]
    [InlineData("requests>=(1.0)", "unexpected '('")]
    public void Python_refuses_malformed_names_extras_and_specifiers(string input, string expected)
    {
        var error = Refuse(Py, input);
        Assert.Contains($"'{input}'", error);
        Assert.Contains(expected, error);
        Assert.Contains("is not a valid Python package requirement", error);
    }

    [Fact]
    public void Python_error_message_says_what_is_wrong_and_what_is_accepted()
    {
        Assert.Equal(
            "'git+https://x' is not a valid Python package requirement: VCS references (e.g. 'git+https://...') are not allowed. " +
            "Use a PyPI package name with optional [extras] and an optional version specifier, " +
            "e.g. 'requests', 'requests>=2.31,<3' or 'uvicorn[standard]==0.30.1'.",
            Refuse(Py, "git+https://x"));
    }

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

    // ------------------------------------------------------------------ NormalizeName

    [Theory]
    [InlineData("python", "requests", "requests")]
    [InlineData("python", "Foo_Bar.baz", "foo-bar-baz")]
    [InlineData("python", "  Requests  ", "requests")]
    [InlineData("PYTHON", "Zope.Interface", "zope-interface")]
    [InlineData("javascript", "lodash", "lodash")]
    [InlineData("javascript", " @types/node ", "@types/node")]
    [InlineData("JavaScript", "lodash.merge", "lodash.merge")]
    public void NormalizeName_returns_the_normalised_bare_name(string language, string name, string expected)
    {
        Assert.Equal(expected, PackageRequirements.NormalizeName(language, name));
    }

    [Theory]
    [InlineData("python", "")]
    [InlineData("python", "requests>=2")]
    [InlineData("python", "requests[socks]")]
    [InlineData("python", "requests[]")]
    [InlineData("python", "-e")]
    [InlineData("python", "_requests")]
    [InlineData("python", "git+https://x")]
    [InlineData("python", "pkg.whl")]
    [InlineData("python", "req uests")]
    [InlineData("javascript", "")]
    [InlineData("javascript", "React")]
    [InlineData("javascript", "react@18")]
    [InlineData("javascript", "react@latest")]
    [InlineData("javascript", "user/repo")]
    [InlineData("javascript", "file:x")]
    [InlineData("javascript", "_x")]
    [InlineData("ruby", "rails")]
    public void NormalizeName_returns_null_for_anything_but_a_valid_bare_name(string language, string name)
    {
        Assert.Null(PackageRequirements.NormalizeName(language, name));
    }

    [Fact]
    public void NormalizeName_returns_null_for_a_null_name()
    {
        Assert.Null(PackageRequirements.NormalizeName("python", null!));
    }

    [Theory]
    [InlineData(Py, "Foo_Bar>=1.0")]
    [InlineData(Py, "uvicorn[standard]==0.30.1")]
    [InlineData(Js, "@types/node@20")]
    [InlineData(Js, "react@^18.2.0")]
    public void NormalizeName_agrees_with_the_name_from_TryParse(string language, string input)
    {
        var r = Accept(language, input);
        Assert.Equal(r.Name, PackageRequirements.NormalizeName(language, r.Name));
    }
}
