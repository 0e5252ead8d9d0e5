using PythOn.Server.Generation;

namespace PythOn.Server.Tests.Generation;

[Trait(Tier.Name, Tier.Fast)]
public sealed class CodeExtractorTests
{
    [Fact]
    public void Takes_the_block_tagged_with_the_requested_language_and_the_prose_as_explanation()
    {
        var reply = "Install nothing, then run:\n\n```bash\npython3 main.py\n```\n\n```python\nimport sys\nprint(sys.version)\n```\n\nIt prints the version.";
        var extracted = CodeExtractor.Extract(reply, "python");
        Assert.Equal("import sys\nprint(sys.version)\n", extracted.Code);
        Assert.Equal("Install nothing, then run:\n\nIt prints the version.", extracted.Explanation);
    }

    [Theory]
    [InlineData("py", "python")]
    [InlineData("Python", "python")]
    [InlineData("python3", "python")]
    [InlineData("js", "javascript")]
    [InlineData("node", "javascript")]
    [InlineData("javascript", "javascript")]
    public void Accepts_language_aliases(string tag, string language)
    {
        var extracted = CodeExtractor.Extract($"```{tag}\nx = 1\n```", language);
        Assert.Equal("x = 1\n", extracted.Code);
    }

    [Fact]
    public void Prefers_the_requested_language_over_an_untagged_block_and_never_takes_another_language()
    {
        var reply = "```\nexpected output\n```\n```javascript\nconsole.log(1)\n```\n```py\nprint(1)\n```";
        Assert.Equal("print(1)\n", CodeExtractor.Extract(reply, "python").Code);
        Assert.Equal("console.log(1)\n", CodeExtractor.Extract(reply, "javascript").Code);
        Assert.Null(CodeExtractor.Extract("```javascript\nconsole.log(1)\n```", "python").Code);
    }

    [Fact]
    public void Takes_an_untagged_block_when_there_is_no_tagged_one()
    {
        Assert.Equal("print(2)\n", CodeExtractor.Extract("Here:\n```\nprint(2)\n```\nDone.", "python").Code);
    }

    [Fact]
    public void Reads_tilde_fences_and_crlf_line_ends()
    {
        var extracted = CodeExtractor.Extract("Program:\r\n~~~python\r\nprint('a')\r\nprint('b')\r\n~~~\r\nPrints two lines.\r\n", "python");
        Assert.Equal("print('a')\nprint('b')\n", extracted.Code);
        Assert.Equal("Program:\n\nPrints two lines.", extracted.Explanation);
    }

    [Fact]
    public void Tolerates_a_missing_closing_fence_at_the_end()
    {
        var extracted = CodeExtractor.Extract("Sure.\n```python\nfor i in range(3):\n    print(i)\n", "python");
        Assert.Equal("for i in range(3):\n    print(i)\n", extracted.Code);
        Assert.Equal("Sure.", extracted.Explanation);
    }

    [Fact]
    public void A_longer_fence_holds_shorter_fences_inside()
    {
        var reply = "````python\ndoc = \"\"\"\n```\nnot a fence\n```\n\"\"\"\nprint(doc)\n````\n";
        Assert.Equal("doc = \"\"\"\n```\nnot a fence\n```\n\"\"\"\nprint(doc)\n", CodeExtractor.Extract(reply, "python").Code);
    }

    [Fact]
    public void Keeps_indentation_and_takes_the_longest_of_equal_candidates()
    {
        var reply = "```python\nprint(1)\n```\nor better:\n```python\ndef main():\n    print(1)\n\nmain()\n```";
        Assert.Equal("def main():\n    print(1)\n\nmain()\n", CodeExtractor.Extract(reply, "python").Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("I can't help with that.")]
    [InlineData("Use `print()` inline, there is no block here.")]
    [InlineData("```python\n\n   \n```")]
    public void No_code_when_there_is_no_non_empty_block(string? reply)
    {
        Assert.Null(CodeExtractor.Extract(reply, "python").Code);
    }

    [Fact]
    public void Without_code_the_whole_reply_is_the_explanation()
    {
        Assert.Equal("I need to know the file name.", CodeExtractor.Extract("  I need to know the file name.\n", "python").Explanation);
    }
}
