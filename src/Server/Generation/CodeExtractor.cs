using System.Text;
using System.Text.RegularExpressions;
using PythOn.Api.Languages;

namespace PythOn.Server.Generation;

/// <summary>The program and the prose around it, taken from a model's reply.</summary>
public sealed record ExtractedReply(string? Code, string Explanation);

/// <summary>
/// Finds the program in a model's reply: fenced blocks opened by ``` or ~~~ (three or more, optionally indented up to
/// three spaces, closed by a fence of the same character at least as long), CRLF or LF line ends, and a last block
/// whose closing fence is missing. Prefers a block tagged with the requested language (python/py/python3,
/// javascript/js/node/mjs/cjs), then an untagged block, then any block not tagged as another language; among
/// equals the longest wins. The explanation is the prose outside the blocks.
/// </summary>
public static partial class CodeExtractor
{
    private sealed record Block(string Tag, string Code, int Start, int End);

    public static ExtractedReply Extract(string? reply, string language)
    {
        var text = (reply ?? "").Replace("\r\n", "\n").Replace('\r', '\n');
        var blocks = Blocks(text);

        Block? best = null;
        var bestRank = int.MaxValue;
        foreach (var block in blocks)
        {
            if (block.Code.Trim().Length == 0) continue;
            var rank = Rank(block.Tag, language);
            if (rank < 0) continue;
            if (rank < bestRank || (rank == bestRank && block.Code.Length > best!.Code.Length))
            {
                best = block;
                bestRank = rank;
            }
        }

        var prose = new StringBuilder();
        var at = 0;
        foreach (var block in blocks)
        {
            prose.Append(text, at, block.Start - at).Append('\n');
            at = block.End;
        }
        prose.Append(text, at, text.Length - at);
        return new ExtractedReply(best?.Code, Tidy(prose.ToString()));
    }

    /// <summary>0 for the requested language, 1 for no tag, 2 for an unknown tag, -1 for another known language.</summary>
    private static int Rank(string tag, string language)
    {
        var lang = TagLanguage(tag);
        if (lang == language) return 0;
        if (tag.Length == 0) return 1;
        return lang is null ? 2 : -1;
    }

    private static string? TagLanguage(string tag) => tag.ToLowerInvariant() switch
    {
        "" => null,
        // A language's name or alias, or one of its file extensions ("mjs").
        var known when (LanguageRegistry.Find(known) ?? LanguageRegistry.FromExtension(known)) is { } language => language.Name,
        // Languages a model might also show (a shell command, the expected output): never the program.
        "bash" or "sh" or "shell" or "console" or "text" or "plaintext" or "output" or "json" or "typescript" or "ts"
            or "java" or "c" or "cpp" or "csharp" or "go" or "rust" or "ruby" or "sql" or "html" or "css" or "yaml" => "other:" + tag,
        _ => null,
    };

    private static List<Block> Blocks(string text)
    {
        var blocks = new List<Block>();
        var lines = LineStarts(text);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = LineAt(text, lines, i);
            var open = Fence().Match(line);
            if (!open.Success) continue;
            var fence = open.Groups["fence"].Value;
            var tag = open.Groups["info"].Value.Trim().Split(' ', '\t', '{')[0].Trim();
            if (fence[0] == '`' && tag.Contains('`')) continue; // ``` inside an inline code span is not a fence

            var code = new StringBuilder();
            var end = text.Length;
            var j = i + 1;
            for (; j < lines.Count; j++)
            {
                var inner = LineAt(text, lines, j);
                var close = Fence().Match(inner);
                if (close.Success && close.Groups["info"].Value.Trim().Length == 0
                    && close.Groups["fence"].Value[0] == fence[0] && close.Groups["fence"].Value.Length >= fence.Length)
                {
                    end = j + 1 < lines.Count ? lines[j + 1] : text.Length;
                    break;
                }
                code.Append(inner).Append('\n');
            }
            blocks.Add(new Block(tag, code.ToString(), lines[i], end));
            i = j;
        }
        return blocks;
    }

    private static List<int> LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n' && i + 1 < text.Length) starts.Add(i + 1);
        return starts;
    }

    private static string LineAt(string text, List<int> starts, int index)
    {
        var start = starts[index];
        var end = index + 1 < starts.Count ? starts[index + 1] - 1 : text.Length;
        if (end > start && text[end - 1] == '\n') end--;
        return text[start..Math.Max(start, end)];
    }

    private static string Tidy(string prose)
    {
        var paragraphs = BlankLines().Split(prose.Trim())
            .Select(p => p.Trim())
            .Where(p => p.Length > 0);
        return string.Join("\n\n", paragraphs);
    }

    [GeneratedRegex(@"^ {0,3}(?<fence>`{3,}|~{3,})(?<info>.*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex BlankLines();
}
