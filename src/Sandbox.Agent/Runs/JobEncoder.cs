using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Runs;

/// <summary>
/// The payload of a job frame (runtime/README.md, "Job frame"): the supervisor's run parameter, the output cap per
/// stream it enforces (8 bytes, big endian; nothing secret), then what only the run sandbox reads: its init's header
/// line "1 ZK_LENGTH STORE...", the zero-knowledge request for the decryptor ({"payload", "master_password"};
/// ZK_LENGTH bytes, none without one), then the program's job JSON {"code", "args", "env", "package_stores"}.
/// Stdin travels separately, in stdin frames.
/// </summary>
public static class JobEncoder
{
    private const int ParametersLength = 8;

    public static byte[] Encode(RunRequest request, int maxOutputBytes)
    {
        var job = new ArrayBufferWriter<byte>();
        var zkLength = 0;
        if (request.Zk is { } z)
        {
            using var w = new Utf8JsonWriter(job);
            w.WriteStartObject();
            w.WriteStartObject("payload");
            w.WriteNumber("v", z.V);
            w.WriteString("salt", z.Salt);
            w.WriteString("nonce", z.Nonce);
            w.WriteString("ciphertext", z.Ciphertext);
            w.WriteEndObject();
            w.WriteString("master_password", z.MasterPassword);
            w.WriteEndObject();
            w.Flush();
            zkLength = job.WrittenCount;
        }
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
        // Store ids are checked where the request is validated; init checks them again before it binds one.
        var header = Encoding.ASCII.GetBytes($"1 {zkLength}{string.Concat(request.PackageStores.Select(s => " " + s))}\n");

        var payload = new byte[ParametersLength + header.Length + job.WrittenCount];
        BinaryPrimitives.WriteUInt64BigEndian(payload, (ulong)maxOutputBytes);
        header.CopyTo(payload, ParametersLength);
        job.WrittenSpan.CopyTo(payload.AsSpan(ParametersLength + header.Length));
        // The intermediate buffer held secrets; the payload is zeroed by the caller once sent.
        job.Clear();
        return payload;
    }
}
