using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// Frames a job for the in-container runner (protocol: runtime/README.md):
/// "&lt;job_len&gt; &lt;zk_len&gt; &lt;end_len&gt;\n", the job JSON, the optional ZK JSON, the end key (may be
/// empty), then the program's stdin bytes.
/// </summary>
public static class JobEncoder
{
    public static byte[] Encode(RunRequest request, ReadOnlySpan<byte> endKey)
    {
        var job = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(job))
        {
            w.WriteStartObject();
            w.WriteString("code", request.Zk is null ? request.Code : "");
            w.WriteStartArray("args");
            foreach (var a in request.Args)
                w.WriteStringValue(a);
            w.WriteEndArray();
            w.WriteStartObject("env");
            foreach (var (k, v) in request.Env)
                w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("package_stores");
            foreach (var store in request.PackageStores)
                w.WriteStringValue(store);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        var zk = new ArrayBufferWriter<byte>();
        if (request.Zk is { } z)
        {
            using var w = new Utf8JsonWriter(zk);
            w.WriteStartObject();
            w.WriteStartObject("payload");
            w.WriteNumber("v", z.V);
            w.WriteString("salt", z.Salt);
            w.WriteString("nonce", z.Nonce);
            w.WriteString("ciphertext", z.Ciphertext);
            w.WriteEndObject();
            w.WriteString("master_password", z.MasterPassword);
            w.WriteEndObject();
        }

        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{job.WrittenCount} {zk.WrittenCount} {endKey.Length}\n"));
        var stdin = request.Stdin.Span;
        var frame = new byte[header.Length + job.WrittenCount + zk.WrittenCount + endKey.Length + stdin.Length];
        var span = frame.AsSpan();
        header.CopyTo(span);
        job.WrittenSpan.CopyTo(span[header.Length..]);
        zk.WrittenSpan.CopyTo(span[(header.Length + job.WrittenCount)..]);
        endKey.CopyTo(span[(header.Length + job.WrittenCount + zk.WrittenCount)..]);
        stdin.CopyTo(span[(header.Length + job.WrittenCount + zk.WrittenCount + endKey.Length)..]);
        // The intermediate buffers held secrets; the frame is zeroed by the caller once sent.
        job.Clear();
        zk.Clear();
        return frame;
    }
}
