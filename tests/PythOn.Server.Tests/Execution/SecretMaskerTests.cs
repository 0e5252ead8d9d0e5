using System.Text;
using PythOn.Server.Execution;

namespace PythOn.Server.Tests.Execution;

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
}
