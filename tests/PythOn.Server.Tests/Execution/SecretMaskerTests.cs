using System.Text;
using PythOn.Server.Execution;

namespace PythOn.Server.Tests.Execution;

[Trait(Tier.Name, Tier.Fast)]
public class SecretMaskerTests
{
    private static string Run(SecretMasker masker, params string[] chunks)
    {
        var output = new StringBuilder();
        foreach (var chunk in chunks) output.Append(masker.Push(Encoding.UTF8.GetBytes(chunk)));
        return output.Append(masker.Flush()).ToString();
    }

    [Fact]
    public void A_secret_inside_one_chunk_is_masked() =>
        Assert.Equal("token=***\n", Run(new SecretMasker(["hunter22"]), "token=hunter22\n"));

    [Fact]
    public void A_secret_split_across_chunks_is_masked() =>
        Assert.Equal("a *** b", Run(new SecretMasker(["hunter22"]), "a hun", "te", "r22 b"));

    [Fact]
    public void Text_that_only_starts_like_a_secret_is_emitted_unchanged() =>
        Assert.Equal("hunter2 and hunt", Run(new SecretMasker(["hunter22"]), "hunter2 and ", "hunt"));

    [Fact]
    public void The_longer_of_two_overlapping_secrets_is_masked_whole() =>
        Assert.Equal("*** ***", Run(new SecretMasker(["abc", "abcdef"]), "abcdef abc"));

    [Fact]
    public void Very_short_values_are_not_masked() =>
        Assert.Equal("1 2 ab", Run(new SecretMasker(["1", "ab"]), "1 2 ab"));

    [Fact]
    public void A_multibyte_character_split_between_chunks_survives()
    {
        var masker = new SecretMasker(["zzzz"]);
        var bytes = Encoding.UTF8.GetBytes("grüße 😀");
        var output = new StringBuilder();
        foreach (var b in bytes) output.Append(masker.Push([b]));
        Assert.Equal("grüße 😀", output.Append(masker.Flush()).ToString());
    }

    [Fact]
    public void Output_is_released_as_soon_as_it_cannot_start_a_secret()
    {
        var masker = new SecretMasker(["secret-value"]);
        var first = masker.Push(Encoding.UTF8.GetBytes("hello world, this is a long line\n"));
        Assert.StartsWith("hello world", first);
    }

    [Fact]
    public void Output_that_is_no_prefix_of_any_secret_is_released_at_once_even_with_a_long_secret()
    {
        // The streaming bug: with a 35-character secret, "first\n" used to wait for 34 more characters.
        var masker = new SecretMasker([new string('k', 35)]);
        Assert.Equal("first\n", masker.Push(Encoding.UTF8.GetBytes("first\n")));
    }

    [Fact]
    public void Only_the_tail_that_could_begin_a_secret_is_held_back()
    {
        var masker = new SecretMasker(["hunter22"]);
        Assert.Equal("log: ", masker.Push(Encoding.UTF8.GetBytes("log: hun")));
        Assert.Equal("hunt!", masker.Push(Encoding.UTF8.GetBytes("t!")));
    }

    [Fact]
    public void Overlapping_secrets_are_masked_as_one_span() =>
        Assert.Equal("x *** y", Run(new SecretMasker(["abcd", "cdef"]), "x abcdef y"));

    [Fact]
    public void A_secret_nested_in_another_is_masked_with_it() =>
        Assert.Equal("[***]", Run(new SecretMasker(["cde", "abcdefg"]), "[abcdefg]"));

    [Fact]
    public void Adjacent_secrets_are_both_masked() =>
        Assert.Equal("******", Run(new SecretMasker(["abc", "xyz"]), "abcxyz"));

    [Fact]
    public void Every_chunking_of_the_same_output_gives_the_same_masked_text()
    {
        string[] secrets = ["s3cr3t-value", "another-one", "lue-ano", "zzz"];
        var text = "begin s3cr3t-value another-one s3cr3t-valuelue-another-one zz zzz end s3cr3t";
        var whole = Run(new SecretMasker(secrets), text);
        Assert.DoesNotContain("s3cr3t-value", whole);
        Assert.DoesNotContain("another-one", whole);
        for (var size = 1; size <= 7; size++)
        {
            var chunks = Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - i * size))).ToArray();
            Assert.Equal(whole, Run(new SecretMasker(secrets), chunks));
        }
    }

    [Fact]
    public void A_stream_cut_at_the_cap_inside_a_secret_does_not_end_with_its_prefix()
    {
        var masker = new SecretMasker(["hunter22"]);
        var output = masker.Push(Encoding.UTF8.GetBytes("token=hunte")) + masker.Flush(truncated: true);
        Assert.Equal("token=***", output);
    }

    [Fact]
    public void A_stream_that_ends_normally_keeps_text_that_merely_starts_like_a_secret()
    {
        var masker = new SecretMasker(["hunter22"]);
        Assert.Equal("token=hunte", masker.Push(Encoding.UTF8.GetBytes("token=hunte")) + masker.Flush());
    }

    [Fact]
    public void MaskAll_masks_every_occurrence() =>
        Assert.Equal("*** and ***", new SecretMasker(["hunter22"]).MaskAll("hunter22 and hunter22"));
}
