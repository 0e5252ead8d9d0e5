// Masking cost per output byte (PythOn.Server's SecretMasker, the code every run's output goes through), for 1 to
// 100 secrets of 35 characters and chunks of 16 bytes to 64 KiB, as ratios against one secret in 64 KiB chunks
// measured in the same run. Linear masking keeps every ratio near 1: the cost must not grow with the secrets or the
// chunking. Output is 8 MiB of text with secret prefixes (the hard case for hold-back) and a few whole secrets.
using System.Diagnostics;
using System.Text;
using PythOn.Server.Execution;

var random = new Random(42);
string Secret() => new(Enumerable.Range(0, 35).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray());
var secrets = Enumerable.Range(0, 100).Select(_ => Secret()).ToArray();
var text = new StringBuilder();
while (text.Length < 8 << 20)
{
    var s = secrets[random.Next(secrets.Length)];
    text.Append("line ").Append(random.Next()).Append(' ').Append(s, 0, random.Next(1, 34)).Append('\n');
    if (random.Next(50) == 0) text.Append(s).Append('\n');
}
var output = Encoding.UTF8.GetBytes(text.ToString());

double NsPerByte(int secretCount, int chunk)
{
    var best = double.MaxValue;
    for (var round = 0; round < 3; round++)
    {
        var masker = new SecretMasker(secrets.Take(secretCount));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long emitted = 0;
        for (var offset = 0; offset < output.Length; offset += chunk)
            emitted += masker.Push(output.AsSpan(offset, Math.Min(chunk, output.Length - offset))).Length;
        emitted += masker.Flush().Length;
        var ns = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / output.Length;
        best = Math.Min(best, ns);
        if (emitted == 0) throw new InvalidOperationException("nothing emitted");
    }
    return best;
}

NsPerByte(1, 65536); // warm-up (JIT)
var baseline = NsPerByte(1, 65536);
Console.WriteLine($"secret masking, {output.Length >> 20} MiB of output: baseline 1 secret, 64 KiB chunks = {baseline:F1} ns CPU per byte");
Console.WriteLine($"{"secrets",8} {"chunk",8} {"ns/byte",9} {"ratio",7}");
foreach (var count in new[] { 1, 10, 100 })
    foreach (var chunk in new[] { 16, 1024, 65536 })
    {
        var ns = NsPerByte(count, chunk);
        Console.WriteLine($"{count,8} {chunk,8} {ns,9:F1} {ns / baseline,6:F2}x");
    }
