using PythOn.Server.Packages;
using static PythOn.Server.Tests.Packages.Requirements;

namespace PythOn.Server.Tests.Packages;

/// <summary>Languages, limits and characters common to both parsers, and NormalizeName.</summary>
[Trait(Tier.Name, Tier.Fast)]
public class PackageRequirementTests
{
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
    public void Language_is_matched_case_insensitively_and_normalised_to_lower_case(string language, string expected)
    {
        var input = expected == Py ? "requests" : "lodash";
        Assert.Equal(expected, Accept(language, input).Language);
    }

    [Theory]
    [InlineData("ruby")]
    [InlineData("py")]
    [InlineData("js")]
    [InlineData("node")]
    [InlineData("")]
    [InlineData(" python")]
    [InlineData("python ")]
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
