using System.Text;

namespace PythOn.Server.Execution;

/// <summary>
/// Replaces exact secret values in one output stream with "***", across chunk boundaries: it holds back the
/// last (longest secret − 1) characters until more output or the end shows they are not the start of a secret.
/// Bytes are decoded statefully, so a UTF-8 character split between chunks is not mangled.
/// </summary>
public sealed class SecretMasker
{
    public const string Mask = "***";
    /// <summary>Shorter values are not masked: masking "1" or "ab" would destroy ordinary output.</summary>
    public const int MinMaskedLength = 3;

    private readonly string[] _secrets;
    private readonly int _holdBack;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _pending = new();

    public SecretMasker(IEnumerable<string> secretValues)
    {
        // Longest first, so a secret that contains another is masked whole.
        _secrets = secretValues.Where(s => s.Length >= MinMaskedLength).Distinct().OrderByDescending(s => s.Length).ToArray();
        _holdBack = _secrets.Length == 0 ? 0 : _secrets[0].Length - 1;
    }

    /// <summary>Feeds raw output bytes; returns the text that is safe to emit now (may be empty).</summary>
    public string Push(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
        _decoder.GetChars(bytes, chars, flush: false);
        _pending.Append(chars);
        return Drain(final: false);
    }

    /// <summary>Everything still held back, masked; call once at the end of the stream.</summary>
    public string Flush()
    {
        var chars = new char[_decoder.GetCharCount([], flush: true)];
        _decoder.GetChars([], chars, flush: true);
        _pending.Append(chars);
        return Drain(final: true);
    }

    /// <summary>Masks a complete text in one go.</summary>
    public string MaskAll(string text)
    {
        foreach (var secret in _secrets) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return text;
    }

    private string Drain(bool final)
    {
        var text = MaskAll(_pending.ToString());
        var emit = final ? text.Length : Math.Max(0, text.Length - _holdBack);
        // Never split a surrogate pair between what is emitted and what is held.
        if (emit > 0 && emit < text.Length && char.IsHighSurrogate(text[emit - 1])) emit--;
        _pending.Clear().Append(text, emit, text.Length - emit);
        return text[..emit];
    }
}
