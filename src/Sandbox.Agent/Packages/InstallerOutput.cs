using System.IO.Pipelines;
using System.Text;
using Docker.DotNet;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// Reads the install container's attached output to its end: stderr is progress, split into lines (capped in length
/// and count); stdout is the finished tree as a tar stream, passed on to <paramref name="tree"/> unchanged. Once the
/// tree's reader has stopped (it refused the stream), further stdout is read and dropped so the container never blocks.
/// </summary>
internal static class InstallerOutput
{
    private const int MaxLineChars = 1000;
    private const int MaxLines = 5000;

    public static async Task<List<string>> PumpAsync(MultiplexedStream stream, Action<string> progress, PipeWriter tree)
    {
        var lines = new List<string>();
        var buffer = new byte[64 * 1024];
        var partial = new StringBuilder();
        var decoder = new UTF8Encoding(false).GetDecoder();
        var treeOpen = true;
        void Line(string text)
        {
            text = text.TrimEnd('\r');
            if (text.Length > MaxLineChars)
                text = text[..MaxLineChars] + "…";
            if (lines.Count < MaxLines)
                lines.Add(text);
            progress(text);
        }
        while (true)
        {
            MultiplexedStream.ReadResult read;
            try
            {
                read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
            }
            catch (Exception)
            {
                break;
            }
            if (read.EOF)
                break;
            if (read.Target == MultiplexedStream.TargetStream.StandardOut)
            {
                if (treeOpen)
                    treeOpen = !(await tree.WriteAsync(buffer.AsMemory(0, read.Count))).IsCompleted;
                continue;
            }
            var chars = new char[decoder.GetCharCount(buffer, 0, read.Count)];
            decoder.GetChars(buffer, 0, read.Count, chars, 0);
            foreach (var c in chars)
            {
                if (c == '\n')
                {
                    Line(partial.ToString());
                    partial.Clear();
                }
                else if (partial.Length < 4 * MaxLineChars)
                {
                    partial.Append(c);
                }
            }
        }
        if (partial.Length > 0)
            Line(partial.ToString());
        return lines;
    }
}
