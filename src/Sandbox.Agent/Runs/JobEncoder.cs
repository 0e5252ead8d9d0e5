using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// The payload of a job frame (runtime/README.md): a 4-byte big-endian length, the supervisor's run parameters
/// as JSON (limits it enforces; nothing secret), then the job JSON that only the run sandbox reads:
/// {"code", "args", "env", "package_stores", "zk"?}. Stdin travels separately, in stdin frames.
/// </summary>
public static class JobEncoder
{
    public static byte[] Encode(RunRequest request, int maxOutputBytes)
    {
        var parameters = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, long> { ["max_output"] = maxOutputBytes });
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
            if (request.Zk is { } z)
            {
                w.WriteStartObject("zk");
                w.WriteStartObject("payload");
                w.WriteNumber("v", z.V);
                w.WriteString("salt", z.Salt);
                w.WriteString("nonce", z.Nonce);
                w.WriteString("ciphertext", z.Ciphertext);
                w.WriteEndObject();
                w.WriteString("master_password", z.MasterPassword);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }

        var payload = new byte[4 + parameters.Length + job.WrittenCount];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)parameters.Length);
        parameters.CopyTo(payload, 4);
        job.WrittenSpan.CopyTo(payload.AsSpan(4 + parameters.Length));
        // The intermediate buffer held secrets; the payload is zeroed by the caller once sent.
        job.Clear();
        return payload;
    }
}
