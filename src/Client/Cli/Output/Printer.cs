using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace PythOn.Cli.Output;

/// <summary>Writes results: proto3 JSON with --json, aligned tables and key/value lines otherwise.</summary>
public static class Printer
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>UTF-8 stdout, flushed on every write (runs stream through it).</summary>
    public static readonly TextWriter Out = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };

    /// <summary>UTF-8 stderr, flushed on every write.</summary>
    public static readonly TextWriter Err = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };

    /// <summary>Writes a message as proto3 JSON on one line.</summary>
    public static void Json(IMessage message) => Out.WriteLine(Formatter.Format(message));

    /// <summary>Writes raw JSON text on one line.</summary>
    public static void JsonText(string json) => Out.WriteLine(json);

    /// <summary>Writes rows under headers, columns padded to their widest cell; an empty table says "(none)".</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string empty = "(none)")
    {
        var all = rows.ToList();
        if (all.Count == 0)
        {
            Out.WriteLine(empty);
            return;
        }
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in all)
            for (var i = 0; i < widths.Length; i++) widths[i] = Math.Max(widths[i], Cell(row, i).Length);

        Out.WriteLine(Line(headers, widths));
        foreach (var row in all) Out.WriteLine(Line(row, widths));
    }

    /// <summary>Writes "key  value" lines with the keys aligned.</summary>
    public static void Pairs(IEnumerable<(string Key, string Value)> pairs)
    {
        var list = pairs.ToList();
        var width = list.Count == 0 ? 0 : list.Max(p => p.Key.Length);
        foreach (var (key, value) in list) Out.WriteLine($"{(key + ":").PadRight(width + 1)}  {value}");
    }

    /// <summary>A timestamp as "yyyy-MM-dd HH:mm:ssZ" (UTC), or "-".</summary>
    public static string Time(Timestamp? time) =>
        time is null ? "-" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string Cell(IReadOnlyList<string> row, int i) => i < row.Count ? Clean(row[i]) : "";

    // One line per row, whatever the server sent.
    private static string Clean(string text) => text.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ');

    private static string Line(IReadOnlyList<string> row, int[] widths)
    {
        var text = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = Cell(row, i);
            text.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }
        return text.ToString().TrimEnd();
    }
}
