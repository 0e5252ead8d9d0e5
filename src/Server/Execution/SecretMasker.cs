using System.Text;

namespace PythOn.Server.Execution;

/// <summary>
/// Replaces secret values in one output stream with "***", across chunk boundaries, in time linear in the output
/// whatever the number of secrets or the chunking: an Aho–Corasick automaton over the secrets reads each character
/// once. Only a tail that is a prefix of some secret is held back (so a stream with secrets set is as live as one
/// without), overlapping or nested matches are masked as one span, and at the end of a stream cut at the output
/// cap a held-back secret prefix is masked rather than emitted. Bytes are decoded statefully, so a UTF-8 character
/// split between chunks is not mangled.
/// </summary>
public sealed class SecretMasker
{
    public const string Mask = "***";
    /// <summary>Shorter values cannot be masked without destroying ordinary output; PutSecret refuses them.</summary>
    public const int MinMaskedLength = 3;

    private readonly SecretAutomaton? _automaton;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    // Characters read but not yet emitted, and the masked spans among them (absolute positions, ascending).
    private readonly StringBuilder _pending = new();
    private readonly List<(long Start, long End)> _spans = [];
    private long _pendingStart; // absolute position of _pending[0]
    private int _state;
    private char[] _chars = new char[256];

    public SecretMasker(IEnumerable<string> secretValues)
    {
        var secrets = secretValues.Where(s => s.Length >= MinMaskedLength).Distinct().ToArray();
        _automaton = secrets.Length == 0 ? null : new SecretAutomaton(secrets);
    }

    /// <summary>Feeds raw output bytes; returns the text that is safe to emit now (may be empty).</summary>
    public string Push(ReadOnlySpan<byte> bytes) => Drain(Decode(bytes, flush: false), final: false, truncated: false);

    /// <summary>Everything still held back, masked; call once at the end of the stream. <paramref name="truncated"/>:
    /// the stream was cut at the output cap, so a held-back prefix of a secret is masked too.</summary>
    public string Flush(bool truncated = false) => Drain(Decode([], flush: true), final: true, truncated);

    /// <summary>Masks a complete text in one go.</summary>
    public string MaskAll(string text) => _automaton is null ? text : new SecretMasker(_automaton).Drain(text, final: true, truncated: false);

    private SecretMasker(SecretAutomaton automaton) => _automaton = automaton;

    private ReadOnlySpan<char> Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        var count = _decoder.GetCharCount(bytes, flush);
        if (count > _chars.Length) _chars = new char[Math.Max(count, _chars.Length * 2)];
        var written = _decoder.GetChars(bytes, _chars, flush);
        return _chars.AsSpan(0, written);
    }

    private string Drain(ReadOnlySpan<char> chars, bool final, bool truncated)
    {
        if (_automaton is null)
            return chars.ToString();
        foreach (var c in chars)
        {
            _state = _automaton.Next(_state, c);
            _pending.Append(c);
            var length = _automaton.LongestMatch(_state);
            if (length == 0) continue;
            long end = _pendingStart + _pending.Length; // exclusive
            AddSpan(end - length, end);
        }

        long processed = _pendingStart + _pending.Length;
        long boundary;
        if (final)
        {
            if (truncated && _automaton.Depth(_state) > 0)
            {
                // The cap cut the stream inside what may be a secret: mask that tail rather than show its prefix.
                AddSpan(processed - _automaton.Depth(_state), processed);
            }
            boundary = processed;
            _state = 0;
        }
        else
        {
            // A future match can only start inside the tail that is a prefix of some secret; a span reaching into
            // that tail may still grow by merging, so it is held back whole too.
            boundary = processed - _automaton.Depth(_state);
            foreach (var span in _spans)
                if (span.End > boundary) { boundary = Math.Min(boundary, span.Start); break; }
        }
        // Never split a surrogate pair between what is emitted and what is held, nor a masked span.
        if (boundary > _pendingStart && boundary < processed && char.IsHighSurrogate(_pending[(int)(boundary - _pendingStart - 1)]))
            boundary--;
        foreach (var span in _spans)
            if (span.Start < boundary && span.End > boundary) { boundary = span.Start; break; }
        return Emit(boundary);
    }

    /// <summary>Adds a masked span, merged with every span it overlaps: overlapping secrets are one masked span.</summary>
    private void AddSpan(long start, long end)
    {
        while (_spans.Count > 0 && _spans[^1].End > start)
        {
            start = Math.Min(start, _spans[^1].Start);
            _spans.RemoveAt(_spans.Count - 1);
        }
        _spans.Add((start, end));
    }

    private string Emit(long boundary)
    {
        if (boundary <= _pendingStart) return "";
        var output = new StringBuilder((int)(boundary - _pendingStart));
        var at = _pendingStart;
        var used = 0;
        foreach (var (start, end) in _spans)
        {
            if (end > boundary) break;
            output.Append(_pending, (int)(at - _pendingStart), (int)(start - at)).Append(Mask);
            at = end;
            used++;
        }
        output.Append(_pending, (int)(at - _pendingStart), (int)(boundary - at));
        _spans.RemoveRange(0, used);
        var emitted = (int)(boundary - _pendingStart);
        _pending.Remove(0, emitted);
        _pendingStart += emitted;
        return output.ToString();
    }
}

/// <summary>Aho–Corasick automaton over the secret values: a trie with failure links (following them is amortised
/// O(1) per character: each step back loses depth that a character added). Per state: its depth (the longest tail of
/// the text that is a prefix of a secret) and the longest secret that ends there.</summary>
internal sealed class SecretAutomaton
{
    private readonly List<Dictionary<char, int>> _children = [];
    private readonly List<int> _depth = [];
    private readonly List<int> _longest = [];
    private readonly int[] _fail;

    public SecretAutomaton(IEnumerable<string> secrets)
    {
        NewState(0);
        foreach (var secret in secrets)
        {
            var state = 0;
            foreach (var c in secret)
            {
                if (!_children[state].TryGetValue(c, out var to))
                {
                    to = NewState(_depth[state] + 1);
                    _children[state][c] = to;
                }
                state = to;
            }
            _longest[state] = Math.Max(_longest[state], secret.Length);
        }
        // Breadth first, so a state's failure target (shallower) is complete before the state.
        _fail = new int[_children.Count];
        var queue = new Queue<int>(_children[0].Values);
        while (queue.Count > 0)
        {
            var state = queue.Dequeue();
            _longest[state] = Math.Max(_longest[state], _longest[_fail[state]]);
            foreach (var (c, child) in _children[state])
            {
                _fail[child] = Next(_fail[state], c);
                queue.Enqueue(child);
            }
        }
    }

    private int NewState(int depth)
    {
        _children.Add([]);
        _depth.Add(depth);
        _longest.Add(0);
        return _children.Count - 1;
    }

    public int Next(int state, char c)
    {
        while (true)
        {
            if (_children[state].TryGetValue(c, out var to)) return to;
            if (state == 0) return 0;
            state = _fail[state];
        }
    }

    public int Depth(int state) => _depth[state];

    public int LongestMatch(int state) => _longest[state];
}
