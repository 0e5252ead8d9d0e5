using PythOn.Server.Packages;
using static PythOn.Server.Tests.Packages.Requirements;

namespace PythOn.Server.Tests.Packages;

/// <summary>Python requirements (a PEP 508 subset): what is accepted in which canonical form, what is refused and why.</summary>
[Trait(Tier.Name, Tier.Fast)]
public class PythonRequirementTests
{
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
}
